/* SPDX-License-Identifier: MIT */
/*
 * bus_loop with a real dbus-daemon (bus-loop-harness.h): detaching and
 * attaching again, detaching or dropping a connection from its own
 * handler, and the bus going away.
 */
#include "bus-loop-harness.h"

#include <errno.h>

/* --- detach --- */

static void test_detach(struct fixture *f, const void *data)
{
	struct call call = {0};
	g_autoptr(DBusPendingCall) pending = NULL;
	struct context_state s;

	(void)data;
	/* A pending call owns a DBusTimeout, so there is a timer to remove. */
	pending = call_start(f, "Ignore", "", 60000, &call);
	RUN_UNTIL(f, f->ignored_calls == 1);
	s = context_state(f->context);
	g_assert_cmpint(s.n_fds, ==, 3);
	g_assert_cmpint(s.timeout, >, 0);

	bus_loop_detach(f->a);
	bus_loop_detach(f->b);
	s = context_state(f->context);
	g_assert_false(s.ready);
	g_assert_cmpint(s.n_fds, ==, 1);
	g_assert_cmpint(s.timeout, ==, -1);
	g_assert_false(g_main_context_pending(f->context));

	/* Detaching twice is harmless; attaching again works once. */
	bus_loop_detach(f->a);
	g_assert_cmpint(bus_loop_attach(f->a, f->context), ==, 0);
	g_assert_cmpint(bus_loop_attach(f->a, f->context), ==, -EALREADY);
	g_assert_cmpint(bus_loop_attach(f->a, NULL), ==, -EALREADY);
	g_assert_cmpint(bus_loop_attach(f->b, f->context), ==, 0);
	assert_echo(f, "after re-attach");

	dbus_pending_call_cancel(pending);
	g_assert_false(call.done);
	bus_loop_detach(f->a);
	bus_loop_detach(f->b);
	assert_settles(f->context, 1);
}

static void test_detach_in_handler(struct fixture *f, const void *data)
{
	(void)data;
	subscribe_ticks(f->b);
	f->detach_on_tick = true;
	send_tick(f, 0);
	send_tick(f, 1);
	send_tick(f, 2);
	RUN_UNTIL(f, f->ticks == 1);
	/* Only A is attached now. A round trip of A through the bus gives
	 * B's ticks time to arrive; they must stay queued. */
	bus_round_trip(f);
	g_assert_cmpuint(f->ticks, ==, 1);

	f->detach_on_tick = false;
	g_assert_cmpint(bus_loop_attach(f->b, f->context), ==, 0);
	RUN_UNTIL(f, f->ticks == 3);
	g_assert_false(f->ticks_out_of_order);
}

static void test_unref_in_handler(struct fixture *f, const void *data)
{
	(void)data;
	subscribe_ticks(f->b);
	f->close_on_tick = true;
	send_tick(f, 0);
	send_tick(f, 1);
	RUN_UNTIL(f, f->b == NULL);
	g_assert_cmpuint(f->ticks, ==, 1);
	/* B's sources went with it; A still works. */
	assert_settles(f->context, 2);
	bus_round_trip(f);
}

/* --- the bus goes away --- */

static void test_bus_gone(struct fixture *f, const void *data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	g_subprocess_force_exit(f->daemon);
	g_assert_true(g_subprocess_wait(f->daemon, NULL, &error));
	g_assert_no_error(error);
	g_clear_object(&f->daemon);

	RUN_UNTIL(f, f->a_disconnected && f->b_disconnected);
	g_assert_false(dbus_connection_get_is_connected(f->a));
	g_assert_false(dbus_connection_get_is_connected(f->b));
	/* libdbus removed the watches of the dead sockets: nothing spins on
	 * a hung-up fd. */
	assert_settles(f->context, 1);
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	g_test_add("/bus-loop/detach", struct fixture, GINT_TO_POINTER(CONTEXT_PRIVATE), setup,
	           test_detach, teardown);
	g_test_add("/bus-loop/detach-in-handler", struct fixture, GINT_TO_POINTER(CONTEXT_PRIVATE),
	           setup, test_detach_in_handler, teardown);
	g_test_add("/bus-loop/unref-in-handler", struct fixture, GINT_TO_POINTER(CONTEXT_PRIVATE),
	           setup, test_unref_in_handler, teardown);
	g_test_add("/bus-loop/bus-gone", struct fixture, GINT_TO_POINTER(CONTEXT_PRIVATE), setup,
	           test_bus_gone, teardown);
	ret = g_test_run();
	/* Frees libdbus's global state, so that valgrind sees no leaks. */
	dbus_shutdown();
	return ret;
}
