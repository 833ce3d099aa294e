/* SPDX-License-Identifier: MIT */
/*
 * What an account keeps on disk (state-store): each folder's UIDVALIDITY
 * and watermark, loaded when the account is made (each folder's model is
 * restored from it when the folder is made) and saved, at most once a
 * second, after the events that moved them went out.
 */
#include "io/account-private.h"

#include "imapwatch/io/state-store.h"

/* N4: the watermark is written after the events that moved it went out;
 * a crash in between repeats nothing, at worst it reports again what was
 * not yet saved — and the file is written at most once a second. */
void account_save(struct account *a)
{
	account_timer_clear(a, &a->save_timer);
	for (guint i = 0; i < a->folders->len; i++) {
		const struct folder *f = a->folders->pdata[i];

		if (!mailbox_is_synced(f->mailbox)) {
			continue; /* nothing new learnt: keep what is stored */
		}
		struct state_folder *sf =
		    state_account_get_folder(a->saved, mailbox_get_folder(f->mailbox), true);
		if (sf->uidvalidity != mailbox_get_uidvalidity(f->mailbox)) {
			/* M3: nothing keyed by the old UIDVALIDITY survives. */
			g_array_set_size(sf->shown, 0);
			sf->highestmodseq = 0;
			sf->uidnext = 0;
		}
		sf->uidvalidity = mailbox_get_uidvalidity(f->mailbox);
		sf->watermark = mailbox_get_watermark(f->mailbox);
	}
	int r = state_store_save(a->state_dir, a->saved);
	if (r < 0) {
		g_warning("cannot save state for account '%s' in %s: %s", a->config->name,
		          a->state_dir, g_strerror(-r));
	}
}

static gboolean save_cb(gpointer user_data)
{
	struct account *a = user_data;

	a->save_timer = 0;
	account_save(a);
	return G_SOURCE_REMOVE;
}

void account_save_soon(struct account *a)
{
	if (a->save_timer == 0) {
		a->save_timer = a->env->timer_add(1000, save_cb, a);
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
