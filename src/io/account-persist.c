/* SPDX-License-Identifier: MIT */
/*
 * What an account keeps on disk (state-store): each folder's UIDVALIDITY,
 * watermark, mod-sequence and (compact mode) UID sets, loaded when the
 * account is made (each folder's model is restored from it when the folder
 * is made) and written before the events that moved them go out; and the
 * server's IDLE lifetime once learnt (I9), written when it is learnt or
 * dropped, so that a restart does not learn it again.
 */
#include "io/account-private.h"

#include "imapwatch/io/state-store.h"

/* What the folders know now, into a->saved; true if it differs from what
 * was written last. */
static bool state_update(struct account *a)
{
	bool changed = false;

	for (guint i = 0; i < a->folders->len; i++) {
		const struct folder *f = a->folders->pdata[i];
		const struct uidset *all = NULL;
		const struct uidset *unseen = NULL;

		if (!mailbox_is_synced(f->mailbox)) {
			continue; /* nothing new learnt: keep what is stored */
		}
		struct state_folder *sf =
		    state_account_get_folder(a->saved, mailbox_get_folder(f->mailbox), true);
		if (sf->uidvalidity != mailbox_get_uidvalidity(f->mailbox)) {
			/* M3: nothing keyed by the old UIDVALIDITY survives. */
			g_array_set_size(sf->shown, 0);
			sf->uidnext = 0;
			changed = true;
		}
		bool has_sets = mailbox_get_sets(f->mailbox, &all, &unseen);
		changed = changed || sf->uidvalidity != mailbox_get_uidvalidity(f->mailbox) ||
		          sf->watermark != mailbox_get_watermark(f->mailbox) ||
		          sf->highestmodseq != mailbox_get_modseq(f->mailbox) ||
		          has_sets != (sf->all != NULL) ||
		          (has_sets &&
		           (!uidset_equal(sf->all, all) || !uidset_equal(sf->unseen, unseen)));
		sf->uidvalidity = mailbox_get_uidvalidity(f->mailbox);
		sf->watermark = mailbox_get_watermark(f->mailbox);
		sf->highestmodseq = mailbox_get_modseq(f->mailbox);
		if (changed) {
			state_folder_set_sets(sf, has_sets ? all : NULL, unseen);
		}
	}
	return changed;
}

static void save_failed(struct account *a, int r)
{
	g_warning("cannot save state for account '%s' in %s: %s", a->config->name, a->state_dir,
	          g_strerror(-r));
}

void account_save(struct account *a)
{
	account_timer_clear(a, &a->save_timer);
	/* What the last flush wrote, now durably: held events are not in it,
	 * and are not announced without it. */
	int r = state_store_save(a->state_dir, a->saved);
	if (r < 0) {
		save_failed(a, r);
	}
}

static gboolean save_cb(gpointer user_data)
{
	struct account *a = user_data;

	a->save_timer = 0;
	account_save(a);
	return G_SOURCE_REMOVE;
}

/* N4: exactly once across a crash. The events wait, in order, until the
 * state that accounts for them is written — watermark, mod-sequence and
 * sets, which the model moved when it made the events — so that a restart
 * after the daemon died finds them reported and reports none again. The
 * write that comes first rewrites the fast file in place without a sync
 * (microseconds; a crash of the process keeps it); the durable save
 * follows within a second, for a power cut.
 * The wait is the rest of the main loop's turn: whatever one read from the
 * server brought goes out together after one write. */
void account_flush(struct account *a)
{
	account_timer_clear(a, &a->flush_timer);
	if (state_update(a)) {
		int r = state_store_save_fast(a->state_dir, a->saved);

		if (r < 0) {
			save_failed(a, r);
		}
		if (a->save_timer == 0) {
			a->save_timer = a->env->timer_add(1000, save_cb, a);
		}
	}
	g_autoptr(GPtrArray) held = g_steal_pointer(&a->held);
	a->held = g_ptr_array_new_with_free_func((GDestroyNotify)watch_event_free);
	for (guint i = 0; i < held->len; i++) {
		a->sink(held->pdata[i], a->user_data);
	}
}

static gboolean flush_cb(gpointer user_data)
{
	struct account *a = user_data;

	a->flush_timer = 0;
	account_flush(a);
	return G_SOURCE_REMOVE;
}

void account_emit(struct account *a, const struct watch_event *event)
{
	if (event->type == WATCH_EVENT_STATE && a->held->len == 0) {
		/* Nothing of the state file in it, and nothing to wait behind. */
		a->sink(event, a->user_data);
		return;
	}
	g_ptr_array_add(a->held, watch_event_copy(event));
	if (a->flush_timer == 0) {
		a->flush_timer = a->env->timer_add(0, flush_cb, a);
	}
}

void account_load(struct account *a)
{
	g_autofree char *warning = NULL;
	struct state_account *saved = NULL;
	int r = state_store_load(a->state_dir, a->config->name, &saved, &warning);

	if (warning != NULL) {
		g_warning("state of account '%s': %s", a->config->name, warning);
	}
	if (r < 0 || saved == NULL) {
		if (r < 0) {
			g_warning("cannot read state of account '%s' from %s: %s", a->config->name,
			          a->state_dir, g_strerror(-r));
		}
		saved = state_account_new(a->config->name);
	}
	a->saved = saved;
}

void account_keep_idle_lifetime(struct account *a)
{
	a->saved->idle_lifetime = a->idle_lifetime.lifetime;
	a->saved->idle_refresh = a->idle_lifetime.refresh;
	/* Rare (learnt or dropped): durably at once, with the folders'
	 * state of the last flush. */
	account_save(a);
}

bool account_restore_idle_lifetime(struct account *a)
{
	if (a->saved->idle_refresh == 0) {
		return false;
	}
	if (!idle_lifetime_restore(&a->idle_lifetime, a->saved->idle_lifetime,
	                           a->saved->idle_refresh)) {
		/* Not what this rule could learn (another floor): forgotten
		 * at the next write. */
		a->saved->idle_lifetime = 0;
		a->saved->idle_refresh = 0;
		return false;
	}
	return true;
}
