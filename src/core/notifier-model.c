/* SPDX-License-Identifier: MIT */
/*
 * The notifier model (notifier-model-private.h): create, options, destroy,
 * and what the notifier asks about slots (forget, messages, shown ids).
 * Events are in notifier-model-events.c, the text of popups in
 * notifier-model-text.c, quiet time in notifier-model-quiet.c.
 */
#include "core/notifier-model-private.h"

#include <string.h>

void notifier_op_free(struct notifier_op *op)
{
	if (op == NULL) {
		return;
	}
	g_free(op->summary);
	g_free(op->body);
	g_free(op->sound);
	g_free(op);
}

static void slot_free(struct slot *s)
{
	g_ptr_array_unref(s->entries);
	g_free(s->location);
	g_free(s);
}

static void folder_free(struct folder *f)
{
	g_ptr_array_unref(f->singles);
	g_free(f);
}

struct notifier_model *notifier_model_create(const struct notifier_model_options *options)
{
	struct notifier_model *m = g_new0(struct notifier_model, 1);

	notifier_model_set_options(m, options);
	m->slots =
	    g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)slot_free);
	m->entries = g_hash_table_new(g_str_hash, g_str_equal);
	m->folders =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)folder_free);
	g_queue_init(&m->singles);
	m->errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	m->restarted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->announced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	m->deferred = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
	                                    (GDestroyNotify)notifier_op_free);
	return m;
}

void notifier_model_destroy(struct notifier_model *m)
{
	if (m == NULL) {
		return;
	}
	g_hash_table_unref(m->entries);
	g_hash_table_unref(m->slots);
	g_hash_table_unref(m->folders);
	g_hash_table_unref(m->errors);
	g_hash_table_unref(m->restarted);
	g_hash_table_unref(m->announced);
	g_hash_table_unref(m->deferred);
	g_queue_clear(&m->singles);
	g_free(m);
}

void notifier_model_set_options(struct notifier_model *m,
                                const struct notifier_model_options *options)
{
	m->options = *options;
	m->options.max = MAX(m->options.max, 1);
}

void notifier_model_forget(struct notifier_model *m, guint64 slot)
{
	struct slot *s = g_hash_table_lookup(m->slots, &slot);

	/* A summary keeps counting: the next message of its burst shows it
	 * again with every message still unseen. Nothing joins the summary of
	 * a quiet time once shown, nor that of newly watched folders once a
	 * later reload started another. */
	if (s != NULL && (s->kind == SLOT_SINGLE || (s->kind == SLOT_QUIET && s != m->held) ||
	                  (s->kind == SLOT_WATCHED && s != m->watched))) {
		notifier_model_slot_drop(m, s);
	} else if (s != NULL && s->kind == SLOT_WATCHED) {
		s->gone = true;
	}
}

void notifier_model_forget_all(struct notifier_model *m)
{
	g_autoptr(GPtrArray) quiet = g_ptr_array_new();
	GHashTableIter iter;
	struct slot *s;

	while (m->singles.length > 0) {
		notifier_model_slot_drop(m, g_queue_peek_head(&m->singles));
	}
	g_hash_table_iter_init(&iter, m->slots);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&s)) {
		if ((s->kind == SLOT_QUIET && s != m->held) ||
		    (s->kind == SLOT_WATCHED && s != m->watched)) {
			g_ptr_array_add(quiet, s);
		} else if (s->kind == SLOT_WATCHED) {
			s->gone = true;
		}
	}
	for (guint i = 0; i < quiet->len; i++) {
		notifier_model_slot_drop(m, quiet->pdata[i]);
	}
}

void notifier_model_account_restarted(struct notifier_model *m, const char *account)
{
	g_hash_table_add(m->restarted, g_strdup(account));
	if (m->watched == NULL) {
		return;
	}
	/* The summary of an earlier reload stays for what is shown of it
	 * (withdrawals update it) and goes with its popup. */
	if (m->watched->gone) {
		notifier_model_slot_drop(m, m->watched);
	}
	m->watched = NULL;
}

char *notifier_model_retry(struct notifier_model *m, guint64 slot)
{
	GHashTableIter iter;
	const char *account;
	struct account_notice *notice;

	g_hash_table_iter_init(&iter, m->errors);
	while (g_hash_table_iter_next(&iter, (gpointer *)&account, (gpointer *)&notice)) {
		if (notice->slot == slot) {
			notice->again = true;
			return g_strdup(account);
		}
	}
	return NULL;
}

GPtrArray *notifier_model_get_messages(struct notifier_model *m, guint64 slot)
{
	struct slot *s = g_hash_table_lookup(m->slots, &slot);
	GPtrArray *out;

	if (s == NULL) {
		return NULL;
	}
	out = g_ptr_array_sized_new(s->entries->len);
	for (guint i = s->entries->len; i > 0; i--) {
		struct entry *e = s->entries->pdata[i - 1];

		g_ptr_array_add(out, &e->message);
	}
	return out;
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char **notifier_model_get_shown_ids(struct notifier_model *m)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	GHashTableIter iter;
	const char *id;

	g_hash_table_iter_init(&iter, m->entries);
	while (g_hash_table_iter_next(&iter, (gpointer *)&id, NULL)) {
		g_ptr_array_add(ids, g_strdup(id));
	}
	g_ptr_array_sort(ids, compare_strings);
	g_ptr_array_add(ids, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&ids), FALSE);
}
