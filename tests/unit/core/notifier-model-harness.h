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

/* max 3, a 30 s window, catch-up summary. */
extern const struct notifier_model_options default_options;
/* What config_notice_for() says with no rule: notify, normal urgency,
 * full content, the default sound. */
extern const struct config_notice default_notice;

struct fixture {
	struct notifier_model *model;
	GPtrArray *ops;
	struct config_notice notice; /* for new mail fed; default_notice */
};

/* options NULL: default_options. */
void fixture_init(struct fixture *f, const struct notifier_model_options *options);
void fixture_clear(struct fixture *f);
/* Feeds one event (new mail with f->notice) and returns the ops it
 * produced (reset per call). */
GPtrArray *feed(struct fixture *f, const struct watch_event *ev, gint64 now);
/* New mail in folder from Alice Example. */
GPtrArray *feed_new(struct fixture *f, const char *folder, uint32_t uid, const char *subject,
                    gint64 now);
/* A \Seen change (WATCH_EVENT_CHANGED) or a removal (WATCH_EVENT_REMOVED). */
GPtrArray *feed_seen(struct fixture *f, const char *folder, uint32_t uid,
                     enum watch_event_type type);
/* ops->pdata[i], asserting that it exists. */
const struct notifier_op *op_at(GPtrArray *ops, guint i);
/* notifier_model_set_quiet() and the ops it produced (reset per call). */
GPtrArray *set_quiet(struct fixture *f, guint quiet);

#endif
