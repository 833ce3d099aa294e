/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_BUS_MESSAGE_H
#define IMAPWATCH_BUS_MESSAGE_H

/*
 * Building libdbus messages without checking every call: libdbus fails
 * these only for want of memory, and then, as GLib does, we abort
 * ("out of memory <what>"). Strings are made valid UTF-8 first, since one
 * invalid byte would make libdbus refuse the whole message. Used by every
 * D-Bus object of the daemon (its own service, mailnag's).
 */

#include <dbus/dbus.h>
#include <glib.h>
#include <stdbool.h>

/* The introspection XML of org.freedesktop.DBus.Peer, which libdbus
 * answers itself for every object. */
#define BUS_MESSAGE_PEER_XML                                                                       \
	"  <interface name=\"org.freedesktop.DBus.Peer\">\n"                                       \
	"    <method name=\"Ping\"/>\n"                                                            \
	"    <method name=\"GetMachineId\">\n"                                                     \
	"      <arg name=\"machine_uuid\" type=\"s\" direction=\"out\"/>\n"                        \
	"    </method>\n"                                                                          \
	"  </interface>\n"

/* Aborts with "out of memory <what>" when failed. */
void bus_message_oom_if(bool failed, const char *what);

/* Queues message on conn (nothing when conn is NULL), or aborts. */
void bus_message_send(DBusConnection *conn, DBusMessage *message);

/* dbus_message_iter_open_container() / _close_container(), or abort. */
void bus_message_open(DBusMessageIter *parent, int type, const char *signature,
                      DBusMessageIter *child);
void bus_message_close(DBusMessageIter *parent, DBusMessageIter *child);

/* dbus_message_iter_append_basic(), or abort. */
void bus_message_append(DBusMessageIter *iter, int type, const void *value);
/* A string, NULL as "", invalid UTF-8 made valid. */
void bus_message_append_string(DBusMessageIter *iter, const char *value);

/* A method return / an error reply (name, printf-style text) for call,
 * or abort. */
DBusMessage *bus_message_new_return(DBusMessage *call);
DBusMessage *bus_message_new_error(DBusMessage *call, const char *name, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

#endif
