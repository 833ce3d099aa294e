/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_TEST_BUS_LOOP_HARNESS_H
#define IMAPWATCH_TEST_BUS_LOOP_HARNESS_H

/*
 * bus_loop against a real dbus-daemon that each test starts in a temp dir
 * with its own configuration. Two private connections, A and B, talk through
 * it; everything after setup is driven by the main loop. The daemon is ready
 * when it prints its address; no test sleeps, and every wait has a deadline.
 *
 * The blocking libdbus calls (connect, Hello, AddMatch) are used in setup
 * only, where they keep the tests short.
 */

#include "imapwatch/io/bus-loop.h"

#include <stdbool.h>

#include <gio/gio.h>

/* Generous: valgrind makes everything slow. */
#define DEADLINE_MS 20000
#define TEST_PATH   "/org/imapwatch/Test"
#define TEST_IFACE  "org.imapwatch.Test"
#define TEST_MATCH  "type='signal',interface='" TEST_IFACE "'"

enum context_kind {
	CONTEXT_PRIVATE,
	/* attached with NULL, run through g_main_context_default() */
	CONTEXT_DEFAULT,
};

struct fixture {
	GMainContext *context;
	bool pushed;
	char *dir;
	GSubprocess *daemon;
	char *address;
	DBusConnection *a;
	DBusConnection *b;

	/* what B's filter saw */
	unsigned int ignored_calls;
	unsigned int ticks;
	bool ticks_out_of_order;
	char *tick_sender;
	bool detach_on_tick;
	bool close_on_tick;

	/* Disconnected from org.freedesktop.DBus.Local */
	bool a_disconnected;
	bool b_disconnected;
};

struct deadline {
	GSource *source;
	bool expired;
};

void deadline_start(struct deadline *d, GMainContext *context);
void deadline_stop(struct deadline *d);

/* Runs the fixture's context until cond holds; fails after DEADLINE_MS. */
#define RUN_UNTIL(f, cond)                                                                         \
	do {                                                                                       \
		struct deadline deadline_;                                                         \
		deadline_start(&deadline_, (f)->context);                                          \
		while (!(cond) && !deadline_.expired) {                                            \
			g_main_context_iteration((f)->context, TRUE);                              \
		}                                                                                  \
		deadline_stop(&deadline_);                                                         \
		if (!(cond)) {                                                                     \
			g_error("timed out waiting for %s", #cond);                                \
		}                                                                                  \
	} while (0)

/* What the context would do next: whether a source is ready, how many fds
 * it polls (its own wakeup fd is always one) and the poll timeout (-1: no
 * timer pending). Polls nothing; dispatches what is ready, as an iteration
 * would. */
struct context_state {
	bool ready;
	int n_fds;
	int timeout;
};

struct context_state context_state(GMainContext *context);
/* Iterates until nothing is ready, then checks what is left: n_fds fds
 * (including the wakeup fd) and no timer. A connection that keeps its
 * source ready (a write watch on an idle socket, a dispatch source that
 * never settles) fails here. */
void assert_settles(GMainContext *context, int n_fds);

/* --- the test bus --- */

/* Test setup (data: an enum context_kind): a bus of its own and the
 * connections A and B, both attached with bus_loop. */
void setup(struct fixture *f, const void *data);
/* Drops A and B, checks that the context settles, stops the bus. */
void teardown(struct fixture *f, const void *data);
/* AddMatch for the Tick signals. */
void subscribe_ticks(DBusConnection *conn);

/* --- calls --- */

struct call {
	DBusMessage *reply;
	bool done;
};

/* Sends a method call from A to B and arranges for the reply (or error) to
 * land in call. */
DBusPendingCall *call_start(struct fixture *f, const char *method, const char *text, int timeout_ms,
                            struct call *call);
/* A calls B's Echo and checks the answer. */
void assert_echo(struct fixture *f, const char *text);
/* A asks the bus itself something and waits for the answer. */
void bus_round_trip(struct fixture *f);

/* --- signals --- */

/* A sends the Tick signal with index. */
void send_tick(struct fixture *f, dbus_uint32_t index);

#endif
