/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_LISTENERS_NOTIFIER_PRIVATE_H
#define IMAPWATCH_LISTENERS_NOTIFIER_PRIVATE_H

/*
 * Shared by the two halves of the notifier, not for other modules:
 * notifier.c is the main-loop half (event listener, model, actions, the
 * replies coming back, quiet time, start and stop), notifier-thread.c the
 * notifier thread (the operation queue it drains, libnotify, retries),
 * notifier-desktop.c the rest of what the thread does with the desktop
 * (sounds through libcanberra, the server's do-not-disturb). The two
 * halves share only the two queues under `lock` in struct notifier.
 */

#include "imapwatch/listeners/notifier.h"

#include "imapwatch/core/notifier-model.h"

#include <canberra.h>
#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>

enum reply_type {
	REPLY_CLOSED, /* a popup went away */
	REPLY_GONE,   /* the server went away with every popup */
	REPLY_OPEN,   /* default action */
	REPLY_MARK_READ,
	REPLY_RETRY, /* "Try again" on an account's error */
	REPLY_DND,   /* the server's do-not-disturb is now `on` */
};

struct reply {
	enum reply_type type;
	guint64 slot;
	bool on;
};

/* Notifier thread only (notifier-thread.c). */
struct popup;

struct notifier {
	/* Main loop only. */
	struct daemon *daemon;
	/* The configuration as of the last reload (the daemon's), to tell
	 * which accounts the next one starts anew. */
	const struct config *config;
	guint listener;
	guint reload_listener;
	guint quiet_listener;
	struct notifier_model *model;
	GPtrArray *marks;  /* struct mark_context * */
	bool dnd;          /* the server's do-not-disturb, as the thread says */
	guint quiet;       /* enum notifier_quiet flags in force */
	guint quiet_timer; /* for the next start or end of quiet_hours */
	bool quiet_updating;

	/* Shared, under lock. */
	GMutex lock;
	GCond finished_cond;
	GQueue pending;      /* struct notifier_op *, oldest first */
	GHashTable *by_slot; /* &op->slot → GList * link in pending */
	bool wake_scheduled; /* a drain is queued on the thread's context */
	bool warned_full;
	GQueue replies;        /* struct reply * */
	GSource *reply_source; /* attached to the main context, or NULL */
	bool stopping;
	bool finished;

	GThread *thread;
	GMainContext *context;
	GMainLoop *loop;

	/* Notifier thread only. */
	GHashTable *popups; /* &popup->slot → struct popup * */
	guint watch;
	bool caps_known;
	bool has_actions;
	bool has_markup;
	bool has_sound; /* the server plays sounds: else we do (libcanberra) */
	guint backoff_ms;
	GSource *retry;
	bool failing;         /* the current outage has been logged */
	ca_context *canberra; /* NULL until the first sound we play */
	bool sound_failed;    /* a failure to play has been logged */
	/* Do-not-disturb of the server now on the bus (notifier-desktop.c). */
	GDBusConnection *dnd_connection;
	GCancellable *dnd_cancel;
	guint dnd_subscription;
	guint dnd_generation; /* one more for each server watched */
	bool dunst_paused;    /* org.dunstproject.cmd0 paused */
	bool inhibited;       /* org.freedesktop.Notifications Inhibited */
	bool dnd_told;        /* what the main loop was told last */
};

/* ---- notifier.c: the main-loop half ---- */

/* Queues a reply for the main loop (from the notifier thread); dropped
 * once the notifier is stopping. on: REPLY_DND's value. */
void notifier_reply_push(struct notifier *n, enum reply_type type, guint64 slot, bool on);

/* ---- notifier-thread.c: the notifier thread ---- */

/* Queues an operation for the thread (from the main loop), replacing one
 * queued for the same popup; wakes the thread. Never blocks. */
void notifier_queue_push(struct notifier *n, struct notifier_op *op);
/* Frees a struct popup (the values of n->popups). */
void notifier_popup_free(struct popup *p);
/* Quits the thread's main loop (invoked on its context). */
gboolean notifier_quit_cb(gpointer data);
/* The thread function (g_thread_new). */
gpointer notifier_thread(gpointer data);

/* ---- notifier-desktop.c: the thread's other dealings with the desktop ---- */

/* Plays sound (a freedesktop sound name, or an absolute file path) with
 * libcanberra, which plays asynchronously: this returns at once. For a
 * server without the "sound" capability. */
void notifier_sound_play(struct notifier *n, const char *sound);
/* Frees what playing needed; at the end of the thread. */
void notifier_sound_finish(struct notifier *n);
/* Watches the do-not-disturb of the notification server that owner (its
 * unique name) is: dunst's org.dunstproject.cmd0 "paused" and the
 * "Inhibited" property of org.freedesktop.Notifications (spec 1.3), read
 * once and then followed through PropertiesChanged. Changes go to the main
 * loop as REPLY_DND. connection NULL: no server now (off). */
void notifier_dnd_watch(struct notifier *n, GDBusConnection *connection, const char *owner);

#endif
