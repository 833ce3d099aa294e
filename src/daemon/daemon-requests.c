/* SPDX-License-Identifier: MIT */
/*
 * What the outputs ask of the daemon: status, message listings, checks and
 * marking as read (one short connection per folder, completed from the
 * loop).
 */
#include "daemon/daemon-private.h"

#include "imapwatch/io/mark-read.h"

#include <string.h>

/* --- queries ------------------------------------------------------------- */

static struct mailbox *account_find_mailbox(struct account *a, const char *folder)
{
	for (guint i = 0; i < account_get_n_folders(a); i++) {
		struct mailbox *mb = account_get_mailbox(a, i);

		if (mailbox_same_folder(mailbox_get_folder(mb), folder)) {
			return mb;
		}
	}
	return NULL;
}

void daemon_status_free(struct daemon_status *status)
{
	if (status == NULL) {
		return;
	}
	g_free(status->version);
	g_ptr_array_unref(status->accounts);
	g_free(status);
}

static void folder_status_free(gpointer p)
{
	struct daemon_folder_status *f = p;

	g_free(f->name);
	g_free(f->watch);
	g_free(f->detail);
	g_free(f);
}

static void account_status_free(gpointer p)
{
	struct daemon_account_status *a = p;

	g_free(a->name);
	g_free(a->detail);
	g_ptr_array_unref(a->folders);
	g_free(a);
}

struct daemon_status *daemon_get_status(struct daemon *d)
{
	struct daemon_status *status = g_new0(struct daemon_status, 1);

	status->version = g_strdup(IMAPWATCH_VERSION);
	status->uptime = (guint64)((g_get_monotonic_time() - d->started) / G_USEC_PER_SEC);
	status->accounts = g_ptr_array_new_with_free_func(account_status_free);
	status->paused_until = daemon_get_paused_until(d);
	status->quiet = daemon_get_quiet(d);
	for (guint i = 0; i < d->accounts->len; i++) {
		struct account *a = d->accounts->pdata[i];
		struct daemon_account_status *as = g_new0(struct daemon_account_status, 1);
		const gint64 *last = g_hash_table_lookup(d->last_event, account_get_name(a));

		as->name = g_strdup(account_get_name(a));
		as->state = account_get_state(a);
		as->detail = g_strdup(account_get_detail(a));
		as->connected_since = account_get_connected_since(a);
		as->last_event = last != NULL ? *last : 0;
		as->folders = g_ptr_array_new_with_free_func(folder_status_free);
		as->connections = account_get_n_connections(a);
		for (guint j = 0; j < account_get_n_folders(a); j++) {
			struct mailbox *mb = account_get_mailbox(a, j);
			struct daemon_folder_status *fs = g_new0(struct daemon_folder_status, 1);
			const char *detail;

			fs->name = g_strdup(mailbox_get_folder(mb));
			fs->unseen = mailbox_get_unseen(mb);
			fs->watch = g_strdup(account_get_folder_watch(a, j, &detail));
			fs->detail = g_strdup(detail);
			status->total_unseen += fs->unseen;
			g_ptr_array_add(as->folders, fs);
		}
		g_ptr_array_add(status->accounts, as);
	}
	return status;
}

uint32_t daemon_get_total_unseen(struct daemon *d)
{
	uint32_t total = 0;

	for (guint i = 0; i < d->accounts->len; i++) {
		struct account *a = d->accounts->pdata[i];

		for (guint j = 0; j < account_get_n_folders(a); j++) {
			total += mailbox_get_unseen(account_get_mailbox(a, j));
		}
	}
	return total;
}

char **daemon_get_account_names(struct daemon *d)
{
	GStrvBuilder *b = g_strv_builder_new();

	for (guint i = 0; i < d->accounts->len; i++) {
		g_strv_builder_add(b, account_get_name(d->accounts->pdata[i]));
	}
	char **names = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return names;
}

const char *daemon_get_folder_special_use(struct daemon *d, const char *account, const char *folder)
{
	struct account *a = daemon_find_account(d, account);
	struct mailbox *mb = a != NULL ? account_find_mailbox(a, folder) : NULL;

	return mb != NULL ? mailbox_get_special_use(mb) : NULL;
}

void daemon_message_free(struct daemon_message *m)
{
	if (m == NULL) {
		return;
	}
	g_free(m->id);
	g_free(m->account);
	g_free(m->folder);
	g_free(m->message_id);
	g_free(m->from_name);
	g_free(m->from_addr);
	g_free(m->subject);
	g_strfreev(m->flags);
	g_free(m);
}

struct list_context {
	GPtrArray *out;
	bool unseen_only;
	const char *account;
	const char *folder;
	uint32_t uidvalidity;
};

static void list_one(const struct mailbox_message *m, void *user_data)
{
	struct list_context *ctx = user_data;
	struct daemon_message *dm = g_new0(struct daemon_message, 1);

	dm->id = watch_event_message_id(ctx->account, ctx->folder, ctx->uidvalidity, m->uid);
	dm->account = g_strdup(ctx->account);
	dm->folder = g_strdup(ctx->folder);
	dm->uidvalidity = ctx->uidvalidity;
	dm->uid = m->uid;
	dm->message_id = g_strdup(m->message_id);
	dm->from_name = g_strdup(m->from_name);
	dm->from_addr = g_strdup(m->from_addr);
	dm->subject = g_strdup(m->subject);
	dm->date = m->date;
	dm->flags = g_strdupv(m->flags);
	dm->seen = m->seen;
	g_ptr_array_add(ctx->out, dm);
}

static gint message_cmp_newest(gconstpointer a, gconstpointer b)
{
	const struct daemon_message *x = *(const struct daemon_message *const *)a;
	const struct daemon_message *y = *(const struct daemon_message *const *)b;

	return (x->date < y->date) - (x->date > y->date);
}

/* Calls fn for every watched folder of account ("" = all) and folder ("" =
 * all; INBOX in any case, other names exactly: RFC 3501 §5.1). False with
 * NO_SUCH_ACCOUNT if the names match nothing. */
static bool daemon_foreach_folder(struct daemon *d, const char *account, const char *folder,
                                  void (*fn)(struct account *a, struct mailbox *mb, void *data),
                                  void *data, GError **error)
{
	bool account_found = account[0] == '\0';
	bool folder_found = folder[0] == '\0';

	for (guint i = 0; i < d->accounts->len; i++) {
		struct account *a = d->accounts->pdata[i];

		if (account[0] != '\0' && strcmp(account_get_name(a), account) != 0) {
			continue;
		}
		account_found = true;
		for (guint j = 0; j < account_get_n_folders(a); j++) {
			struct mailbox *mb = account_get_mailbox(a, j);

			if (folder[0] != '\0' &&
			    !mailbox_same_folder(mailbox_get_folder(mb), folder)) {
				continue;
			}
			folder_found = true;
			fn(a, mb, data);
		}
	}
	if (!account_found) {
		g_set_error(error, DAEMON_ERROR, DAEMON_ERROR_NO_SUCH_ACCOUNT,
		            "no account named '%s'", account);
		return false;
	}
	if (!folder_found) {
		g_set_error(error, DAEMON_ERROR, DAEMON_ERROR_NO_SUCH_ACCOUNT,
		            "no watched folder named '%s'%s%s", folder,
		            account[0] != '\0' ? " in account " : "", account);
		return false;
	}
	return true;
}

static void list_folder(struct account *a, struct mailbox *mb, void *data)
{
	struct list_context *ctx = data;

	ctx->account = account_get_name(a);
	ctx->folder = mailbox_get_folder(mb);
	ctx->uidvalidity = mailbox_get_uidvalidity(mb);
	mailbox_foreach_message(mb, ctx->unseen_only, list_one, ctx);
}

GPtrArray *daemon_list_messages(struct daemon *d, const char *account, const char *folder,
                                bool unseen_only, GError **error)
{
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)daemon_message_free);
	struct list_context ctx = {
	    .out = out,
	    .unseen_only = unseen_only,
	};

	if (!daemon_foreach_folder(d, account, folder, list_folder, &ctx, error)) {
		return NULL;
	}
	g_ptr_array_sort(out, message_cmp_newest);
	return g_steal_pointer(&out);
}

bool daemon_check(struct daemon *d, const char *account, GError **error)
{
	if (account[0] != '\0' && daemon_find_account(d, account) == NULL) {
		g_set_error(error, DAEMON_ERROR, DAEMON_ERROR_NO_SUCH_ACCOUNT,
		            "no account named '%s'", account);
		return false;
	}
	for (guint i = 0; i < d->accounts->len; i++) {
		struct account *a = d->accounts->pdata[i];

		if (account[0] == '\0' || strcmp(account_get_name(a), account) == 0) {
			account_check(a);
		}
	}
	return true;
}

/* --- mark as read -------------------------------------------------------- */

/* One D-Bus call (or CLI action): several folders may be involved. */
struct mark_request {
	struct daemon *daemon;
	GPtrArray *parts; /* struct mark_part * still running */
	GPtrArray *waits; /* struct mark_wait *: groups waiting for credentials */
	bool starting;    /* mark_start_groups() is still adding parts */
	GError *error;    /* first failure */
	daemon_done done;
	void *user_data;
	guint finish_source;
};

/* Key of one group: one connection per account and folder. */
struct mark_group {
	struct account *account;
	struct mailbox *mailbox;
	GArray *uids;
};

/* A group of the request waiting for its account's credentials (A5: a
 * fresh token, as any new connection). */
struct mark_wait {
	struct mark_request *request;
	struct mark_group *group; /* taken from the groups array */
	struct account_credentials_wait *handle;
};

static void mark_group_free(gpointer p);

/* One connection of a request, and what it changes: once the server
 * confirmed it, the folder's model is told at once (by name, as a reload
 * may have replaced the account meanwhile). */
struct mark_part {
	struct mark_request *request;
	struct mark_read_request *handle;
	char *account;
	char *folder;
	uint32_t uidvalidity;
	GArray *uids;
};

static void mark_part_free(struct mark_part *part)
{
	g_free(part->account);
	g_free(part->folder);
	g_array_unref(part->uids);
	g_free(part);
}

static void mark_wait_free(struct mark_wait *w)
{
	mark_group_free(w->group);
	g_free(w);
}

void daemon_mark_request_free(struct mark_request *r)
{
	for (guint i = 0; i < r->parts->len; i++) {
		struct mark_part *part = r->parts->pdata[i];

		mark_read_cancel(part->handle);
		mark_part_free(part);
	}
	g_ptr_array_unref(r->parts);
	for (guint i = 0; i < r->waits->len; i++) {
		struct mark_wait *w = r->waits->pdata[i];

		account_credentials_cancel(w->group->account, w->handle);
		mark_wait_free(w);
	}
	g_ptr_array_unref(r->waits);
	g_clear_handle_id(&r->finish_source, g_source_remove);
	g_clear_error(&r->error);
	g_ptr_array_remove(r->daemon->requests, r);
	g_free(r);
}

static gboolean mark_request_finish(gpointer user_data)
{
	struct mark_request *r = user_data;

	r->finish_source = 0;
	r->done(r->error, r->user_data);
	daemon_mark_request_free(r);
	return G_SOURCE_REMOVE;
}

/* The server set \Seen: the model shows it now, not only when the watching
 * connection hears of it (its FETCH then reports nothing again). */
static void mark_part_apply(struct mark_part *part)
{
	struct account *a = daemon_find_account(part->request->daemon, part->account);
	struct mailbox *mb = a != NULL ? account_find_mailbox(a, part->folder) : NULL;

	if (mb != NULL && mailbox_get_uidvalidity(mb) == part->uidvalidity) {
		mailbox_add_seen(mb, (const uint32_t *)(void *)part->uids->data, part->uids->len);
	}
}

static void mark_request_maybe_finish(struct mark_request *r)
{
	if (!r->starting && r->parts->len == 0 && r->waits->len == 0 && r->finish_source == 0) {
		r->finish_source = g_idle_add(mark_request_finish, r);
	}
}

static void mark_part_done(const GError *error, void *user_data)
{
	struct mark_part *part = user_data;
	struct mark_request *r = part->request;

	g_ptr_array_remove(r->parts, part);
	if (error == NULL) {
		mark_part_apply(part);
	} else if (r->error == NULL) {
		r->error = g_error_new(DAEMON_ERROR, DAEMON_ERROR_FAILED, "%s", error->message);
	}
	mark_part_free(part);
	mark_request_maybe_finish(r);
}

static void mark_group_free(gpointer p)
{
	struct mark_group *g = p;

	if (g == NULL) {
		return; /* moved into a wait */
	}
	g_array_unref(g->uids);
	g_free(g);
}

/* Splits "account/folder/uidvalidity/uid"; the folder may contain '/'. */
static bool parse_message_id(const char *id, char **account, char **folder, uint32_t *uidvalidity,
                             uint32_t *uid)
{
	const char *first = strchr(id, '/');
	const char *last = strrchr(id, '/');
	guint64 v, u;

	if (first == NULL || last == first) {
		return false;
	}
	const char *middle = last - 1;
	while (middle > first && *middle != '/') {
		middle--;
	}
	if (middle == first || !g_ascii_string_to_unsigned(last + 1, 10, 1, UINT32_MAX, &u, NULL)) {
		return false;
	}
	g_autofree char *validity = g_strndup(middle + 1, (gsize)(last - middle - 1));
	if (!g_ascii_string_to_unsigned(validity, 10, 1, UINT32_MAX, &v, NULL)) {
		return false;
	}
	*account = g_strndup(id, (gsize)(first - id));
	*folder = g_strndup(first + 1, (gsize)(middle - first - 1));
	*uidvalidity = (uint32_t)v;
	*uid = (uint32_t)u;
	return true;
}

static void mark_fail(struct mark_request *r, const struct mark_group *g, const char *problem)
{
	if (r->error == NULL) {
		r->error = g_error_new(DAEMON_ERROR, DAEMON_ERROR_FAILED, "account '%s': %s",
		                       account_get_name(g->account), problem);
	}
}

static void mark_start_part(struct mark_request *r, const struct mark_group *g,
                            struct secret *credentials)
{
	struct mark_part *part = g_new0(struct mark_part, 1);

	part->request = r;
	part->account = g_strdup(account_get_name(g->account));
	part->folder = g_strdup(mailbox_get_folder(g->mailbox));
	part->uidvalidity = mailbox_get_uidvalidity(g->mailbox);
	part->uids = g_array_ref(g->uids);
	part->handle = mark_read_start(
	    account_get_login_config(g->account), credentials, mailbox_get_folder(g->mailbox),
	    mailbox_get_uidvalidity(g->mailbox), (const uint32_t *)(void *)g->uids->data,
	    g->uids->len, r->daemon->options.trace, mark_part_done, part);
	g_ptr_array_add(r->parts, part);
}

static void mark_credentials(struct secret *credentials, const char *problem, void *user_data)
{
	struct mark_wait *w = user_data;
	struct mark_request *r = w->request;

	g_ptr_array_remove(r->waits, w);
	if (credentials == NULL) {
		mark_fail(r, w->group, problem);
	} else {
		mark_start_part(r, w->group, credentials);
	}
	mark_wait_free(w);
	mark_request_maybe_finish(r);
}

static void mark_start_groups(struct daemon *d, GPtrArray *groups, daemon_done done,
                              void *user_data)
{
	struct mark_request *r = g_new0(struct mark_request, 1);

	r->daemon = d;
	r->parts = g_ptr_array_new();
	r->waits = g_ptr_array_new();
	r->done = done;
	r->user_data = user_data;
	r->starting = true;
	g_ptr_array_add(d->requests, r);
	for (guint i = 0; i < groups->len; i++) {
		struct mark_group *g = groups->pdata[i];

		if (g->uids->len == 0) {
			continue;
		}
		/* The group moves into the wait: the callback may come now or
		 * later, and owns it either way. */
		struct mark_wait *w = g_new0(struct mark_wait, 1);
		w->request = r;
		w->group = g;
		groups->pdata[i] = NULL;
		g_ptr_array_add(r->waits, w);
		struct account_credentials_wait *handle =
		    account_with_credentials(g->account, mark_credentials, w);
		if (handle != NULL) {
			w->handle = handle;
		}
	}
	r->starting = false;
	mark_request_maybe_finish(r);
}

static struct mark_group *group_for(GPtrArray *groups, struct account *a, struct mailbox *mb)
{
	for (guint i = 0; i < groups->len; i++) {
		struct mark_group *g = groups->pdata[i];

		if (g->mailbox == mb) {
			return g;
		}
	}
	struct mark_group *g = g_new0(struct mark_group, 1);
	g->account = a;
	g->mailbox = mb;
	g->uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	g_ptr_array_add(groups, g);
	return g;
}

struct pending_error {
	daemon_done done;
	void *user_data;
	GError *error;
};

static void pending_error_fire(gpointer data)
{
	struct pending_error *p = data;

	p->done(p->error, p->user_data);
	g_error_free(p->error);
	g_free(p);
}

/* Completions come from the loop, never from inside the call (STYLE). */
static void done_later(daemon_done done, void *user_data, GError *error)
{
	struct pending_error *p = g_new(struct pending_error, 1);

	p->done = done;
	p->user_data = user_data;
	p->error = error;
	g_idle_add_once(pending_error_fire, p);
}

void daemon_mark_read(struct daemon *d, const char *const *ids, daemon_done done, void *user_data)
{
	g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func(mark_group_free);

	/* Every id is checked before anything is changed. */
	for (size_t i = 0; ids[i] != NULL; i++) {
		g_autofree char *account = NULL;
		g_autofree char *folder = NULL;
		uint32_t uidvalidity, uid;
		struct account *a = NULL;
		struct mailbox *mb = NULL;

		if (parse_message_id(ids[i], &account, &folder, &uidvalidity, &uid)) {
			a = daemon_find_account(d, account);
			mb = a != NULL ? account_find_mailbox(a, folder) : NULL;
		}
		if (mb == NULL || mailbox_get_uidvalidity(mb) != uidvalidity ||
		    !mailbox_has_uid(mb, uid)) {
			done_later(done, user_data,
			           g_error_new(DAEMON_ERROR, DAEMON_ERROR_NO_SUCH_MESSAGE,
			                       "no message with id '%s'", ids[i]));
			return;
		}
		struct mark_group *g = group_for(groups, a, mb);
		g_array_append_val(g->uids, uid);
	}
	mark_start_groups(d, groups, done, user_data);
}

static void collect_unseen(struct account *a, struct mailbox *mb, void *data)
{
	mailbox_get_unseen_uids(mb, group_for(data, a, mb)->uids);
}

void daemon_mark_all_read(struct daemon *d, const char *account, const char *folder,
                          daemon_done done, void *user_data)
{
	g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func(mark_group_free);
	GError *error = NULL;

	if (!daemon_foreach_folder(d, account, folder, collect_unseen, groups, &error)) {
		done_later(done, user_data, error);
		return;
	}
	mark_start_groups(d, groups, done, user_data);
}
