/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_DAEMON_PRIVATE_H
#define IMAPWATCH_DAEMON_PRIVATE_H

/*
 * Shared by the two halves of the daemon core, not for other modules:
 * daemon.c is the hub (accounts, listeners and their events, the network
 * monitor, start, stop, reload); daemon-requests.c answers what the
 * outputs ask (status, listings, check, mark as read); daemon-pause.c
 * holds the pause of notifications and why they are quiet.
 */

#include "imapwatch/daemon/daemon.h"

#include <gio/gio.h>

struct daemon {
	struct config *config;
	struct daemon_options options;
	GPtrArray *accounts;    /* struct account *, in config order */
	GPtrArray *retired;     /* accounts logging out after a reload */
	GPtrArray *old_configs; /* configs replaced by a reload (retired accounts use them) */
	GArray *listeners;      /* struct listener */
	guint next_listener;
	gint64 started;         /* monotonic µs */
	GHashTable *last_event; /* account name → gint64 * (Unix seconds) */

	guint stopping_accounts;
	void (*stopped)(void *user_data);
	void *stopped_data;
	guint stop_timer;

	GPtrArray *requests; /* struct mark_request * in flight */

	/* daemon-pause.c: 0, -1 or the Unix second the pause ends; the timer
	 * that ends it; the notifier's enum notifier_quiet flags. */
	gint64 paused_until;
	guint pause_timer;
	guint quiet;

	GNetworkMonitor *network;
	gulong network_handler;
	gulong network_notify_handler;
	guint network_debounce;
	bool online;
};

/* ---- daemon.c ---- */

/* The configured account of that name, or NULL. */
struct account *daemon_find_account(struct daemon *d, const char *name);
/* Calls every quiet listener. */
void daemon_quiet_changed(struct daemon *d);

/* ---- daemon-pause.c ---- */

/* Looks at the clock again: ends a pause that is over, else arms the
 * timer for its end (after a sleep, or when the timer fired). */
void daemon_pause_check(struct daemon *d);

/* ---- daemon-requests.c ---- */

struct mark_request;
/* Cancels a mark-as-read request in flight (its callback is not called)
 * and drops it from d->requests. */
void daemon_mark_request_free(struct mark_request *r);

#endif
