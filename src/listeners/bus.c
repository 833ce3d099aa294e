/* SPDX-License-Identifier: MIT */
/*
 * The D-Bus service of imapwatchd: the connection. One private libdbus
 * connection to the session bus, driven by the GLib main loop through
 * bus_loop; one object path whose handler (bus-methods.c) dispatches on a
 * table of methods.
 */
#include "imapwatch/listeners/bus.h"

#include "imapwatch/io/bus-loop.h"
#include "listeners/bus-private.h"

#include <errno.h>

/* --- connection ---------------------------------------------------------- */

static void bus_close_connection(struct bus_service *bus)
{
	if (bus->conn == NULL) {
		return;
	}
	bus_signals_set_connection(bus->signals, NULL);
	bus_loop_detach(bus->conn);
	/* Private connections must be closed before the last unref. */
	dbus_connection_close(bus->conn);
	g_clear_pointer(&bus->conn, dbus_connection_unref);
}

static gboolean bus_drop_cb(gpointer user_data)
{
	struct bus_service *bus = user_data;

	bus->drop_source = 0;
	bus_close_connection(bus);
	return G_SOURCE_REMOVE;
}

static DBusHandlerResult bus_filter(DBusConnection *conn, DBusMessage *message, void *user_data)
{
	struct bus_service *bus = user_data;

	(void)conn;
	if (dbus_message_is_signal(message, DBUS_INTERFACE_LOCAL, "Disconnected")) {
		g_warning("lost the session bus: the D-Bus service stops, mail is still watched");
		/* Not from inside the connection's own dispatch. */
		if (bus->drop_source == 0) {
			bus->drop_source = g_idle_add(bus_drop_cb, bus);
		}
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* A connection owning BUS_NAME. NULL when there is no session bus or the
 * name cannot be had (logged), or, with *taken set, when another process
 * owns the name. */
static DBusConnection *bus_connect(bool *taken)
{
	g_auto(DBusError) error = DBUS_ERROR_INIT;
	g_autoptr(DBusConnection) conn = dbus_bus_get_private(DBUS_BUS_SESSION, &error);

	if (conn == NULL) {
		g_message("no session bus (%s): running without D-Bus", error.message);
		return NULL;
	}
	/* Losing the bus must not end the daemon (libdbus would _exit). */
	dbus_connection_set_exit_on_disconnect(conn, FALSE);
	int r = dbus_bus_request_name(conn, BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &error);
	if (r != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		*taken = r == DBUS_REQUEST_NAME_REPLY_EXISTS;
		if (!*taken) {
			g_warning("cannot own the D-Bus name %s (%s): running without D-Bus",
			          BUS_NAME,
			          dbus_error_is_set(&error) ? error.message : "refused by the bus");
		}
		/* Private connections must be closed before the last unref. */
		dbus_connection_close(conn);
		return NULL;
	}
	return g_steal_pointer(&conn);
}

int bus_service_create(struct bus_service **out)
{
	bool taken = false;
	DBusConnection *conn = bus_connect(&taken);

	if (taken) {
		return -EEXIST;
	}
	struct bus_service *bus = g_new0(struct bus_service, 1);
	bus->conn = conn;
	bus->calls = g_ptr_array_new_with_free_func(bus_call_free);
	*out = bus;
	return 0;
}

void bus_service_start(struct bus_service *bus, struct daemon *daemon)
{
	static const DBusObjectPathVTable vtable = {.message_function = bus_on_message};
	g_auto(DBusError) error = DBUS_ERROR_INIT;

	bus->daemon = daemon;
	bus->introspect_xml = bus_build_introspection();
	if (bus->conn == NULL) {
		return;
	}
	bus_message_oom_if(!dbus_connection_add_filter(bus->conn, bus_filter, bus, NULL),
	                   "adding a D-Bus filter");
	if (!dbus_connection_try_register_object_path(bus->conn, BUS_PATH, &vtable, bus, &error)) {
		/* Only out of memory or a path already taken, which no other
		 * code on this private connection does. */
		g_error("cannot serve %s on D-Bus: %s", BUS_PATH, error.message);
	}
	bus->signals = bus_signals_create(bus->conn, daemon);
	int r = bus_loop_attach(bus->conn, NULL);
	g_assert(r == 0); /* a fresh private connection is attached nowhere */
	g_message("serving %s on the session bus", BUS_NAME);
}

bool bus_service_is_connected(const struct bus_service *bus)
{
	return bus->conn != NULL;
}

DBusConnection *bus_service_get_connection(const struct bus_service *bus)
{
	return bus->conn;
}

void bus_service_destroy(struct bus_service *bus)
{
	if (bus == NULL) {
		return;
	}
	g_clear_pointer(&bus->signals, bus_signals_destroy);
	for (guint i = 0; i < bus->calls->len; i++) {
		struct bus_call *c = bus->calls->pdata[i];

		bus_call_reply(
		    c, bus_message_new_error(c->call, BUS_ERROR_FAILED,
		                             "imapwatchd stopped before the server answered"));
	}
	g_ptr_array_unref(bus->calls);
	if (bus->conn != NULL) {
		/* The loop has stopped; a short blocking write is fine now. */
		dbus_connection_flush(bus->conn);
	}
	g_clear_handle_id(&bus->drop_source, g_source_remove);
	bus_close_connection(bus);
	g_free(bus->introspect_xml);
	g_free(bus);
}
