/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_BUS_H
#define IMAPWATCH_BUS_H

/*
 * bus_service: imapwatchd on the session bus (docs/DBUS.md). Owns the name
 * org.imapwatch.Daemon1 (single instance: a second daemon finds it taken)
 * and serves /org/imapwatch/Daemon1 with the interface of
 * data/org.imapwatch.Daemon1.xml, plus Introspectable, Properties and Peer.
 *
 * Watch events become signals in batches: message events are collected and
 * sent when the main loop is idle, at most BUS_SIGNAL_MAX_MESSAGES per
 * signal and in the order they happened; UnseenCountChanged is sent once
 * per folder per batch with the latest count; AccountStateChanged and
 * FolderReset are sent at once, after the batch collected before them.
 * Signals already collected are sent before the reply to any method call,
 * so a reply never describes a state that signals have not yet announced.
 *
 * After bus_service_create() nothing here blocks: calls are answered from
 * the main loop, MarkRead and MarkAllRead once the server has answered.
 * Losing the bus is logged once; the daemon keeps watching mail.
 */

#include "imapwatch/core/bus-names.h"
#include "imapwatch/daemon/daemon.h"

#include <dbus/dbus.h>
#include <glib.h>

/* Messages per MessagesAdded / MessagesChanged / MessagesRemoved signal. */
#define BUS_SIGNAL_MAX_MESSAGES 200

struct bus_service;

/* Connects to the session bus and asks for BUS_NAME, blocking briefly:
 * call it before the main loop runs, and before anything that touches
 * accounts or state (a second instance must leave without side effects).
 *
 * Returns 0 with *out set: either owning the name, or — when no session
 * bus can be reached or the name cannot be had for another reason — a
 * service without a bus (a notice or warning is logged once) on which
 * every other call is harmless. Returns -EEXIST when another process owns
 * the name; nothing is logged then and *out is untouched. */
int bus_service_create(struct bus_service **out);

/* Starts serving: registers the object and subscribes to the daemon's
 * events. The daemon must outlive the service. */
void bus_service_start(struct bus_service *bus, struct daemon *daemon);

/* Whether the service is on the bus (false after losing it). */
bool bus_service_is_connected(const struct bus_service *bus);

/* The service's connection, for another service on it (mailnag.h):
 * borrowed, NULL without a bus. After losing the bus it is closed, which
 * dbus_connection_get_is_connected() tells a holder of a reference. */
DBusConnection *bus_service_get_connection(const struct bus_service *bus);

/* Sends what is still collected, answers calls still waiting (MarkRead)
 * with an error, and closes the connection. Call it after the main loop
 * has stopped and before daemon_destroy(): the daemon must not complete a
 * request after this. Accepts NULL. */
void bus_service_destroy(struct bus_service *bus);

#endif
