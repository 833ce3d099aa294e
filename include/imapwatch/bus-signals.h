/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_BUS_SIGNALS_H
#define IMAPWATCH_BUS_SIGNALS_H

/*
 * bus_signals: turns the daemon's watch events and reloads into the
 * signals of org.imapwatch.Daemon1 and PropertiesChanged, batched and
 * ordered as bus.h describes. Sends on the main loop (an idle source);
 * never blocks.
 */

#include "imapwatch/daemon.h"

#include <dbus/dbus.h>

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

#endif
