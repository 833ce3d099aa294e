/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_LISTENERS_NOTIFIER_PRIVATE_H
#define IMAPWATCH_LISTENERS_NOTIFIER_PRIVATE_H

/*
 * Shared by the two halves of the notifier, not for other modules:
 * notifier.c is the main-loop half (event listener, model, actions, the
 * replies coming back, start and stop), notifier-thread.c the notifier
 * thread (the operation queue it drains, libnotify, retries). The two
 * halves share only the two queues under `lock` in struct notifier.
 */

#include "imapwatch/listeners/notifier.h"

#include "imapwatch/core/notifier-model.h"

#include <glib.h>
#include <stdbool.h>

enum reply_type {
	REPLY_CLOSED, /* a popup went away */
	REPLY_GONE,   /* the server went away with every popup */
	REPLY_OPEN,   /* default action */
	REPLY_MARK_READ,
};

struct reply {
	enum reply_type type;
	guint64 slot;
};

/* Notifier thread only (notifier-thread.c). */
struct popup;

struct notifier {
	/* Main loop only. */
	struct daemon *daemon;
	guint listener;
	struct notifier_model *model;
	GPtrArray *marks; /* struct mark_context * */

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
	guint backoff_ms;
	GSource *retry;
	bool failing; /* the current outage has been logged */
};

/* ---- notifier.c: the main-loop half ---- */

/* Queues a reply for the main loop (from the notifier thread); dropped
 * once the notifier is stopping. */
void notifier_reply_push(struct notifier *n, enum reply_type type, guint64 slot);

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

#endif
