/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_BUS_MARSHAL_H
#define IMAPWATCH_BUS_MARSHAL_H

/*
 * bus_marshal: writes imapwatch's values into libdbus messages in the
 * shapes of data/org.imapwatch.Daemon1.xml (message dictionaries, the
 * GetStatus dictionary, property values). libdbus fails these appends only
 * when out of memory; like GLib allocations, that aborts.
 *
 * Strings that are not valid UTF-8 (libdbus rejects them) are sent with
 * U+FFFD in place of the bad bytes rather than dropped.
 */

#include "imapwatch/daemon.h"
#include "imapwatch/event.h"

#include <dbus/dbus.h>
#include <stdbool.h>

/* Aborts ("out of memory <what>") when failed: libdbus reports nothing
 * else through the results this is used for. */
void bus_marshal_oom_if(bool failed, const char *what);

/* Queues message on conn (does nothing when conn is NULL: no bus). */
void bus_marshal_send(DBusConnection *conn, DBusMessage *message);

/* Opens a container (dbus_message_iter_open_container) or aborts. */
void bus_marshal_open(DBusMessageIter *parent, int type, const char *signature,
                      DBusMessageIter *child);
/* Closes a container opened with bus_marshal_open() or aborts. */
void bus_marshal_close(DBusMessageIter *parent, DBusMessageIter *child);

/* Basic values (dbus_message_iter_append_basic), strings made valid. */
void bus_marshal_string(DBusMessageIter *iter, const char *value);
void bus_marshal_uint32(DBusMessageIter *iter, uint32_t value);
void bus_marshal_strv(DBusMessageIter *iter, const char *const *values); /* as */

/* A variant holding a u, an as, or an s (property values). */
void bus_marshal_variant_uint32(DBusMessageIter *iter, uint32_t value);
void bus_marshal_variant_strv(DBusMessageIter *iter, const char *const *values);
void bus_marshal_variant_string(DBusMessageIter *iter, const char *value);

/* Appends one message dictionary (a{sv}) to an open aa{sv} array: every key
 * for WATCH_EVENT_NEW (plus "catchup": true for mail found after a
 * restart), id/account/folder/uid/uidvalidity/flags/seen for CHANGED, and
 * id/account/folder/uid/uidvalidity for REMOVED. */
void bus_marshal_event(DBusMessageIter *array, const struct watch_event *event);
/* A message ListMessages reports, as a full message dictionary. */
void bus_marshal_message(DBusMessageIter *array, const struct daemon_message *message);
/* The GetStatus dictionary (a{sv}). */
void bus_marshal_status(DBusMessageIter *iter, const struct daemon_status *status);

#endif
