/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_MAILNAG_H
#define IMAPWATCH_MAILNAG_H

/*
 * mailnag_service: mailnag's D-Bus face, so that applets written for
 * mailnag (its GNOME Shell extension, Cinnamon and KDE applets) show
 * imapwatch's mail unchanged (docs/DBUS.md, "mailnag compatibility").
 * Offered while [daemon] mailnag_compat = true, followed across reloads.
 *
 * On the connection of the bus service it owns MAILNAG_NAME and serves
 * MAILNAG_PATH with mailnag 2.2's interface MAILNAG_INTERFACE (plus
 * Introspectable and Peer):
 *
 *   GetMails() → aa{sv}          the unseen mail, newest first
 *   GetMailCount() → u           how many
 *   MarkMailAsRead(s mail_id)    \Seen on the server; gone from the list at once
 *   CheckForMails()              daemon_check() of every account
 *   Shutdown()                   gives the name up until the next reload
 *   signal MailsAdded(aa{sv} new_mails, aa{sv} all_mails)
 *   signal MailsRemoved(aa{sv} remaining_mails)
 *
 * A mail is {datetime: i, subject: s, sender_name: s, sender_addr: s,
 * account_name: s, id: s}; the id is imapwatch's message id. The list is
 * every unseen message imapwatch knows the details of, in every watched
 * folder, newest first, at most MAILNAG_MAX_MAILS. It is worked out again
 * when the main loop is idle after watch events (so a burst is one signal):
 * MailsAdded when messages appeared that were not listed before (at the
 * first announcement, all of them), else MailsRemoved when the list
 * changed.
 *
 * The name is asked for without queueing and without blocking. When
 * another program owns it (mailnag itself), one warning is logged and
 * imapwatchd runs on without it; a later reload asks again. Nothing here
 * blocks; calls are answered at once.
 */

#include "imapwatch/daemon/daemon.h"

#include <dbus/dbus.h>

#define MAILNAG_NAME      "mailnag.MailnagService"
#define MAILNAG_PATH      "/mailnag/MailnagService"
#define MAILNAG_INTERFACE "mailnag.MailnagService"

/* Mails per list (GetMails, the signals); the newest are kept. */
#define MAILNAG_MAX_MAILS 1000

struct mailnag_service;

/* Subscribes to the daemon's events and reloads and, when the config says
 * mailnag_compat = true, asks for MAILNAG_NAME on conn. conn is the bus
 * service's connection, attached to the main loop (a reference is taken),
 * or NULL without a session bus: then the service is never offered. Call it
 * after bus_service_start(); daemon must outlive the service. */
struct mailnag_service *mailnag_service_create(struct daemon *daemon, DBusConnection *conn);

/* Unsubscribes, leaves the object path and drops the connection (which the
 * bus service closes). Call it after the main loop has stopped and before
 * bus_service_destroy() and daemon_destroy(). Accepts NULL. */
void mailnag_service_destroy(struct mailnag_service *mailnag);

#endif
