/* SPDX-License-Identifier: MIT */
/*
 * libdbus <-> GLib main loop glue.
 *
 * libdbus tells an external main loop what to watch through three sets of
 * callbacks, and this file maps each onto GLib sources in one context:
 *
 *  - DBusWatch (a socket fd and the directions libdbus cares about): one
 *    fd source per enabled watch, calling dbus_watch_handle(). libdbus
 *    keeps separate read and write watches on the same fd and enables the
 *    write watch only while messages wait to be sent.
 *  - DBusTimeout (pending-call reply timeouts): one timeout source per
 *    enabled timeout, calling dbus_timeout_handle().
 *  - The dispatch status: messages that have been read are only queued;
 *    they reach filters, object paths and pending-call notifications when
 *    dbus_connection_dispatch() runs. libdbus forbids dispatching from the
 *    status callback, so the callback only marks a dispatch source ready,
 *    and that source dispatches one message per main-loop iteration for as
 *    long as libdbus reports DBUS_DISPATCH_DATA_REMAINS.
 *
 * Each per-watch and per-timeout source is stored with libdbus's own
 * set_data, whose free function destroys it; libdbus calls it on remove, on
 * replacing the functions (detach) and on finalizing the connection, so no
 * list of sources is kept here. A watch or timeout is re-created rather than
 * modified when toggled: that also picks up a changed timeout interval, and
 * a disabled fd is not polled at all (poll() would report HUP on it even
 * with no events asked for).
 *
 * The connection's data slot owns the dispatch source; every callback set
 * holds its own reference on what it uses (the source or the context), so
 * teardown is correct in whatever order libdbus frees them.
 */
#include "imapwatch/io/bus-loop.h"

#include <errno.h>

#include <glib-unix.h>

/* DBUS_DISPATCH_NEED_MEMORY: try again after this long rather than spin. */
#define NEED_MEMORY_RETRY_US (100 * 1000)

struct dispatch_source {
	GSource source;
	/* Not owned: the source is destroyed when the glue is detached or the
	 * connection finalized, before the pointer could dangle. */
	DBusConnection *conn;
};

/* Slot for the glue's state on each attached connection. libdbus refcounts
 * slot allocations: every attached connection holds one. */
static dbus_int32_t loop_slot = -1;

static void dispatch_schedule(GSource *source, DBusDispatchStatus status)
{
	switch (status) {
	case DBUS_DISPATCH_DATA_REMAINS:
		g_source_set_ready_time(source, 0);
		break;
	case DBUS_DISPATCH_NEED_MEMORY:
		g_source_set_ready_time(source, g_get_monotonic_time() + NEED_MEMORY_RETRY_US);
		break;
	case DBUS_DISPATCH_COMPLETE:
	default:
		g_source_set_ready_time(source, -1);
		break;
	}
}

static gboolean dispatch_source_dispatch(GSource *source, GSourceFunc callback, void *user_data)
{
	struct dispatch_source *self = (struct dispatch_source *)source;
	DBusDispatchStatus status;

	(void)callback;
	(void)user_data;
	/* One message per iteration, so a flood of signals cannot starve the
	 * IMAP connections. GLib does not dispatch a source recursively, which
	 * keeps a nested main loop in a handler from re-entering
	 * dbus_connection_dispatch() (libdbus would wait for itself). */
	status = dbus_connection_dispatch(self->conn);
	/* A handler may have detached, or dropped the last reference to the
	 * connection (which destroys this source); GLib keeps the source
	 * itself alive until we return, the connection maybe not. */
	if (!g_source_is_destroyed(source)) {
		dispatch_schedule(source, status);
	}
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs dispatch_source_funcs = {
    .dispatch = dispatch_source_dispatch,
};

static void on_dispatch_status(DBusConnection *conn, DBusDispatchStatus status, void *data)
{
	GSource *source = data;

	(void)conn;
	if (!g_source_is_destroyed(source)) {
		dispatch_schedule(source, status);
	}
}

static void on_wakeup_main(void *data)
{
	g_main_context_wakeup(data);
}

static void source_free(void *data)
{
	GSource *source = data;

	g_source_destroy(source);
	g_source_unref(source);
}

static void source_unref(void *data)
{
	g_source_unref(data);
}

static void context_unref(void *data)
{
	g_main_context_unref(data);
}

static gboolean on_watch_ready(int fd, GIOCondition condition, void *data)
{
	DBusWatch *watch = data;
	unsigned int flags = 0;

	(void)fd;
	if (condition & G_IO_IN) {
		flags |= DBUS_WATCH_READABLE;
	}
	if (condition & G_IO_OUT) {
		flags |= DBUS_WATCH_WRITABLE;
	}
	if (condition & G_IO_HUP) {
		flags |= DBUS_WATCH_HANGUP;
	}
	if (condition & (G_IO_ERR | G_IO_NVAL)) {
		flags |= DBUS_WATCH_ERROR;
	}
	/* FALSE means libdbus ran out of memory reading or writing. Inside,
	 * libdbus may remove or toggle this very watch (and so destroy this
	 * source): neither is touched afterwards. */
	if (!dbus_watch_handle(watch, flags)) {
		g_error("out of memory handling D-Bus connection I/O");
	}
	return G_SOURCE_CONTINUE;
}

static void watch_sync(DBusWatch *watch, GMainContext *context)
{
	GSource *source = NULL;
	int fd = dbus_watch_get_unix_fd(watch);

	if (dbus_watch_get_enabled(watch) && fd >= 0) {
		unsigned int flags = dbus_watch_get_flags(watch);
		GIOCondition condition = G_IO_HUP | G_IO_ERR;

		if (flags & DBUS_WATCH_READABLE) {
			condition |= G_IO_IN;
		}
		if (flags & DBUS_WATCH_WRITABLE) {
			condition |= G_IO_OUT;
		}
		source = g_unix_fd_source_new(fd, condition);
		g_source_set_static_name(source, "bus-loop watch");
		g_source_set_callback(source, G_SOURCE_FUNC(on_watch_ready), watch, NULL);
		g_source_attach(source, context);
	}
	/* Frees (destroys) the previous source, if any. */
	dbus_watch_set_data(watch, source, source ? source_free : NULL);
}

static dbus_bool_t on_watch_add(DBusWatch *watch, void *data)
{
	watch_sync(watch, data);
	return TRUE;
}

static void on_watch_toggled(DBusWatch *watch, void *data)
{
	watch_sync(watch, data);
}

static void on_watch_remove(DBusWatch *watch, void *data)
{
	(void)data;
	dbus_watch_set_data(watch, NULL, NULL);
}

static gboolean on_timeout_ready(void *data)
{
	DBusTimeout *timeout = data;

	/* FALSE means out of memory. A pending-call timeout removes itself
	 * from inside, destroying this source: it is not touched afterwards. */
	if (!dbus_timeout_handle(timeout)) {
		g_error("out of memory handling a D-Bus timeout");
	}
	return G_SOURCE_CONTINUE;
}

static void timeout_sync(DBusTimeout *timeout, GMainContext *context)
{
	GSource *source = NULL;

	if (dbus_timeout_get_enabled(timeout)) {
		int interval = dbus_timeout_get_interval(timeout);

		/* Re-created from now: libdbus toggles a timeout when it
		 * restarts it, possibly with a new interval. */
		source = g_timeout_source_new(interval > 0 ? (guint)interval : 0);
		g_source_set_static_name(source, "bus-loop timeout");
		g_source_set_callback(source, on_timeout_ready, timeout, NULL);
		g_source_attach(source, context);
	}
	dbus_timeout_set_data(timeout, source, source ? source_free : NULL);
}

static dbus_bool_t on_timeout_add(DBusTimeout *timeout, void *data)
{
	timeout_sync(timeout, data);
	return TRUE;
}

static void on_timeout_toggled(DBusTimeout *timeout, void *data)
{
	timeout_sync(timeout, data);
}

static void on_timeout_remove(DBusTimeout *timeout, void *data)
{
	(void)data;
	dbus_timeout_set_data(timeout, NULL, NULL);
}

/* Free function of the data slot: runs on detach and when the connection
 * is finalized. */
static void loop_free(void *data)
{
	source_free(data);
	dbus_connection_free_data_slot(&loop_slot);
}

int bus_loop_attach(DBusConnection *conn, GMainContext *context)
{
	GSource *dispatch;

	g_return_val_if_fail(conn != NULL, -EINVAL);

	if (!context) {
		context = g_main_context_default();
	}
	if (!dbus_connection_allocate_data_slot(&loop_slot)) {
		g_error("out of memory allocating a D-Bus connection data slot");
	}
	if (dbus_connection_get_data(conn, loop_slot)) {
		dbus_connection_free_data_slot(&loop_slot);
		return -EALREADY;
	}

	dispatch = g_source_new(&dispatch_source_funcs, sizeof(struct dispatch_source));
	((struct dispatch_source *)dispatch)->conn = conn;
	g_source_set_static_name(dispatch, "bus-loop dispatch");
	/* Messages may have been queued before we were attached (for example
	 * while dbus_bus_register() waited for its reply); the first dispatch
	 * finds out. */
	g_source_set_ready_time(dispatch, 0);
	g_source_attach(dispatch, context);
	if (!dbus_connection_set_data(conn, loop_slot, dispatch, loop_free)) {
		g_error("out of memory attaching a D-Bus connection to the main loop");
	}

	dbus_connection_set_dispatch_status_function(conn, on_dispatch_status,
	                                             g_source_ref(dispatch), source_unref);
	/* libdbus asks for a wakeup when something the loop must reconsider
	 * changed outside it, such as a message queued from another thread. */
	dbus_connection_set_wakeup_main_function(conn, on_wakeup_main, g_main_context_ref(context),
	                                         context_unref);
	if (!dbus_connection_set_watch_functions(conn, on_watch_add, on_watch_remove,
	                                         on_watch_toggled, g_main_context_ref(context),
	                                         context_unref)) {
		g_error("out of memory attaching D-Bus watches to the main loop");
	}
	if (!dbus_connection_set_timeout_functions(conn, on_timeout_add, on_timeout_remove,
	                                           on_timeout_toggled, g_main_context_ref(context),
	                                           context_unref)) {
		g_error("out of memory attaching D-Bus timeouts to the main loop");
	}
	return 0;
}

void bus_loop_detach(DBusConnection *conn)
{
	g_return_if_fail(conn != NULL);

	if (loop_slot < 0 || !dbus_connection_get_data(conn, loop_slot)) {
		return;
	}
	dbus_connection_set_dispatch_status_function(conn, NULL, NULL, NULL);
	dbus_connection_set_wakeup_main_function(conn, NULL, NULL, NULL);
	/* Replacing the functions first calls our remove functions on every
	 * watch and timeout, which destroys their sources. With no add
	 * function libdbus allocates nothing, so these cannot fail. */
	if (!dbus_connection_set_watch_functions(conn, NULL, NULL, NULL, NULL, NULL)) {
		g_error("libdbus refused to remove D-Bus watch functions");
	}
	if (!dbus_connection_set_timeout_functions(conn, NULL, NULL, NULL, NULL, NULL)) {
		g_error("libdbus refused to remove D-Bus timeout functions");
	}
	/* Frees the dispatch source and our slot reference (loop_free). */
	if (!dbus_connection_set_data(conn, loop_slot, NULL, NULL)) {
		g_error("libdbus refused to clear a D-Bus connection data slot");
	}
}
