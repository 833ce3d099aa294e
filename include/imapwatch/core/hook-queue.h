/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_HOOK_QUEUE_H
#define IMAPWATCH_HOOK_QUEUE_H

/*
 * When a hook runs (pure, on the caller's clock): the events for one hook
 * command of one account wait in a queue; the batch runs `delay` after its
 * last event, but never later than `max_delay` after its first, so that a
 * steady trickle still runs it. A command never runs twice at once: events
 * that arrive during a run wait for the next batch. At most
 * HOOK_QUEUE_MAX_EVENTS events are kept per batch (the oldest); the rest
 * are counted.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/event.h"

#include <glib.h>
#include <stdbool.h>

#define HOOK_QUEUE_MAX_EVENTS 1000

struct hook_queue;

struct hook_queue *hook_queue_new(void);
void hook_queue_free(struct hook_queue *queue);

/* Queues a copy of event; now in microseconds (monotonic). */
void hook_queue_add(struct hook_queue *queue, const struct watch_event *event, gint64 now);

/* When the batch is due (microseconds, may be in the past), or -1 when
 * nothing waits or a run is going on. */
gint64 hook_queue_due(const struct hook_queue *queue, const struct config_hook_timing *timing);

struct hook_batch {
	GPtrArray *events; /* struct watch_event *, in arrival order (owned) */
	guint count;       /* events the batch stands for: events->len + left out */
};
void hook_batch_free(struct hook_batch *batch);

/* Takes what waits as a batch and marks a run as going on; NULL when
 * nothing waits. */
struct hook_batch *hook_queue_take(struct hook_queue *queue);

/* The run ended: the next batch may be taken when due. */
void hook_queue_finished(struct hook_queue *queue);

bool hook_queue_running(const struct hook_queue *queue);
bool hook_queue_empty(const struct hook_queue *queue);

/* The batch as JSON, the --print-events format: one object for one event,
 * an array for more. New string. */
char *hook_batch_to_json(const struct hook_batch *batch);

/* The folder all events of the batch are about, or "" when they differ
 * or are about no folder. Borrowed. */
const char *hook_batch_folder(const struct hook_batch *batch);

typedef struct hook_batch hook_batch;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hook_batch, hook_batch_free)

#endif
