/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_NOTIFIER_H
#define IMAPWATCH_NOTIFIER_H

/*
 * Desktop notifications (output): subscribes to the daemon's watch events,
 * decides what to show with the notifier model (on the main loop, cheap),
 * and hands small immutable operations to its own thread, which alone
 * talks to libnotify. notify_notification_show() and friends are blocking
 * D-Bus calls (25 s when the notification server hangs); they never run on
 * the main loop.
 *
 * Hand-over: pending operations are kept per popup, a newer one replacing
 * an older one for the same popup, so a hung server makes the queue merge,
 * not grow; past NOTIFIER_QUEUE_MAX popups waiting, new ones are dropped.
 * A failed call (no server yet, server restarting) is retried with backoff
 * (1 s doubling to 1 min) and at once when the name
 * org.freedesktop.Notifications gets an owner. When the owner goes away its
 * popups are gone with it and forgotten.
 *
 * Clicks come back on the notifier thread and are carried to the main
 * loop: the default action runs the account's open_command (argv, never a
 * shell) or launches the desktop's default mail client; "mark-read" goes
 * through daemon_mark_read(); "retry", on an account's error popup, through
 * daemon_check(). Actions are offered only when the server
 * advertises "actions"; body text is markup-escaped only when it
 * advertises "body-markup".
 *
 * Shutdown closes our popups (their buttons would be dead, and a message
 * read later could no longer withdraw them) and joins the thread; when the
 * server does not answer within NOTIFIER_STOP_WAIT_MS, the popups are left
 * and the thread is left to the process exit, so that SIGTERM still ends
 * the daemon within 2 s.
 */

#include "imapwatch/daemon/daemon.h"

#define NOTIFIER_QUEUE_MAX    128
#define NOTIFIER_STOP_WAIT_MS 300

struct notifier;

/* Starts the notifier thread and subscribes to daemon's events. Makes no
 * D-Bus call itself. Returns NULL (nothing started) when the config says
 * notifications = false. daemon must outlive the notifier. */
struct notifier *notifier_create(struct daemon *daemon);

/* Unsubscribes, closes our popups and joins the thread (bounded, see
 * above). Call after the main loop has stopped. Accepts NULL. */
void notifier_destroy(struct notifier *notifier);

/* Ids ("account/folder/uidvalidity/uid") of the messages whose popup or
 * summary is still tracked, sorted; for the state store. Main loop only.
 * Free with g_strfreev. */
char **notifier_get_shown_ids(struct notifier *notifier);

#endif
