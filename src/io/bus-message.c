/* SPDX-License-Identifier: MIT */
#include "imapwatch/io/bus-message.h"

void bus_message_oom_if(bool failed, const char *what)
{
	if (failed) {
		g_error("out of memory %s", what);
	}
}

void bus_message_send(DBusConnection *conn, DBusMessage *message)
{
	if (conn != NULL) {
		bus_message_oom_if(!dbus_connection_send(conn, message, NULL),
		                   "sending a D-Bus message");
	}
}

/* Checks a libdbus result of building a message. */
static void building(dbus_bool_t ok)
{
	bus_message_oom_if(!ok, "building a D-Bus message");
}

void bus_message_open(DBusMessageIter *parent, int type, const char *signature,
                      DBusMessageIter *child)
{
	building(dbus_message_iter_open_container(parent, type, signature, child));
}

void bus_message_close(DBusMessageIter *parent, DBusMessageIter *child)
{
	building(dbus_message_iter_close_container(parent, child));
}

void bus_message_append(DBusMessageIter *iter, int type, const void *value)
{
	building(dbus_message_iter_append_basic(iter, type, value));
}

void bus_message_append_string(DBusMessageIter *iter, const char *value)
{
	g_autofree char *valid = NULL;

	if (value == NULL) {
		value = "";
	} else if (!g_utf8_validate(value, -1, NULL)) {
		valid = g_utf8_make_valid(value, -1);
		value = valid;
	}
	building(dbus_message_iter_append_basic(iter, DBUS_TYPE_STRING, &value));
}

DBusMessage *bus_message_new_return(DBusMessage *call)
{
	DBusMessage *reply = dbus_message_new_method_return(call);

	bus_message_oom_if(reply == NULL, "creating a D-Bus reply");
	return reply;
}

DBusMessage *bus_message_new_error(DBusMessage *call, const char *name, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	g_autofree char *text = g_strdup_vprintf(format, args);
	va_end(args);
	DBusMessage *reply = dbus_message_new_error(call, name, text);
	bus_message_oom_if(reply == NULL, "creating a D-Bus error");
	return reply;
}
