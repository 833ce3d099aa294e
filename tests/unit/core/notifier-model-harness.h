/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_TEST_NOTIFIER_MODEL_HARNESS_H
#define IMAPWATCH_TEST_NOTIFIER_MODEL_HARNESS_H

/*
 * What the notifier model tests share: default options, a fixture that
 * holds a model and the operations of the last event fed, and events of
 * account "work" (UIDVALIDITY 7) to feed it.
 */

#include "imapwatch/core/notifier-model.h"

#include <glib.h>

#define SEC    G_USEC_PER_SEC
#define WINDOW (30 * SEC)

/* max 3, a 30 s window, catch-up summary, full content, sound. */
extern const struct notifier_model_options default_options;

struct fixture {
	struct notifier_model *model;
	GPtrArray *ops;
};

/* options NULL: default_options. */
void fixture_init(struct fixture *f, const struct notifier_model_options *options);
void fixture_clear(struct fixture *f);
/* Feeds one event and returns the ops it produced (reset per call). */
GPtrArray *feed(struct fixture *f, const struct watch_event *ev, gint64 now);
/* New mail in folder from Alice Example. */
GPtrArray *feed_new(struct fixture *f, const char *folder, uint32_t uid, const char *subject,
                    gint64 now);
/* A \Seen change (WATCH_EVENT_CHANGED) or a removal (WATCH_EVENT_REMOVED). */
GPtrArray *feed_seen(struct fixture *f, const char *folder, uint32_t uid,
                     enum watch_event_type type);
/* ops->pdata[i], asserting that it exists. */
const struct notifier_op *op_at(GPtrArray *ops, guint i);

#endif
