/* SPDX-License-Identifier: MIT */
/*
 * bus_loop with a real dbus-daemon (bus-loop-harness.h): method calls and
 * their reply timeout, signals and a burst of them. Detaching and losing
 * the bus are tested in test-bus-loop-detach.c.
 */
#include "bus-loop-harness.h"

#define BURST 1000

static void test_method_call(struct fixture *f, const void *data)
{
	(void)data;
	assert_echo(f, "hello");
	assert_echo(f, "again");
}

static void test_reply_timeout(struct fixture *f, const void *data)
{
	struct call call = {0};
	g_autoptr(DBusPendingCall) pending = NULL;
	g_autoptr(DBusMessage) reply = NULL;
	gint64 start = g_get_monotonic_time();
	gint64 elapsed_ms;

	(void)data;
	pending = call_start(f, "Ignore", "", 200, &call);
	RUN_UNTIL(f, call.done);
	elapsed_ms = (g_get_monotonic_time() - start) / 1000;
	reply = call.reply;

	/* B got the call and kept quiet; the error is libdbus's own, made
	 * when the DBusTimeout fired through the glue. */
	g_assert_cmpuint(f->ignored_calls, ==, 1);
	g_assert_nonnull(reply);
	g_assert_cmpint(dbus_message_get_type(reply), ==, DBUS_MESSAGE_TYPE_ERROR);
	g_assert_cmpstr(dbus_message_get_error_name(reply), ==, DBUS_ERROR_NO_REPLY);
	g_assert_cmpint(elapsed_ms, >=, 200);
	/* The timeout is gone: nothing left to wake up for. */
	assert_settles(f->context, 3);
}

/* --- signals --- */

static void test_signal(struct fixture *f, const void *data)
{
	(void)data;
	subscribe_ticks(f->b);
	send_tick(f, 0);
	RUN_UNTIL(f, f->ticks == 1);
	g_assert_cmpstr(f->tick_sender, ==, dbus_bus_get_unique_name(f->a));
}

static void test_burst(struct fixture *f, const void *data)
{
	dbus_uint32_t i;

	(void)data;
	subscribe_ticks(f->b);
	/* All sent before the loop runs: libdbus queues what the socket does
	 * not take and writes the rest through the write watch; B then reads
	 * many messages per read and must dispatch every one of them. */
	for (i = 0; i < BURST; i++) {
		send_tick(f, i);
	}
	RUN_UNTIL(f, f->ticks == BURST);
	g_assert_false(f->ticks_out_of_order);
	/* Drained and quiet: two read watches and the wakeup fd; no write
	 * watch left enabled, no dispatch source left ready. */
	assert_settles(f->context, 3);
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	g_test_add("/bus-loop/method-call", struct fixture, GINT_TO_POINTER(CONTEXT_PRIVATE), setup,
	           test_method_call, teardown);
	g_test_add("/bus-loop/method-call/default-context", struct fixture,
	           GINT_TO_POINTER(CONTEXT_DEFAULT), setup, test_method_call, teardown);
	g_test_add("/bus-loop/reply-timeout", struct fixture, GINT_TO_POINTER(CONTEXT_PRIVATE),
	           setup, test_reply_timeout, teardown);
	g_test_add("/bus-loop/signal", struct fixture, GINT_TO_POINTER(CONTEXT_PRIVATE), setup,
	           test_signal, teardown);
	g_test_add("/bus-loop/burst", struct fixture, GINT_TO_POINTER(CONTEXT_PRIVATE), setup,
	           test_burst, teardown);
	ret = g_test_run();
	/* Frees libdbus's global state, so that valgrind sees no leaks. */
	dbus_shutdown();
	return ret;
}
