/* SPDX-License-Identifier: MIT */
#include "imapwatch/daemon.h"

#include "imapwatch/mark-read.h"
#include "imapwatch/state-store.h"
#include "imapwatch/stream.h"

#include <errno.h>
#include <gio/gio.h>

#include <string.h>

/* SIGTERM must end the process within 2 s even if a server never answers
 * LOGOUT (RFC 2683 §3.1.2 asks for a LOGOUT, not for waiting forever). */
#define STOP_GRACE_MS 1500

struct listener {
	guint id;
	daemon_listener fn;            /* NULL for a reload listener */
	daemon_reload_listener reload; /* NULL for an event listener */
	void *user_data;
};

struct daemon {
	struct config *config;
	struct daemon_options options;
	GPtrArray *accounts;    /* struct account *, in config order */
	GPtrArray *retired;     /* accounts logging out after a reload */
	GPtrArray *old_configs; /* configs replaced by a reload (retired accounts use them) */
	GArray *listeners;      /* struct listener */
	guint next_listener;
	gint64 started;         /* monotonic µs */
	GHashTable *last_event; /* account name → gint64 * (Unix seconds) */

	guint stopping_accounts;
	void (*stopped)(void *user_data);
	void *stopped_data;
	guint stop_timer;

	GPtrArray *requests; /* struct mark_request * in flight */

	GNetworkMonitor *network;
	gulong network_handler;
	gulong network_notify_handler;
	guint network_debounce;
	bool online;
};

G_DEFINE_QUARK(imapwatch - daemon - error - quark, daemon_error)

/* --- events -------------------------------------------------------------- */

static void daemon_event(const struct watch_event *event, void *user_data)
{
	struct daemon *d = user_data;

	if (event->type == WATCH_EVENT_NEW || event->type == WATCH_EVENT_CHANGED ||
	    event->type == WATCH_EVENT_REMOVED || event->type == WATCH_EVENT_RESET) {
		gint64 *when = g_new(gint64, 1);

		*when = g_get_real_time() / G_USEC_PER_SEC;
		g_hash_table_replace(d->last_event, g_strdup(event->account), when);
	}
	/* A listener may remove itself or add another: walk a copy. */
	g_autoptr(GArray) copy = g_array_copy(d->listeners);
	for (guint i = 0; i < copy->len; i++) {
		const struct listener *l = &g_array_index(copy, struct listener, i);

		if (l->fn != NULL) {
			l->fn(event, l->user_data);
		}
	}
}

static void daemon_reloaded(struct daemon *d)
{
	g_autoptr(GArray) copy = g_array_copy(d->listeners);

	for (guint i = 0; i < copy->len; i++) {
		const struct listener *l = &g_array_index(copy, struct listener, i);

		if (l->reload != NULL) {
			l->reload(l->user_data);
		}
	}
}

static guint daemon_add(struct daemon *d, struct listener l)
{
	l.id = ++d->next_listener;
	g_array_append_val(d->listeners, l);
	return l.id;
}

guint daemon_add_listener(struct daemon *d, daemon_listener fn, void *user_data)
{
	return daemon_add(d, (struct listener){.fn = fn, .user_data = user_data});
}

guint daemon_add_reload_listener(struct daemon *d, daemon_reload_listener fn, void *user_data)
{
	return daemon_add(d, (struct listener){.reload = fn, .user_data = user_data});
}

void daemon_remove_listener(struct daemon *d, guint id)
{
	for (guint i = 0; i < d->listeners->len; i++) {
		if (g_array_index(d->listeners, struct listener, i).id == id) {
			g_array_remove_index(d->listeners, i);
			return;
		}
	}
}

/* --- lifecycle ----------------------------------------------------------- */

static struct account *daemon_new_account_for(struct daemon *d, const struct config *config,
                                              const struct config_account *account_config)
{
	struct account_options options = {
	    .password_timeout = config->password_timeout,
	    .trace = d->options.trace,
	    .state_dir = d->options.state_dir,
	};

	return account_create(account_config, &options, daemon_event, d);
}

/* State of accounts that are no longer configured goes. */
static void daemon_prune_state(struct daemon *d, const struct config *config)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();

	for (guint i = 0; i < config->accounts->len; i++) {
		g_ptr_array_add(names, ((struct config_account *)config->accounts->pdata[i])->name);
	}
	g_ptr_array_add(names, NULL);
	int r = state_store_prune(d->options.state_dir, (const char *const *)names->pdata);
	if (r < 0 && r != -ENOENT) {
		g_warning("cannot prune state in %s: %s", d->options.state_dir, g_strerror(-r));
	}
}

struct daemon *daemon_create(struct config *config, const struct daemon_options *options)
{
	struct daemon *d = g_new0(struct daemon, 1);

	d->config = config;
	d->options.trace = options->trace;
	d->options.config_path = g_strdup(options->config_path);
	d->options.state_dir =
	    options->state_dir != NULL ? g_strdup(options->state_dir) : state_store_default_dir();
	d->accounts = g_ptr_array_new_with_free_func((GDestroyNotify)account_destroy);
	d->retired = g_ptr_array_new_with_free_func((GDestroyNotify)account_destroy);
	d->old_configs = g_ptr_array_new_with_free_func((GDestroyNotify)config_free);
	d->listeners = g_array_new(FALSE, FALSE, sizeof(struct listener));
	d->last_event = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	d->requests = g_ptr_array_new();
	d->started = g_get_monotonic_time();
	daemon_prune_state(d, config);
	for (guint i = 0; i < config->accounts->len; i++) {
		g_ptr_array_add(d->accounts,
		                daemon_new_account_for(d, config, config->accounts->pdata[i]));
	}
	return d;
}

/* Route changes come in bursts (an interface going up adds several);
 * act once they settle. */
static gboolean network_settled(gpointer user_data)
{
	struct daemon *d = user_data;
	bool online = g_network_monitor_get_network_available(d->network);

	d->network_debounce = 0;
	g_message("network %s", online ? "changed" : "unavailable");
	d->online = online;
	for (guint i = 0; i < d->accounts->len; i++) {
		struct account *a = d->accounts->pdata[i];

		account_set_online(a, online);
		if (online) {
			account_probe(a);
		}
	}
	return G_SOURCE_REMOVE;
}

static void network_debounce(struct daemon *d)
{
	g_clear_handle_id(&d->network_debounce, g_source_remove);
	d->network_debounce = g_timeout_add(500, network_settled, d);
}

/* Routes changed (GIO's netlink monitor, also under NetworkManager). */
static void network_changed(GNetworkMonitor *monitor, gboolean available, gpointer user_data)
{
	(void)monitor;
	(void)available;
	network_debounce(user_data);
}

/* With NetworkManager, availability follows its State property, which can
 * change without a route change (and after one: connecting, then
 * connected); only a notify tells. */
static void network_available_notify(GObject *monitor, GParamSpec *pspec, gpointer user_data)
{
	(void)monitor;
	(void)pspec;
	network_debounce(user_data);
}

void daemon_probe(struct daemon *d)
{
	for (guint i = 0; i < d->accounts->len; i++) {
		account_probe(d->accounts->pdata[i]);
	}
}

void daemon_start(struct daemon *d)
{
	d->network = g_object_ref(g_network_monitor_get_default());
	d->online = g_network_monitor_get_network_available(d->network);
	d->network_handler =
	    g_signal_connect(d->network, "network-changed", G_CALLBACK(network_changed), d);
	d->network_notify_handler = g_signal_connect(d->network, "notify::network-available",
	                                             G_CALLBACK(network_available_notify), d);
	for (guint i = 0; i < d->accounts->len; i++) {
		account_set_online(d->accounts->pdata[i], d->online);
		account_start(d->accounts->pdata[i]);
	}
}

static void daemon_stop_finish(struct daemon *d)
{
	g_clear_handle_id(&d->stop_timer, g_source_remove);
	if (d->stopped != NULL) {
		void (*cb)(void *) = d->stopped;

		d->stopped = NULL;
		cb(d->stopped_data);
	}
}

static void account_stopped_cb(struct account *account, void *user_data)
{
	struct daemon *d = user_data;

	(void)account;
	if (d->stopping_accounts > 0 && --d->stopping_accounts == 0) {
		daemon_stop_finish(d);
	}
}

static gboolean stop_timeout_cb(gpointer user_data)
{
	struct daemon *d = user_data;

	d->stop_timer = 0;
	g_message("servers did not answer LOGOUT in time; leaving anyway");
	daemon_stop_finish(d);
	return G_SOURCE_REMOVE;
}

void daemon_stop(struct daemon *d, void (*done)(void *user_data), void *user_data)
{
	d->stopped = done;
	d->stopped_data = user_data;
	d->stopping_accounts = d->accounts->len;
	d->stop_timer = g_timeout_add(STOP_GRACE_MS, stop_timeout_cb, d);
	if (d->stopping_accounts == 0) {
		d->stop_timer = 0;
		g_idle_add_once((GSourceOnceFunc)daemon_stop_finish, d);
		return;
	}
	for (guint i = 0; i < d->accounts->len; i++) {
		account_stop(d->accounts->pdata[i], account_stopped_cb, d);
	}
}

struct mark_request;
static void mark_request_free(struct mark_request *r);

void daemon_destroy(struct daemon *d)
{
	if (d == NULL) {
		return;
	}
	while (d->requests->len > 0) {
		mark_request_free(d->requests->pdata[0]);
	}
	g_ptr_array_unref(d->requests);
	g_clear_handle_id(&d->network_debounce, g_source_remove);
	if (d->network != NULL) {
		g_clear_signal_handler(&d->network_handler, d->network);
		g_clear_signal_handler(&d->network_notify_handler, d->network);
		g_object_unref(d->network);
	}
	g_clear_handle_id(&d->stop_timer, g_source_remove);
	g_ptr_array_unref(d->accounts);
	g_ptr_array_unref(d->retired);
	g_ptr_array_unref(d->old_configs);
	g_array_unref(d->listeners);
	g_hash_table_unref(d->last_event);
	config_free(d->config);
	g_free(d->options.config_path);
	g_free(d->options.state_dir);
	g_free(d);
}

const struct config *daemon_get_config(const struct daemon *d)
{
	return d->config;
}

/* --- queries ------------------------------------------------------------- */

static struct account *daemon_find_account(struct daemon *d, const char *name)
{
	for (guint i = 0; i < d->accounts->len; i++) {
		struct account *a = d->accounts->pdata[i];

		if (strcmp(account_get_name(a), name) == 0) {
			return a;
		}
	}
	return NULL;
}

static struct mailbox *account_find_mailbox(struct account *a, const char *folder)
{
	for (guint i = 0; i < account_get_n_folders(a); i++) {
		struct mailbox *mb = account_get_mailbox(a, i);

		if (strcmp(mailbox_get_folder(mb), folder) == 0) {
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
		for (guint j = 0; j < account_get_n_folders(a); j++) {
			struct mailbox *mb = account_get_mailbox(a, j);
			struct daemon_folder_status *fs = g_new0(struct daemon_folder_status, 1);

			fs->name = g_strdup(mailbox_get_folder(mb));
			fs->unseen = mailbox_get_unseen(mb);
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
 * all). False with NO_SUCH_ACCOUNT if the names match nothing. */
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

			if (folder[0] != '\0' && strcmp(mailbox_get_folder(mb), folder) != 0) {
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
	GPtrArray *parts; /* struct mark_read_request * still running */
	GError *error;    /* first failure */
	daemon_done done;
	void *user_data;
	guint finish_source;
};

static void mark_request_free(struct mark_request *r)
{
	for (guint i = 0; i < r->parts->len; i++) {
		mark_read_cancel(r->parts->pdata[i]);
	}
	g_ptr_array_unref(r->parts);
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
	mark_request_free(r);
	return G_SOURCE_REMOVE;
}

struct mark_part {
	struct mark_request *request;
	struct mark_read_request *handle;
};

static void mark_part_done(const GError *error, void *user_data)
{
	struct mark_part *part = user_data;
	struct mark_request *r = part->request;

	g_ptr_array_remove(r->parts, part->handle);
	if (error != NULL && r->error == NULL) {
		r->error = g_error_new(DAEMON_ERROR, DAEMON_ERROR_FAILED, "%s", error->message);
	}
	g_free(part);
	if (r->parts->len == 0 && r->finish_source == 0) {
		r->finish_source = g_idle_add(mark_request_finish, r);
	}
}

/* Key of one group: one connection per account and folder. */
struct mark_group {
	struct account *account;
	struct mailbox *mailbox;
	GArray *uids;
};

static void mark_group_free(gpointer p)
{
	struct mark_group *g = p;

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

static void mark_start_groups(struct daemon *d, GPtrArray *groups, daemon_done done,
                              void *user_data)
{
	struct mark_request *r = g_new0(struct mark_request, 1);

	r->daemon = d;
	r->parts = g_ptr_array_new();
	r->done = done;
	r->user_data = user_data;
	g_ptr_array_add(d->requests, r);
	for (guint i = 0; i < groups->len; i++) {
		struct mark_group *g = groups->pdata[i];
		const char *password = account_get_password(g->account);

		if (g->uids->len == 0) {
			continue;
		}
		if (password == NULL) {
			if (r->error == NULL) {
				r->error = g_error_new(DAEMON_ERROR, DAEMON_ERROR_FAILED,
				                       "account '%s' has not logged in yet",
				                       account_get_name(g->account));
			}
			continue;
		}
		struct mark_part *part = g_new0(struct mark_part, 1);
		part->request = r;
		part->handle = mark_read_start(
		    account_get_config(g->account), password, mailbox_get_folder(g->mailbox),
		    mailbox_get_uidvalidity(g->mailbox), (const uint32_t *)(void *)g->uids->data,
		    g->uids->len, d->options.trace, mark_part_done, part);
		g_ptr_array_add(r->parts, part->handle);
	}
	if (r->parts->len == 0) {
		r->finish_source = g_idle_add(mark_request_finish, r);
	}
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

/* --- reload -------------------------------------------------------------- */

static void retired_stopped(struct account *account, void *user_data)
{
	struct daemon *d = user_data;

	g_ptr_array_remove(d->retired, account);
}

bool daemon_reload(struct daemon *d, GError **error)
{
	struct config *fresh = config_load_file(d->options.config_path, error);

	if (fresh == NULL) {
		return false;
	}
	g_autoptr(GPtrArray) next = g_ptr_array_new();
	g_autoptr(GPtrArray) started = g_ptr_array_new();
	bool daemon_changed = fresh->password_timeout != d->config->password_timeout;

	for (guint i = 0; i < fresh->accounts->len; i++) {
		const struct config_account *ca = fresh->accounts->pdata[i];
		struct account *old = daemon_find_account(d, ca->name);

		if (old != NULL && !daemon_changed &&
		    config_account_equal(account_get_config(old), ca)) {
			/* Unchanged: keeps its connections and what it knows. */
			account_set_config(old, ca);
			g_ptr_array_add(next, old);
			continue;
		}
		struct account *a = daemon_new_account_for(d, fresh, ca);
		g_ptr_array_add(next, a);
		g_ptr_array_add(started, a);
	}
	/* Accounts not carried over log out and go. */
	for (guint i = d->accounts->len; i > 0; i--) {
		struct account *a = g_ptr_array_steal_index(d->accounts, i - 1);

		if (g_ptr_array_find(next, a, NULL)) {
			continue;
		}
		g_message("account '%s' removed or changed by the new configuration",
		          account_get_name(a));
		g_hash_table_remove(d->last_event, account_get_name(a));
		g_ptr_array_add(d->retired, a);
		account_stop(a, retired_stopped, d);
	}
	for (guint i = 0; i < next->len; i++) {
		g_ptr_array_add(d->accounts, next->pdata[i]);
	}
	/* Retired accounts still point into the old config until they are
	 * gone; keep it alive with them. */
	g_ptr_array_add(d->old_configs, d->config);
	d->config = fresh;
	daemon_prune_state(d, fresh);
	stream_flush_tls_cache();
	for (guint i = 0; i < started->len; i++) {
		account_set_online(started->pdata[i], d->online || d->network == NULL);
		account_start(started->pdata[i]);
	}
	g_message("configuration reloaded: %u accounts", d->accounts->len);
	daemon_reloaded(d);
	return true;
}
