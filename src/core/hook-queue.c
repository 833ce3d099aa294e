/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/hook-queue.h"

#include <string.h>

struct hook_queue {
	GPtrArray *events; /* struct watch_event * */
	guint left_out;
	gint64 first; /* when the first waiting event came, µs */
	gint64 last;  /* when the last one came */
	bool running;
};

struct hook_queue *hook_queue_new(void)
{
	struct hook_queue *q = g_new0(struct hook_queue, 1);

	q->events = g_ptr_array_new_with_free_func((GDestroyNotify)watch_event_free);
	return q;
}

void hook_queue_free(struct hook_queue *q)
{
	if (q == NULL) {
		return;
	}
	g_ptr_array_unref(q->events);
	g_free(q);
}

void hook_queue_add(struct hook_queue *q, const struct watch_event *event, gint64 now)
{
	if (hook_queue_empty(q)) {
		q->first = now;
	}
	q->last = now;
	if (q->events->len < HOOK_QUEUE_MAX_EVENTS) {
		g_ptr_array_add(q->events, watch_event_copy(event));
	} else {
		q->left_out++;
	}
}

bool hook_queue_empty(const struct hook_queue *q)
{
	return q->events->len == 0 && q->left_out == 0;
}

bool hook_queue_running(const struct hook_queue *q)
{
	return q->running;
}

gint64 hook_queue_due(const struct hook_queue *q, const struct config_hook_timing *t)
{
	if (q->running || hook_queue_empty(q)) {
		return -1;
	}
	return MIN(q->last + (gint64)t->delay * G_USEC_PER_SEC,
	           q->first + (gint64)t->max_delay * G_USEC_PER_SEC);
}

struct hook_batch *hook_queue_take(struct hook_queue *q)
{
	struct hook_batch *b;

	if (hook_queue_empty(q)) {
		return NULL;
	}
	b = g_new0(struct hook_batch, 1);
	b->events = q->events;
	b->count = q->events->len + q->left_out;
	q->events = g_ptr_array_new_with_free_func((GDestroyNotify)watch_event_free);
	q->left_out = 0;
	q->running = true;
	return b;
}

void hook_queue_finished(struct hook_queue *q)
{
	q->running = false;
}

void hook_batch_free(struct hook_batch *b)
{
	if (b == NULL) {
		return;
	}
	g_ptr_array_unref(b->events);
	g_free(b);
}

char *hook_batch_to_json(const struct hook_batch *b)
{
	GString *out = g_string_new(b->events->len == 1 ? "" : "[");

	for (guint i = 0; i < b->events->len; i++) {
		g_autofree char *one = watch_event_to_json(b->events->pdata[i]);

		g_string_append_printf(out, "%s%s", i > 0 ? "," : "", one);
	}
	g_string_append(out, b->events->len == 1 ? "\n" : "]\n");
	return g_string_free(out, FALSE);
}

const char *hook_batch_folder(const struct hook_batch *b)
{
	const char *folder = NULL;

	for (guint i = 0; i < b->events->len; i++) {
		const struct watch_event *e = b->events->pdata[i];

		if (e->type == WATCH_EVENT_STATE || e->folder == NULL ||
		    (folder != NULL && strcmp(folder, e->folder) != 0)) {
			return "";
		}
		folder = e->folder;
	}
	return folder != NULL ? folder : "";
}
