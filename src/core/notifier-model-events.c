/* SPDX-License-Identifier: MIT */
/*
 * The events of the notifier model: the slots (popups) and their entries,
 * and how new mail (single popups, bursts folded into a folder's summary,
 * catch-up), \Seen and removal, folder resets and account errors fill,
 * fold, settle and close them.
 */
#include "core/notifier-model-private.h"

#include "imapwatch/core/header.h"

#include <string.h>

/* Characters of an account's error shown in its popup. */
#define NOTIFIER_ERROR_DETAIL_CHARS 200

static void entry_free(struct entry *e)
{
	g_free(e->message.id);
	g_free(e->message.account);
	g_free(e->message.folder);
	g_free(e->message.message_id);
	g_free(e->sender);
	g_free(e->subject);
	g_free(e->sound);
	g_free(e);
}

/* --- slots --------------------------------------------------------------- */

static struct slot *slot_new(struct notifier_model *m, enum slot_kind kind, char *location)
{
	struct slot *s = g_new0(struct slot, 1);

	s->id = ++m->next_slot;
	s->kind = kind;
	s->location = location;
	s->entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
	g_hash_table_insert(m->slots, &s->id, s);
	if (kind == SLOT_SINGLE) {
		g_queue_push_tail(&m->singles, s);
	}
	return s;
}

static void slot_add_entry(struct notifier_model *m, struct slot *s, struct entry *e)
{
	e->slot = s;
	g_hash_table_replace(m->entries, e->message.id, e);
	g_ptr_array_add(s->entries, e);
	if (s->entries->len > NOTIFIER_MODEL_MAX_SUMMED) {
		struct entry *oldest = s->entries->pdata[0];

		g_hash_table_remove(m->entries, oldest->message.id);
		g_ptr_array_remove_index(s->entries, 0);
		s->uncounted++;
	}
}

/* Forgets a slot and its entries; sends nothing. */
void notifier_model_slot_drop(struct notifier_model *m, struct slot *s)
{
	GHashTableIter iter;
	struct folder *f;

	for (guint i = 0; i < s->entries->len; i++) {
		struct entry *e = s->entries->pdata[i];

		g_hash_table_remove(m->entries, e->message.id);
	}
	g_hash_table_iter_init(&iter, m->folders);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&f)) {
		if (f->summary == s) {
			f->summary = NULL;
		}
		g_ptr_array_remove(f->singles, s);
	}
	if (m->catchup == s) {
		m->catchup = NULL;
	}
	if (m->watched == s) {
		m->watched = NULL;
	}
	if (m->held == s) {
		m->held = NULL;
	}
	if (s->kind == SLOT_SINGLE) {
		g_queue_remove(&m->singles, s);
	}
	g_hash_table_remove(m->slots, &s->id);
}

/* Moves every entry of from into to (oldest first), and drops from. */
static void slot_fold(struct notifier_model *m, struct slot *from, struct slot *to)
{
	while (from->entries->len > 0) {
		struct entry *e = g_ptr_array_steal_index(from->entries, 0);

		slot_add_entry(m, to, e);
	}
	notifier_model_slot_drop(m, from);
}

static struct entry *entry_new(const struct watch_event *ev, const struct config_notice *notice)
{
	struct entry *e = g_new0(struct entry, 1);
	const char *sender = ev->from_name && *ev->from_name ? ev->from_name : ev->from_addr;
	g_autofree char *sender_clean = header_sanitize(sender ? sender : "");
	g_autofree char *subject_clean = header_sanitize(ev->subject ? ev->subject : "");

	e->message.id = watch_event_message_id(ev->account, ev->folder, ev->uidvalidity, ev->uid);
	e->message.account = g_strdup(ev->account);
	e->message.folder = g_strdup(ev->folder);
	e->message.uidvalidity = ev->uidvalidity;
	e->message.uid = ev->uid;
	e->message.message_id = g_strdup(ev->message_id ? ev->message_id : "");
	e->sender = notifier_model_clip(*sender_clean ? sender_clean : "Unknown sender",
	                                NOTIFIER_MODEL_NAME_CHARS);
	e->subject = notifier_model_clip(*subject_clean ? subject_clean : "(no subject)",
	                                 NOTIFIER_MODEL_SUBJECT_CHARS);
	e->urgency = notice->urgency;
	e->content = notice->content;
	e->sound = g_strdup(notice->sound);
	return e;
}

/* --- quiet time ---------------------------------------------------------- */

void notifier_model_emit(struct notifier_model *m, GPtrArray *ops, struct notifier_op *op)
{
	if (op->type == NOTIFIER_OP_CLOSE) {
		g_hash_table_remove(m->deferred, &op->slot);
	} else if (m->quiet != 0 && !op->only_if_shown) {
		/* Only popups about no message get here (new mail is held):
		 * the latest one per slot waits for the end of quiet time. */
		g_hash_table_replace(m->deferred, &op->slot, op);
		return;
	}
	g_ptr_array_add(ops, op);
}

void notifier_model_hold(struct notifier_model *m, struct entry *e)
{
	if (m->held == NULL) {
		m->held = slot_new(m, SLOT_QUIET, NULL);
	}
	m->held->quiet |= m->quiet;
	slot_add_entry(m, m->held, e);
}

/* --- events -------------------------------------------------------------- */

static struct folder *folder_get(struct notifier_model *m, const char *location)
{
	struct folder *f = g_hash_table_lookup(m->folders, location);

	if (f == NULL) {
		f = g_new0(struct folder, 1);
		f->singles = g_ptr_array_new();
		g_hash_table_insert(m->folders, g_strdup(location), f);
	}
	return f;
}

/* Catch-up goes to the summary of mail from while imapwatch was not
 * running, or, for an account a reload (re)started, to that of its newly
 * watched folders. */
static void new_catchup(struct notifier_model *m, struct entry *e, GPtrArray *ops)
{
	bool restarted = g_hash_table_contains(m->restarted, e->message.account);
	struct slot **summary = restarted ? &m->watched : &m->catchup;
	const char *sound = NULL;

	if (*summary == NULL) {
		*summary = slot_new(m, restarted ? SLOT_WATCHED : SLOT_CATCHUP, NULL);
	}
	slot_add_entry(m, *summary, e);
	(*summary)->gone = false;
	/* Accounts finish their first sync one after the other: one sound,
	 * with the first message that has one. */
	if (!(*summary)->sounded && e->sound != NULL) {
		sound = e->sound;
		(*summary)->sounded = true;
	}
	notifier_model_emit(m, ops, notifier_model_op_show(m, *summary, sound, false));
}

static void new_message(struct notifier_model *m, struct entry *e, gint64 now, GPtrArray *ops)
{
	g_autofree char *location =
	    notifier_model_location_of(e->message.account, e->message.folder);
	struct folder *f = folder_get(m, location);

	if (f->burst == 0 || now - f->last_new > m->options.window) {
		f->burst++;
		f->in_burst = 0;
		g_ptr_array_set_size(f->singles, 0);
	}
	f->last_new = now;
	f->in_burst++;
	if (f->in_burst <= m->options.max) {
		struct slot *s = slot_new(m, SLOT_SINGLE, g_steal_pointer(&location));

		slot_add_entry(m, s, e);
		g_ptr_array_add(f->singles, s);
		notifier_model_emit(m, ops, notifier_model_op_show(m, s, e->sound, false));
		if (m->singles.length > NOTIFIER_MODEL_MAX_SINGLES) {
			notifier_model_slot_drop(m, g_queue_peek_head(&m->singles));
		}
		return;
	}
	if (f->summary != NULL && f->summary->burst != f->burst) {
		/* The summary of an earlier burst is reused (one popup per
		 * folder) and starts again from this burst. */
		while (f->summary->entries->len > 0) {
			struct entry *old = f->summary->entries->pdata[0];

			g_hash_table_remove(m->entries, old->message.id);
			g_ptr_array_remove_index(f->summary->entries, 0);
		}
		f->summary->uncounted = 0;
		f->summary->burst = f->burst;
	}
	if (f->summary == NULL) {
		f->summary = slot_new(m, SLOT_FOLDER, g_strdup(location));
		f->summary->burst = f->burst;
	}
	while (f->singles->len > 0) {
		struct slot *single = f->singles->pdata[0];
		guint64 id = single->id;

		slot_fold(m, single, f->summary);
		notifier_model_emit(m, ops, notifier_model_op_close(id));
	}
	slot_add_entry(m, f->summary, e);
	notifier_model_emit(m, ops, notifier_model_op_show(m, f->summary, e->sound, false));
}

/* Takes an entry out of its slot (freed); returns the slot, which the
 * caller settles with slot_settle(). */
static struct slot *entry_remove(struct notifier_model *m, struct entry *e)
{
	struct slot *s = e->slot;

	g_hash_table_remove(m->entries, e->message.id);
	g_ptr_array_remove(s->entries, e);
	return s;
}

/* After withdrawals: a slot with no message left closes, another one is
 * updated if still shown. The summary of a quiet time is not shown yet:
 * it only shrinks, and goes when empty. */
static void slot_settle(struct notifier_model *m, struct slot *s, GPtrArray *ops)
{
	if (s->entries->len == 0) {
		guint64 slot = s->id;
		bool held = s == m->held;

		notifier_model_slot_drop(m, s);
		if (!held) {
			notifier_model_emit(m, ops, notifier_model_op_close(slot));
		}
		return;
	}
	if (s != m->held) {
		notifier_model_emit(m, ops, notifier_model_op_show(m, s, NULL, true));
	}
}

static void withdraw(struct notifier_model *m, const char *id, GPtrArray *ops)
{
	struct entry *e = g_hash_table_lookup(m->entries, id);

	if (e != NULL) {
		slot_settle(m, entry_remove(m, e), ops);
	}
}

static gint slot_cmp_id(gconstpointer a, gconstpointer b)
{
	guint64 x = (*(struct slot *const *)a)->id;
	guint64 y = (*(struct slot *const *)b)->id;

	return (x > y) - (x < y);
}

/* M3: every popup about a message of the folder under another UIDVALIDITY
 * goes at once; each popup touched is settled once, oldest first. */
static void withdraw_folder(struct notifier_model *m, const struct watch_event *ev, GPtrArray *ops)
{
	g_autoptr(GPtrArray) gone = g_ptr_array_new();
	g_autoptr(GPtrArray) touched = g_ptr_array_new();
	GHashTableIter iter;
	struct entry *e;

	g_hash_table_iter_init(&iter, m->entries);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&e)) {
		if (e->message.uidvalidity != ev->uidvalidity &&
		    strcmp(e->message.account, ev->account) == 0 &&
		    strcmp(e->message.folder, ev->folder) == 0) {
			g_ptr_array_add(gone, e);
		}
	}
	for (guint i = 0; i < gone->len; i++) {
		struct slot *s = entry_remove(m, gone->pdata[i]);

		if (!g_ptr_array_find(touched, s, NULL)) {
			g_ptr_array_add(touched, s);
		}
	}
	g_ptr_array_sort(touched, slot_cmp_id);
	for (guint i = 0; i < touched->len; i++) {
		slot_settle(m, touched->pdata[i], ops);
	}
}

/* One popup per folder, updated in place by a later reset: what the folder
 * holds now, in counts only (nothing about a message, whatever the
 * notification_content), no sound and no actions. */
static void reset_show(struct notifier_model *m, const struct watch_event *ev, GPtrArray *ops)
{
	g_autofree char *location = notifier_model_location_of(ev->account, ev->folder);
	struct folder *f = folder_get(m, location);

	if (f->reset_slot == 0) {
		f->reset_slot = ++m->next_slot;
	}
	notifier_model_emit(
	    m, ops,
	    notifier_model_op_notice(f->reset_slot, CATEGORY_MAIL,
	                             g_strdup_printf("%s was reset by the server", location),
	                             g_strdup_printf("It now holds %u %s, %u unread", ev->count,
	                                             notifier_model_messages_word(ev->count),
	                                             ev->unseen)));
}

void notifier_model_reset(struct notifier_model *m, const struct watch_event *ev, bool announce,
                          GPtrArray *ops)
{
	withdraw_folder(m, ev, ops);
	if (announce) {
		reset_show(m, ev, ops);
	}
}

/* An account that stops in state "error" (password rejected, certificate
 * refused), or waits for its keyring to be unlocked, gets one popup saying
 * so — no more until it recovers, when the popup closes. The popup is
 * updated in place when the account, once unlocked, fails, or when the
 * user chose "Try again" and it failed again: the user asked. It has no
 * messages, so no message actions (count 0). */
static void account_state(struct notifier_model *m, const struct watch_event *ev, GPtrArray *ops)
{
	struct account_notice *notice = g_hash_table_lookup(m->errors, ev->account);
	bool locked = g_strcmp0(ev->state, "connecting") == 0 &&
	              g_strcmp0(ev->detail, WATCH_DETAIL_KEYRING_LOCKED) == 0;
	struct notifier_op *op;

	if (g_strcmp0(ev->state, "error") == 0 || locked) {
		if (notice != NULL && (locked || (notice->error && !notice->again))) {
			return;
		}
		g_autofree char *name = notifier_model_clip(ev->account, NOTIFIER_MODEL_NAME_CHARS);

		if (notice == NULL) {
			notice = g_new0(struct account_notice, 1);
			notice->slot = ++m->next_slot;
			g_hash_table_insert(m->errors, g_strdup(ev->account), notice);
		}
		notice->again = false;
		notice->error = !locked;
		if (locked) {
			op = notifier_model_op_notice(
			    notice->slot, CATEGORY_ERROR,
			    g_strdup_printf("Mail account %s waits for the keyring", name),
			    g_strdup("It connects as soon as the keyring holding its password is "
			             "unlocked."));
			op->icon = NOTIFIER_ICON_KEYRING;
		} else {
			op = notifier_model_op_notice(
			    notice->slot, CATEGORY_ERROR,
			    g_strdup_printf("Mail account %s needs attention", name),
			    notifier_model_error_text(ev->detail, NOTIFIER_ERROR_DETAIL_CHARS));
			op->icon = NOTIFIER_ICON_ERROR;
			op->retry = true;
		}
		notifier_model_emit(m, ops, op);
	} else if (notice != NULL &&
	           (g_strcmp0(ev->state, "idle") == 0 || g_strcmp0(ev->state, "polling") == 0)) {
		notifier_model_emit(m, ops, notifier_model_op_close(notice->slot));
		g_hash_table_remove(m->errors, ev->account);
	}
}

static gboolean announced_expired(gpointer key, gpointer value, gpointer user_data)
{
	(void)key;
	return *(const gint64 *)value < *(const gint64 *)user_data;
}

/* True if the message was announced already in another folder of the
 * account (N5); else remembers it. */
static bool announced_before(struct notifier_model *m, const struct watch_event *ev, gint64 now)
{
	g_autofree char *key = NULL;
	gint64 window;

	if (ev->gm_msgid != 0) {
		key = g_strdup_printf("%s\nG:%" G_GUINT64_FORMAT, ev->account, ev->gm_msgid);
		window = NOTIFIER_MODEL_GMAIL_WINDOW;
	} else if (ev->message_id != NULL && ev->message_id[0] != '\0') {
		key = g_strdup_printf("%s\nM:%s", ev->account, ev->message_id);
		window = NOTIFIER_MODEL_DUPLICATE_WINDOW;
	} else {
		return false;
	}
	const gint64 *until = g_hash_table_lookup(m->announced, key);
	if (until != NULL && *until >= now) {
		return true;
	}
	if (g_hash_table_size(m->announced) >= NOTIFIER_MODEL_MAX_SEEN_KEYS) {
		g_hash_table_foreach_remove(m->announced, announced_expired, &now);
	}
	if (g_hash_table_size(m->announced) < NOTIFIER_MODEL_MAX_SEEN_KEYS) {
		gint64 *expiry = g_new(gint64, 1);

		*expiry = now + window;
		g_hash_table_replace(m->announced, g_steal_pointer(&key), expiry);
	}
	return false;
}

void notifier_model_feed(struct notifier_model *m, const struct watch_event *ev,
                         const struct config_notice *notice, gint64 now, GPtrArray *ops)
{
	g_autofree char *id = NULL;

	switch (ev->type) {
	case WATCH_EVENT_NEW:
		/* A message no rule lets notify is not the first copy of N5
		 * either: its copy in a folder that notifies still pops up. */
		if (ev->seen || notice == NULL || !notice->notify) {
			return;
		}
		id = watch_event_message_id(ev->account, ev->folder, ev->uidvalidity, ev->uid);
		if (g_hash_table_contains(m->entries, id)) {
			return;
		}
		if (ev->catchup && m->options.startup == CONFIG_STARTUP_SILENT) {
			return;
		}
		if (announced_before(m, ev, now)) {
			return;
		}
		if (m->quiet != 0) {
			notifier_model_hold(m, entry_new(ev, notice));
			return;
		}
		if (ev->catchup && m->options.startup == CONFIG_STARTUP_SUMMARY) {
			new_catchup(m, entry_new(ev, notice), ops);
			return;
		}
		new_message(m, entry_new(ev, notice), now, ops);
		return;
	case WATCH_EVENT_CHANGED:
		if (!ev->seen) {
			return;
		}
		/* fall through */
	case WATCH_EVENT_REMOVED:
		id = watch_event_message_id(ev->account, ev->folder, ev->uidvalidity, ev->uid);
		withdraw(m, id, ops);
		return;
	case WATCH_EVENT_STATE:
		account_state(m, ev, ops);
		return;
	case WATCH_EVENT_UNSEEN:
	case WATCH_EVENT_RESET:
		return;
	}
}
