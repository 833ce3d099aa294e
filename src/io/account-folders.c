/* SPDX-License-Identifier: MIT */
/*
 * Which folders an account watches, and how: the configured names and
 * patterns resolved by the primary connection's LIST, and the plan of
 * connections — one with NOTIFY (it watches every other folder as a
 * guest), else one IDLE connection per folder up to the budget
 * (max_connections, lowered when the server refuses more), INBOX first,
 * the rest polled by the primary.
 */
#include "io/account-private.h"

#include "imapwatch/io/state-store.h"

#include <string.h>

/* Special uses a pattern never matches: nobody wants popups from these. */
static const char *const skipped_uses[] = {"\\Junk", "\\Trash", "\\Sent", "\\Drafts", "\\All"};

static void mailbox_event(const struct watch_event *event, void *user_data)
{
	struct folder *f = user_data;

	/* New mail moved the watermark, a change the mod-sequence and sets, a
	 * reset brought a new UIDVALIDITY and baseline: all written before
	 * the event goes out (N1, N2, N4). */
	account_emit(f->account, event);
}

struct folder *account_folder_new(struct account *a, const char *name, bool named)
{
	struct folder *f = g_new0(struct folder, 1);
	const struct state_folder *sf = state_account_get_folder(a->saved, name, false);

	f->account = a;
	f->named = named;
	f->mailbox = mailbox_create(a->config->name, name, mailbox_event, f);
	if (sf != NULL && sf->uidvalidity != 0) {
		mailbox_restore(f->mailbox, sf->uidvalidity, sf->watermark);
		if (sf->all != NULL) {
			mailbox_restore_sets(f->mailbox, sf->highestmodseq, sf->all, sf->unseen);
		}
	}
	return f;
}

void account_folder_free(gpointer data)
{
	struct folder *f = data;

	mailbox_destroy(f->mailbox);
	g_free(f->error);
	g_free(f);
}

struct folder *account_folder_find(struct account *a, const char *name)
{
	for (guint i = 0; i < a->folders->len; i++) {
		struct folder *f = a->folders->pdata[i];

		if (mailbox_same_folder(mailbox_get_folder(f->mailbox), name)) {
			return f;
		}
	}
	return NULL;
}

/* INBOX first: the folder most mail arrives in gets the first IDLE. */
static gint inbox_first(gconstpointer x, gconstpointer y)
{
	const struct folder *a = *(const struct folder *const *)x;
	const struct folder *b = *(const struct folder *const *)y;
	bool ia = g_ascii_strcasecmp(mailbox_get_folder(a->mailbox), "INBOX") == 0;
	bool ib = g_ascii_strcasecmp(mailbox_get_folder(b->mailbox), "INBOX") == 0;

	return (int)ib - (int)ia;
}

void account_folders_init(struct account *a)
{
	char **entries = a->config->folders;
	guint named = 0;

	for (size_t i = 0; entries[i] != NULL; i++) {
		if (config_folder_is_pattern(entries[i])) {
			a->lists = true;
			continue;
		}
		g_ptr_array_add(a->folders, account_folder_new(a, entries[i], true));
		named++;
	}
	/* Several folders: one LIST finds the missing ones before anything
	 * is selected (and their special use). */
	a->lists = a->lists || named > 1;
	/* g_ptr_array_sort is stable in GLib >= 2.76 only; the folders are few,
	 * an insertion keeps the config order. */
	for (guint i = 1; i < a->folders->len; i++) {
		for (guint k = i;
		     k > 0 && inbox_first(&a->folders->pdata[k], &a->folders->pdata[k - 1]) < 0;
		     k--) {
			gpointer t = a->folders->pdata[k];
			a->folders->pdata[k] = a->folders->pdata[k - 1];
			a->folders->pdata[k - 1] = t;
		}
	}
	if (!a->lists) {
		/* One named folder: what else was saved is forgotten. */
		state_account_prune_folders(a->saved, (const char *const *)entries);
	}
}

/* Other users' and shared folders are the user's own business only when
 * a pattern names their namespace ("Public/" then "*"): a bare "*" means the
 * user's own folders, not every team's. */
static bool skipped_by_patterns(struct account *a, const struct imap_session_listed *l)
{
	bool reached = l->foreign == NULL;

	for (char **entry = a->config->folders; !reached && *entry != NULL; entry++) {
		reached = config_folder_is_pattern(*entry) && g_str_has_prefix(*entry, l->foreign);
	}
	if (l->noselect || !reached) {
		return true;
	}
	for (size_t i = 0; l->special_use != NULL && i < G_N_ELEMENTS(skipped_uses); i++) {
		if (strcmp(l->special_use, skipped_uses[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* Takes the folder of that name from old (or makes one) into next. */
static struct folder *folder_take(struct account *a, GPtrArray *old, GPtrArray *next,
                                  const char *name, bool named)
{
	for (guint i = 0; i < old->len; i++) {
		struct folder *f = old->pdata[i];

		if (mailbox_same_folder(mailbox_get_folder(f->mailbox), name)) {
			g_ptr_array_add(next, g_ptr_array_steal_index(old, i));
			f->named = named;
			return f;
		}
	}
	struct folder *f = account_folder_new(a, name, named);
	g_ptr_array_add(next, f);
	return f;
}

void account_folders_listed(struct account *a, const struct imap_session_listed *entries, size_t n)
{
	char **config = a->config->folders;
	g_autoptr(GPtrArray) old = g_ptr_array_new_full(0, account_folder_free);
	GPtrArray *next = g_ptr_array_new_with_free_func(account_folder_free);

	for (guint i = 0; i < a->folders->len; i++) {
		g_ptr_array_add(old, a->folders->pdata[i]);
	}
	g_ptr_array_set_free_func(a->folders, NULL);
	g_ptr_array_unref(a->folders);
	a->folders = next;

	/* Named folders in config order, whether the server has them or not:
	 * one that is missing is an error of its own. */
	for (size_t i = 0; config[i] != NULL; i++) {
		const struct imap_session_listed *found = NULL;

		if (config_folder_is_pattern(config[i])) {
			continue;
		}
		for (size_t k = 0; k < n && found == NULL; k++) {
			found =
			    mailbox_same_folder(entries[k].name, config[i]) ? &entries[k] : NULL;
		}
		struct folder *f =
		    folder_take(a, old, next, found != NULL ? found->name : config[i], true);
		g_clear_pointer(&f->error, g_free);
		if (found == NULL) {
			f->error =
			    g_strdup_printf("folder '%s' does not exist on the server", config[i]);
		} else if (found->noselect) {
			f->error = g_strdup_printf("folder '%s' only holds other folders; name "
			                           "those in folders",
			                           config[i]);
		}
	}
	/* Then what the patterns matched, in server order. */
	for (size_t k = 0; k < n; k++) {
		bool named = false;

		for (size_t i = 0; config[i] != NULL && !named; i++) {
			named = !config_folder_is_pattern(config[i]) &&
			        mailbox_same_folder(entries[k].name, config[i]);
		}
		if (named || skipped_by_patterns(a, &entries[k]) ||
		    account_folder_find(a, entries[k].name) != NULL) {
			continue;
		}
		/* Listed again: worth another try, as a named folder is. */
		g_clear_pointer(&folder_take(a, old, next, entries[k].name, false)->error, g_free);
	}
	for (guint i = 1; i < next->len; i++) {
		for (guint k = i; k > 0 && inbox_first(&next->pdata[k], &next->pdata[k - 1]) < 0;
		     k--) {
			gpointer t = next->pdata[k];
			next->pdata[k] = next->pdata[k - 1];
			next->pdata[k - 1] = t;
		}
	}
	/* Folders no longer watched may still be selected by a connection:
	 * kept aside until the account goes. */
	while (old->len > 0) {
		struct folder *f = g_ptr_array_steal_index(old, 0);

		g_message("account '%s': folder '%s' is no longer watched", a->config->name,
		          mailbox_get_folder(f->mailbox));
		g_ptr_array_add(a->retired, f);
	}
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	for (guint i = 0; i < next->len; i++) {
		g_ptr_array_add(names, (gpointer)mailbox_get_folder(
		                           ((struct folder *)next->pdata[i])->mailbox));
	}
	g_ptr_array_add(names, NULL);
	state_account_prune_folders(a->saved, (const char *const *)names->pdata);
	account_plan(a);
}

/* --- the plan --------------------------------------------------------------- */

static bool watchable(const struct folder *f)
{
	return f->error == NULL;
}

/* A connection other than the first on its way in: waiting for its token,
 * connecting or logging in. */
static bool extra_on_its_way(const struct account *a)
{
	for (guint i = 1; i < a->slots->len; i++) {
		const struct slot *s = a->slots->pdata[i];
		bool logging_in = s->connection != NULL && (s->state == WATCH_STATE_CONNECTING ||
		                                            s->state == WATCH_STATE_AUTHENTICATING);

		if (!s->leaving && (s->wants_token || logging_in)) {
			return true;
		}
	}
	return false;
}

void account_plan(struct account *a)
{
	struct slot *primary = a->slots->len > 0 ? a->slots->pdata[0] : NULL;
	g_autoptr(GPtrArray) homes = g_ptr_array_new();
	g_autoptr(GPtrArray) guests = g_ptr_array_new();
	guint want;

	if (primary == NULL || a->stopping) {
		return;
	}
	if (primary->home == NULL || !watchable(primary->home) ||
	    !g_ptr_array_find(a->folders, primary->home, NULL)) {
		/* The primary has not selected anything yet (or its folder is
		 * gone: its next connection takes another). */
		struct folder *home = NULL;

		for (guint i = 0; i < a->folders->len && home == NULL; i++) {
			home = watchable(a->folders->pdata[i]) ? a->folders->pdata[i] : NULL;
		}
		if (home == NULL) {
			account_update_state(a);
			return;
		}
		if (primary->home != NULL && primary->home->home_of == primary) {
			primary->home->home_of = NULL;
		}
		primary->home = home;
		home->home_of = primary;
		if (primary->connection != NULL) {
			a->env->connection_set_home(primary->connection, home->mailbox);
		}
	}
	g_ptr_array_add(homes, primary->home);
	want = a->notify == ACCOUNT_NOTIFY_NO ? a->budget : 1;
	for (guint i = 0; i < a->folders->len && homes->len < want; i++) {
		struct folder *f = a->folders->pdata[i];

		if (watchable(f) && f != primary->home) {
			g_ptr_array_add(homes, f);
		}
	}
	/* Connections whose folder is no longer one of the homes go; the
	 * homes without one get one. */
	for (guint i = a->slots->len; i > 1; i--) {
		struct slot *s = a->slots->pdata[i - 1];

		if (!s->leaving && !g_ptr_array_find(homes, s->home, NULL)) {
			account_slot_leave(s);
		}
	}
	/* The homes without a connection get one, queued: they log in one
	 * after another, the next once the one before is in (or failed and
	 * waits), so a server's per-user limit refuses exactly the
	 * connections over it instead of racing logins that arrive together
	 * (F7). Queued, a connection shows as connecting. */
	for (guint i = 1; i < homes->len; i++) {
		struct folder *f = homes->pdata[i];

		if (f->home_of == NULL && a->password != NULL) {
			account_slot_new(a, f)->queued = true;
		}
	}
	for (guint i = 1; i < a->slots->len && !extra_on_its_way(a); i++) {
		struct slot *s = a->slots->pdata[i];

		if (s->queued && !s->leaving) {
			/* One only: connecting may plan again (a failure at
			 * once), which goes on with the next. */
			account_slot_connect(s);
			break;
		}
	}
	for (guint i = 0; i < a->folders->len; i++) {
		struct folder *f = a->folders->pdata[i];

		if (watchable(f) && !g_ptr_array_find(homes, f, NULL)) {
			g_ptr_array_add(guests, f->mailbox);
		}
	}
	if (primary->connection != NULL) {
		a->env->connection_set_guests(primary->connection,
		                              (struct mailbox *const *)guests->pdata, guests->len);
	}
	account_update_state(a);
}
