/* SPDX-License-Identifier: MIT */
#include "imapwatch/io/sleep-monitor.h"

#include "imapwatch/io/bus-loop.h"

#define LOGIN1_NAME    "org.freedesktop.login1"
#define LOGIN1_PATH    "/org/freedesktop/login1"
#define LOGIN1_MANAGER "org.freedesktop.login1.Manager"
#define SLEEP_MATCH                                                                                \
	"type='signal',sender='" LOGIN1_NAME "',path='" LOGIN1_PATH "',interface='" LOGIN1_MANAGER \
	"',member='PrepareForSleep'"

struct sleep_monitor {
	DBusConnection *conn;
	void (*resumed)(void *user_data);
	void *user_data;
};

static DBusHandlerResult sleep_filter(DBusConnection *conn, DBusMessage *message, void *user_data)
{
	struct sleep_monitor *m = user_data;
	dbus_bool_t start = FALSE;

	(void)conn;
	if (!dbus_message_is_signal(message, LOGIN1_MANAGER, "PrepareForSleep") ||
	    !dbus_message_get_args(message, NULL, DBUS_TYPE_BOOLEAN, &start, DBUS_TYPE_INVALID)) {
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	}
	if (start) {
		g_message("system is going to sleep");
	} else {
		g_message("system resumed from sleep; checking every connection");
		m->resumed(m->user_data);
	}
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

struct sleep_monitor *sleep_monitor_create(void (*resumed)(void *user_data), void *user_data)
{
	g_auto(DBusError) error = DBUS_ERROR_INIT;
	/* Connecting blocks briefly; this runs once, before the loop. */
	DBusConnection *conn = dbus_bus_get_private(DBUS_BUS_SYSTEM, &error);

	if (conn == NULL) {
		g_debug("no system bus (%s); suspend and resume are not watched", error.message);
		return NULL;
	}
	dbus_connection_set_exit_on_disconnect(conn, FALSE);

	struct sleep_monitor *m = g_new0(struct sleep_monitor, 1);
	m->conn = conn;
	m->resumed = resumed;
	m->user_data = user_data;
	if (!dbus_connection_add_filter(conn, sleep_filter, m, NULL)) {
		g_error("out of memory adding a D-Bus filter");
	}
	/* Without an error argument the match is sent without waiting for
	 * the reply: nothing blocks. */
	dbus_bus_add_match(conn, SLEEP_MATCH, NULL);
	if (bus_loop_attach(conn, NULL) < 0) {
		g_warning("cannot watch the system bus; suspend and resume are not watched");
		sleep_monitor_destroy(m);
		return NULL;
	}
	return m;
}

void sleep_monitor_destroy(struct sleep_monitor *m)
{
	if (m == NULL) {
		return;
	}
	bus_loop_detach(m->conn);
	dbus_connection_remove_filter(m->conn, sleep_filter, m);
	dbus_connection_close(m->conn);
	dbus_connection_unref(m->conn);
	g_free(m);
}
