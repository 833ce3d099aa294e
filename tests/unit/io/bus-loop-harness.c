/* SPDX-License-Identifier: MIT */
/* The test bus, its two connections and the waits shared by the bus_loop
 * tests (bus-loop-harness.h). */
#include "bus-loop-harness.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gstdio.h>

static gboolean on_deadline(void *data)
{
	struct deadline *d = data;

	d->expired = true;
	return G_SOURCE_REMOVE;
}

void deadline_start(struct deadline *d, GMainContext *context)
{
	d->expired = false;
	d->source = g_timeout_source_new(DEADLINE_MS);
	g_source_set_callback(d->source, on_deadline, d, NULL);
	g_source_attach(d->source, context);
}

void deadline_stop(struct deadline *d)
{
	g_source_destroy(d->source);
	g_clear_pointer(&d->source, g_source_unref);
}

struct context_state context_state(GMainContext *context)
{
	struct context_state s;
	GPollFD fds[32];
	int priority;

	g_assert_true(g_main_context_acquire(context));
	s.ready = g_main_context_prepare(context, &priority);
	s.n_fds = g_main_context_query(context, priority, &s.timeout, fds, G_N_ELEMENTS(fds));
	g_assert_cmpint(s.n_fds, <=, (int)G_N_ELEMENTS(fds));
	if (g_main_context_check(context, priority, fds, s.n_fds)) {
		g_main_context_dispatch(context);
	}
	g_main_context_release(context);
	return s;
}

/* Iterates until nothing is ready, then checks what is left: n_fds fds
 * (including the wakeup fd) and no timer. A connection that keeps its
 * source ready (a write watch on an idle socket, a dispatch source that
 * never settles) fails here. */
void assert_settles(GMainContext *context, int n_fds)
{
	struct context_state s;
	int i;

	for (i = 0; i < 10000 && g_main_context_iteration(context, FALSE); i++) {
	}
	s = context_state(context);
	g_assert_false(s.ready);
	g_assert_cmpint(s.n_fds, ==, n_fds);
	g_assert_cmpint(s.timeout, ==, -1);
}

/* --- the test bus --- */

struct line_result {
	char *line;
	GError *error;
	bool done;
};

static void on_line(GObject *stream, GAsyncResult *result, void *data)
{
	struct line_result *r = data;

	r->line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(stream), result, NULL,
	                                               &r->error);
	r->done = true;
}

/* In the child before exec: a test that aborts must not leave its bus
 * running (and holding the output pipe of whoever runs the test). */
static void daemon_child_setup(void *data)
{
	pid_t parent = GPOINTER_TO_INT(data);

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
		_exit(127);
	}
}

static void bus_start(struct fixture *f)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *config_path = g_build_filename(f->dir, "bus.conf", NULL);
	g_autofree char *config_arg = g_strconcat("--config-file=", config_path, NULL);
	g_autofree char *config = g_markup_printf_escaped(
	    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
	    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	    "<busconfig>\n"
	    "  <type>session</type>\n"
	    "  <listen>unix:dir=%s</listen>\n"
	    "  <auth>EXTERNAL</auth>\n"
	    "  <policy context=\"default\">\n"
	    "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
	    "    <allow eavesdrop=\"true\"/>\n"
	    "    <allow own=\"*\"/>\n"
	    "  </policy>\n"
	    "</busconfig>\n",
	    f->dir);
	const char *argv[] = {
	    "dbus-daemon", config_arg, "--print-address", "--nofork", "--nopidfile",
	    "--nosyslog",  NULL,
	};
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	struct line_result r = {0};

	g_assert_true(g_file_set_contents(config_path, config, -1, &error));
	g_assert_no_error(error);

	/* A missing dbus-daemon fails the test: it is a test dependency
	 * (scripts/install-deps), not an optional extra. */
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_set_child_setup(launcher, daemon_child_setup,
	                                      GINT_TO_POINTER(getpid()), NULL);
	f->daemon = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);

	/* Ready once it prints the address it listens on. */
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(f->daemon));
	g_data_input_stream_read_line_async(out, G_PRIORITY_DEFAULT, NULL, on_line, &r);
	RUN_UNTIL(f, r.done);
	g_assert_no_error(r.error);
	g_assert_nonnull(r.line);
	g_assert_true(g_str_has_prefix(r.line, "unix:"));
	f->address = r.line;
}

static void bus_stop(struct fixture *f)
{
	g_autoptr(GError) error = NULL;

	if (!f->daemon) {
		return;
	}
	g_subprocess_force_exit(f->daemon);
	/* Reaps a process we just killed: cannot hang. */
	g_assert_true(g_subprocess_wait(f->daemon, NULL, &error));
	g_assert_no_error(error);
	g_clear_object(&f->daemon);
}

static DBusHandlerResult on_message(DBusConnection *conn, DBusMessage *msg, void *data)
{
	struct fixture *f = data;

	if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
		if (conn == f->a) {
			f->a_disconnected = true;
		} else {
			f->b_disconnected = true;
		}
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	if (conn != f->b) {
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	}

	if (dbus_message_is_method_call(msg, TEST_IFACE, "Echo")) {
		const char *text = NULL;
		g_autoptr(DBusMessage) reply = NULL;

		g_assert_true(
		    dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID));
		reply = dbus_message_new_method_return(msg);
		g_assert_nonnull(reply);
		g_assert_true(
		    dbus_message_append_args(reply, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID));
		g_assert_true(dbus_connection_send(conn, reply, NULL));
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	if (dbus_message_is_method_call(msg, TEST_IFACE, "Ignore")) {
		/* Never answered: the caller's reply timeout must fire. */
		f->ignored_calls++;
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	if (dbus_message_is_signal(msg, TEST_IFACE, "Tick")) {
		dbus_uint32_t index = 0;

		g_assert_true(
		    dbus_message_get_args(msg, NULL, DBUS_TYPE_UINT32, &index, DBUS_TYPE_INVALID));
		if (index != f->ticks) {
			f->ticks_out_of_order = true;
		}
		f->ticks++;
		g_free(f->tick_sender);
		f->tick_sender = g_strdup(dbus_message_get_sender(msg));
		if (f->detach_on_tick) {
			bus_loop_detach(conn);
		}
		if (f->close_on_tick) {
			/* The last reference goes while libdbus dispatches. */
			dbus_connection_close(conn);
			dbus_connection_unref(conn);
			f->b = NULL;
		}
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

static DBusConnection *bus_connect(struct fixture *f)
{
	g_auto(DBusError) error = DBUS_ERROR_INIT;
	DBusConnection *conn;

	conn = dbus_connection_open_private(f->address, &error);
	if (!conn) {
		g_error("connecting to the test bus: %s", error.message);
	}
	/* A test process must not exit(1) when we kill the bus. */
	dbus_connection_set_exit_on_disconnect(conn, FALSE);
	if (!dbus_bus_register(conn, &error)) {
		g_error("registering on the test bus: %s", error.message);
	}
	g_assert_true(dbus_connection_add_filter(conn, on_message, f, NULL));
	return conn;
}

void subscribe_ticks(DBusConnection *conn)
{
	g_auto(DBusError) error = DBUS_ERROR_INIT;

	dbus_bus_add_match(conn, TEST_MATCH, &error);
	if (dbus_error_is_set(&error)) {
		g_error("AddMatch: %s", error.message);
	}
}

void setup(struct fixture *f, const void *data)
{
	g_autoptr(GError) error = NULL;
	enum context_kind kind = GPOINTER_TO_INT(data);

	memset(f, 0, sizeof(*f));
	if (kind == CONTEXT_DEFAULT) {
		f->context = g_main_context_ref(g_main_context_default());
	} else {
		f->context = g_main_context_new();
		g_main_context_push_thread_default(f->context);
		f->pushed = true;
	}
	f->dir = g_dir_make_tmp("imapwatch-bus-XXXXXX", &error);
	g_assert_no_error(error);
	bus_start(f);

	f->a = bus_connect(f);
	f->b = bus_connect(f);
	g_assert_cmpint(bus_loop_attach(f->a, kind == CONTEXT_DEFAULT ? NULL : f->context), ==, 0);
	g_assert_cmpint(bus_loop_attach(f->b, kind == CONTEXT_DEFAULT ? NULL : f->context), ==, 0);
}

static void connection_drop(DBusConnection **conn)
{
	if (*conn) {
		/* Private connections are closed before the last unref. */
		dbus_connection_close(*conn);
		dbus_connection_unref(*conn);
		*conn = NULL;
	}
}

static void remove_dir(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	/* Holds the config file and the socket of a killed daemon. */
	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		g_assert_cmpint(g_unlink(child), ==, 0);
	}
	g_assert_cmpint(g_rmdir(path), ==, 0);
}

void teardown(struct fixture *f, const void *data)
{
	(void)data;
	/* Without bus_loop_detach(): finalizing a connection must remove
	 * everything the glue added. */
	connection_drop(&f->a);
	connection_drop(&f->b);
	if (f->pushed) {
		assert_settles(f->context, 1);
		g_main_context_pop_thread_default(f->context);
	}
	bus_stop(f);
	remove_dir(f->dir);
	g_free(f->dir);
	g_free(f->address);
	g_free(f->tick_sender);
	g_main_context_unref(f->context);
}

/* --- calls --- */

static void on_reply(DBusPendingCall *pending, void *data)
{
	struct call *call = data;

	call->reply = dbus_pending_call_steal_reply(pending);
	call->done = true;
}

/* Sends a method call from A to B and arranges for the reply (or error) to
 * land in call. */
DBusPendingCall *call_start(struct fixture *f, const char *method, const char *text, int timeout_ms,
                            struct call *call)
{
	g_autoptr(DBusMessage) msg = NULL;
	DBusPendingCall *pending = NULL;

	msg = dbus_message_new_method_call(dbus_bus_get_unique_name(f->b), TEST_PATH, TEST_IFACE,
	                                   method);
	g_assert_nonnull(msg);
	g_assert_true(dbus_message_append_args(msg, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID));
	g_assert_true(dbus_connection_send_with_reply(f->a, msg, &pending, timeout_ms));
	g_assert_nonnull(pending);
	g_assert_true(dbus_pending_call_set_notify(pending, on_reply, call, NULL));
	return pending;
}

void assert_echo(struct fixture *f, const char *text)
{
	struct call call = {0};
	g_autoptr(DBusPendingCall) pending = call_start(f, "Echo", text, 5000, &call);
	g_autoptr(DBusMessage) reply = NULL;
	const char *echoed = NULL;

	(void)pending; /* held (and unreffed) until the call is over */

	/* Completion comes from the loop, never from inside the send. */
	g_assert_false(call.done);
	RUN_UNTIL(f, call.done);
	reply = call.reply;
	g_assert_nonnull(reply);
	g_assert_cmpint(dbus_message_get_type(reply), ==, DBUS_MESSAGE_TYPE_METHOD_RETURN);
	g_assert_cmpstr(dbus_message_get_sender(reply), ==, dbus_bus_get_unique_name(f->b));
	g_assert_true(
	    dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &echoed, DBUS_TYPE_INVALID));
	g_assert_cmpstr(echoed, ==, text);
}

/* A asks the bus itself something and waits for the answer. */
void bus_round_trip(struct fixture *f)
{
	struct call call = {0};
	g_autoptr(DBusMessage) msg = NULL;
	g_autoptr(DBusPendingCall) pending = NULL;
	g_autoptr(DBusMessage) reply = NULL;

	msg = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
	                                   "GetId");
	g_assert_nonnull(msg);
	g_assert_true(dbus_connection_send_with_reply(f->a, msg, &pending, 5000));
	g_assert_nonnull(pending);
	g_assert_true(dbus_pending_call_set_notify(pending, on_reply, &call, NULL));
	RUN_UNTIL(f, call.done);
	reply = call.reply;
	g_assert_nonnull(reply);
	g_assert_cmpint(dbus_message_get_type(reply), ==, DBUS_MESSAGE_TYPE_METHOD_RETURN);
}

/* --- signals --- */

void send_tick(struct fixture *f, dbus_uint32_t index)
{
	g_autoptr(DBusMessage) msg = dbus_message_new_signal(TEST_PATH, TEST_IFACE, "Tick");

	g_assert_nonnull(msg);
	g_assert_true(dbus_message_append_args(msg, DBUS_TYPE_UINT32, &index, DBUS_TYPE_INVALID));
	g_assert_true(dbus_connection_send(f->a, msg, NULL));
}
