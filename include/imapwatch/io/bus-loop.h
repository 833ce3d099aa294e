/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_BUS_LOOP_H
#define IMAPWATCH_BUS_LOOP_H

/*
 * bus_loop: drives a libdbus connection from a GLib main context. Once
 * attached, the connection's socket I/O, its timeouts (pending-call replies)
 * and the dispatching of incoming messages to filters, object paths and
 * pending-call notifications all happen in callbacks of that context, one
 * message per main-loop iteration so that other sources keep their turn.
 * Nothing here blocks.
 *
 * Single-threaded: use the connection only from the thread that runs the
 * context. A message handler may run a nested main loop, but the connection
 * is not dispatched again until the handler returns (libdbus does not allow
 * re-entrant dispatching).
 */

#include <dbus/dbus.h>
#include <glib.h>

/* Attaches conn to context (NULL means the global default context, as
 * g_main_context_default()). The glue holds a reference on the context but
 * none on conn: it is torn down by bus_loop_detach() or when the connection
 * is finalized, whichever comes first. Messages already queued on conn are
 * dispatched on the first iteration after attaching.
 *
 * Returns 0, or -EALREADY if conn is already attached (to any context).
 * libdbus allocation failures abort, like GLib's. */
int bus_loop_attach(DBusConnection *conn, GMainContext *context);

/* Removes every source the glue added and frees its state; the connection
 * stays open and keeps its queued messages. Does nothing if conn is not
 * attached. May be called from inside a message handler of conn. */
void bus_loop_detach(DBusConnection *conn);

/* Cleanups for the libdbus types we hold in locals (GLib defines none). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DBusConnection, dbus_connection_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DBusMessage, dbus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DBusPendingCall, dbus_pending_call_unref)
/* g_auto(DBusError) err = DBUS_ERROR_INIT; */
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DBusError, dbus_error_free)

#endif
