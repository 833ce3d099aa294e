/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_LISTENERS_BUS_PRIVATE_H
#define IMAPWATCH_LISTENERS_BUS_PRIVATE_H

/*
 * Shared by the files of the bus module, not for other modules: bus.c (the
 * connection and the name), bus-methods.c (method calls: dispatch, replies,
 * introspection), bus-properties.c (org.freedesktop.DBus.Properties),
 * bus-signals.c (batched signals), bus-marshal.c (our values into libdbus
 * messages) and the generated bus-introspect.c (the interface XML).
 */

#include "imapwatch/core/event.h"
#include "imapwatch/daemon/daemon.h"
#include "imapwatch/io/bus-message.h"

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- bus.c, bus-methods.c, bus-properties.c: the service ---- */

#define ERROR_INVALID_ARGS   "org.freedesktop.DBus.Error.InvalidArgs"
#define ERROR_UNKNOWN_METHOD "org.freedesktop.DBus.Error.UnknownMethod"
#define ERROR_UNKNOWN_IFACE  "org.freedesktop.DBus.Error.UnknownInterface"
#define ERROR_UNKNOWN_PROP   "org.freedesktop.DBus.Error.UnknownProperty"
#define ERROR_READ_ONLY      "org.freedesktop.DBus.Error.PropertyReadOnly"

/* A MarkRead / MarkAllRead waiting for the servers. */
struct bus_call {
	struct bus_service *bus;
	DBusMessage *call;
};

struct bus_service {
	DBusConnection *conn; /* NULL: running without D-Bus */
	struct daemon *daemon;
	char *introspect_xml;
	struct bus_signals *signals;
	GPtrArray *calls; /* struct bus_call * */
	guint drop_source;
};

/* bus-methods.c: replies and arguments of method calls. */

/* Replies: bus_message_new_return(), bus_message_new_error() (io/bus-message.h). */
/* The string argument of a call whose signature was checked. */
const char *bus_string_arg(DBusMessage *call);
/* The two string arguments of a call whose signature was checked. */
void bus_string_pair(DBusMessage *call, const char **first, const char **second);

/* bus-methods.c: calls answered later (MarkRead, MarkAllRead). */

/* Frees a struct bus_call (the elements of bus->calls). */
void bus_call_free(gpointer p);
/* Sends reply to c's call unless it asked for none; takes reply. */
void bus_call_reply(struct bus_call *c, DBusMessage *reply);

/* bus-methods.c: the object. */

/* The object path's message function: dispatches method calls. */
DBusHandlerResult bus_on_message(DBusConnection *conn, DBusMessage *call, void *user_data);
/* The Introspect answer: the interface XML plus the standard interfaces. */
char *bus_build_introspection(void);

/* ---- bus-properties.c: org.freedesktop.DBus.Properties ---- */

DBusMessage *bus_properties_get(struct bus_service *bus, DBusMessage *call);
DBusMessage *bus_properties_get_all(struct bus_service *bus, DBusMessage *call);
DBusMessage *bus_properties_set(struct bus_service *bus, DBusMessage *call);

/* ---- bus-marshal.c ---- */
/*
 * bus_marshal: writes imapwatch's values into libdbus messages in the
 * shapes of data/org.imapwatch.Daemon1.xml (message dictionaries, the
 * GetStatus dictionary, property values). libdbus fails these appends only
 * when out of memory; like GLib allocations, that aborts.
 *
 * Strings that are not valid UTF-8 (libdbus rejects them) are sent with
 * U+FFFD in place of the bad bytes rather than dropped.
 */

/* Containers, strings and the out-of-memory rule: io/bus-message.h. */
void bus_marshal_uint32(DBusMessageIter *iter, uint32_t value);
void bus_marshal_strv(DBusMessageIter *iter, const char *const *values); /* as */

/* A variant holding a u, an x, an as, or an s (property values). */
void bus_marshal_variant_uint32(DBusMessageIter *iter, uint32_t value);
void bus_marshal_variant_int64(DBusMessageIter *iter, gint64 value);
void bus_marshal_variant_strv(DBusMessageIter *iter, const char *const *values);
void bus_marshal_variant_string(DBusMessageIter *iter, const char *value);

/* The names of enum notifier_quiet flags ("paused", "quiet-hours",
 * "do-not-disturb"), as the Quiet property lists them. Free with
 * g_strfreev. */
char **bus_marshal_quiet_names(guint quiet);

/* Appends one message dictionary (a{sv}) to an open aa{sv} array: every key
 * for WATCH_EVENT_NEW (plus "catchup": true for mail found after a
 * restart), id/account/folder/uid/uidvalidity/flags/seen for CHANGED, and
 * id/account/folder/uid/uidvalidity for REMOVED. */
void bus_marshal_event(DBusMessageIter *array, const struct watch_event *event);
/* A message ListMessages reports, as a full message dictionary. */
void bus_marshal_message(DBusMessageIter *array, const struct daemon_message *message);
/* The GetStatus dictionary (a{sv}). */
void bus_marshal_status(DBusMessageIter *iter, const struct daemon_status *status);

/* ---- bus-signals.c ---- */
/*
 * bus_signals: turns the daemon's watch events and reloads into the
 * signals of org.imapwatch.Daemon1 and PropertiesChanged, batched and
 * ordered as bus.h describes. Sends on the main loop (an idle source);
 * never blocks.
 */

struct bus_signals;

/* Subscribes to the daemon's events and reloads and sends on conn
 * (borrowed; it must stay open until bus_signals_set_connection(NULL) or
 * bus_signals_destroy()). */
struct bus_signals *bus_signals_create(DBusConnection *conn, struct daemon *daemon);

/* Sends what is collected now (before a method reply). Accepts NULL. */
void bus_signals_flush(struct bus_signals *signals);

/* conn NULL: the bus is gone; what is collected is dropped and later
 * events are ignored. Accepts a NULL signals. */
void bus_signals_set_connection(struct bus_signals *signals, DBusConnection *conn);

/* Sends what is collected and unsubscribes. Accepts NULL. */
void bus_signals_destroy(struct bus_signals *signals);

/* ---- bus-introspect.c (generated by CMake from bus-introspect.c.in) ---- */

/* data/org.imapwatch.Daemon1.xml as it was at build time, NUL-terminated. */
extern const char bus_introspect_xml[];

#endif
