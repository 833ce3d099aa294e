/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_SLEEP_MONITOR_H
#define IMAPWATCH_SLEEP_MONITOR_H

/*
 * Suspend and resume from systemd-logind: the PrepareForSleep(bool) signal
 * of org.freedesktop.login1.Manager on the system bus, sent by logind
 * itself (the match rule names it as sender, so other programs cannot fake
 * it). After resume every connection must prove itself at once (L6):
 * sockets that slept through a network change look alive until a write
 * fails or a timeout fires.
 */

#include <glib.h>

struct sleep_monitor;

/* Connects to the system bus; returns NULL (after one debug message) when
 * there is none, e.g. in a container: imapwatch then relies on its
 * liveness timers alone. resumed is called from the main loop. */
struct sleep_monitor *sleep_monitor_create(void (*resumed)(void *user_data), void *user_data);
/* Accepts NULL. */
void sleep_monitor_destroy(struct sleep_monitor *monitor);

#endif
