/* SPDX-License-Identifier: MIT */
#include "imapwatch/io/account.h"

#include "imapwatch/core/backoff.h"
#include "imapwatch/io/connection.h"
#include "imapwatch/core/header.h"
#include "imapwatch/core/mailbox.h"
#include "imapwatch/io/password.h"
#include "imapwatch/io/state-store.h"

#include <string.h>

/* Seconds a connection has to answer a probe after resume or a network
 * change. */
#define PROBE_TIMEOUT 10

/* One watched folder: its model lives as long as the account. */
struct folder {
	struct account *account;
	struct mailbox *mailbox;
	struct connection *connection;
	enum account_state state; /* this folder's share of the account state */
	char *detail;
	unsigned attempt;     /* failures since the last stable connection */
	gint64 serving_since; /* monotonic µs when it went idle/polling, or 0 */
	guint retry_source;
};

struct account {
	const struct config_account *config;
	struct account_options options;
	account_sink sink;
	void *user_data;

	char *password;
	struct password_request *password_request;
	char *state_dir;
	struct state_account *saved; /* what is on disk, plus fields kept as is */
	guint save_source;
	GPtrArray *folders; /* struct folder * */

	enum account_state state;
	char *detail;
	gint64 connected_since;
	bool offline; /* no network: no reconnect attempts spin */

	bool stopping;
	account_stopped stopped;
	void *stopped_data;
	guint stopped_source;
};

static const char *const state_names[] = {
    [ACCOUNT_STATE_DISCONNECTED] = "disconnected",
    [ACCOUNT_STATE_CONNECTING] = "connecting",
    [ACCOUNT_STATE_AUTHENTICATING] = "authenticating",
    [ACCOUNT_STATE_SYNCING] = "syncing",
    [ACCOUNT_STATE_IDLE] = "idle",
    [ACCOUNT_STATE_POLLING] = "polling",
    [ACCOUNT_STATE_BACKOFF] = "backoff",
    [ACCOUNT_STATE_ERROR] = "error",
    [ACCOUNT_STATE_DISABLED] = "disabled",
};

const char *account_state_name(enum account_state state)
{
	return (unsigned)state < G_N_ELEMENTS(state_names) ? state_names[state] : "unknown";
}

const char *account_get_name(const struct account *a)
{
	return a->config->name;
}

enum account_state account_get_state(const struct account *a)
{
	return a->state;
}

/* How far a folder is from watching: the account shows the least advanced
 * folder, with error and backoff taking precedence. */
static int state_rank(enum account_state state)
{
	switch (state) {
	case ACCOUNT_STATE_ERROR:
		return 0;
	case ACCOUNT_STATE_BACKOFF:
		return 1;
	case ACCOUNT_STATE_DISCONNECTED:
		return 2;
	case ACCOUNT_STATE_CONNECTING:
		return 3;
	case ACCOUNT_STATE_AUTHENTICATING:
		return 4;
	case ACCOUNT_STATE_SYNCING:
		return 5;
	case ACCOUNT_STATE_POLLING:
		return 6;
	case ACCOUNT_STATE_IDLE:
		return 7;
	case ACCOUNT_STATE_DISABLED:
		return 8;
	}
	return 2;
}

/* The one place the account state changes (style anchors: curl). */
static void account_set_state(struct account *a, enum account_state state, const char *raw_detail)
{
	/* Details quote server text (BYE, NO): valid UTF-8 without control
	 * or bidi characters before it reaches logs, JSON and D-Bus (E4). */
	g_autofree char *detail = header_sanitize(raw_detail != NULL ? raw_detail : "");

	if (a->state == state && g_strcmp0(a->detail, detail) == 0) {
		return;
	}
	if (state == ACCOUNT_STATE_ERROR) {
		g_warning("account '%s': %s -> %s: %s", a->config->name, state_names[a->state],
		          state_names[state], detail);
	} else if (detail[0] != '\0') {
		g_message("account '%s': %s -> %s: %s", a->config->name, state_names[a->state],
		          state_names[state], detail);
	} else {
		g_message("account '%s': %s -> %s", a->config->name, state_names[a->state],
		          state_names[state]);
	}
	bool watching = state == ACCOUNT_STATE_IDLE || state == ACCOUNT_STATE_POLLING;
	bool was_watching = a->state == ACCOUNT_STATE_IDLE || a->state == ACCOUNT_STATE_POLLING;
	if (watching && !was_watching) {
		a->connected_since = g_get_real_time() / G_USEC_PER_SEC;
	} else if (!watching) {
		a->connected_since = 0;
	}
	a->state = state;
	g_free(a->detail);
	a->detail = g_strdup(detail);

	struct watch_event ev = {
	    .type = WATCH_EVENT_STATE,
	    .account = a->config->name,
	    .state = state_names[state],
	    .detail = detail,
	};
	a->sink(&ev, a->user_data);
}

static void account_update_state(struct account *a)
{
	const struct folder *worst = NULL;

	for (guint i = 0; i < a->folders->len; i++) {
		const struct folder *f = a->folders->pdata[i];

		if (worst == NULL || state_rank(f->state) < state_rank(worst->state)) {
			worst = f;
		}
	}
	if (worst != NULL) {
		account_set_state(a, worst->state, worst->detail);
	}
}

static void folder_set_state(struct folder *f, enum account_state state, const char *detail)
{
	f->state = state;
	g_free(f->detail);
	f->detail = g_strdup(detail);
	account_update_state(f->account);
}

/* N4: the watermark is written after the events that moved it went out;
 * a crash in between repeats nothing, at worst it reports again what was
 * not yet saved — and the file is written at most once a second. */
static void account_save(struct account *a)
{
	g_clear_handle_id(&a->save_source, g_source_remove);
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

	a->save_source = 0;
	account_save(a);
	return G_SOURCE_REMOVE;
}

static void account_save_soon(struct account *a)
{
	if (a->save_source == 0) {
		a->save_source = g_timeout_add_seconds(1, save_cb, a);
	}
}

static void account_load(struct account *a)
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
	/* Folders no longer watched are forgotten. */
	state_account_prune_folders(a->saved, (const char *const *)a->config->folders);
	for (guint i = 0; i < a->folders->len; i++) {
		struct folder *f = a->folders->pdata[i];
		const struct state_folder *sf =
		    state_account_get_folder(a->saved, mailbox_get_folder(f->mailbox), false);

		if (sf != NULL && sf->uidvalidity != 0) {
			mailbox_restore(f->mailbox, sf->uidvalidity, sf->watermark);
		}
	}
}

static void mailbox_event(const struct watch_event *event, void *user_data)
{
	struct folder *f = user_data;

	/* New mail moved the watermark; a reset brought a new UIDVALIDITY and
	 * baseline, which account_save() writes over the old ones (N1, N2). */
	if (event->type == WATCH_EVENT_NEW || event->type == WATCH_EVENT_UNSEEN ||
	    event->type == WATCH_EVENT_RESET) {
		account_save_soon(f->account);
	}
	f->account->sink(event, f->account->user_data);
}

static void folder_connect(struct folder *f);

static gboolean retry_cb(gpointer data)
{
	struct folder *f = data;

	f->retry_source = 0;
	folder_connect(f);
	return G_SOURCE_REMOVE;
}

static void check_stopped(struct account *a);

/* In service from the first IDLE (or poll) of a connection on. */
static void folder_serving(struct folder *f)
{
	if (f->serving_since == 0) {
		f->serving_since = g_get_monotonic_time();
	}
}

static void conn_phase_changed(struct connection *c, enum imap_session_phase phase, void *user_data)
{
	struct folder *f = user_data;

	(void)c;
	switch (phase) {
	case IMAP_SESSION_PHASE_CONNECTING:
		folder_set_state(f, ACCOUNT_STATE_CONNECTING, NULL);
		break;
	case IMAP_SESSION_PHASE_AUTHENTICATING:
		folder_set_state(f, ACCOUNT_STATE_AUTHENTICATING, NULL);
		break;
	case IMAP_SESSION_PHASE_SYNCING:
		folder_set_state(f, ACCOUNT_STATE_SYNCING, NULL);
		break;
	case IMAP_SESSION_PHASE_IDLE:
		folder_serving(f);
		folder_set_state(f, ACCOUNT_STATE_IDLE, NULL);
		break;
	case IMAP_SESSION_PHASE_POLLING:
		folder_serving(f);
		folder_set_state(f, ACCOUNT_STATE_POLLING, NULL);
		break;
	case IMAP_SESSION_PHASE_LOGOUT:
	case IMAP_SESSION_PHASE_DONE:
		break;
	}
}

static void conn_failed(struct connection *c, enum imap_failure failure,
                        const char *connection_message, void *user_data)
{
	struct folder *f = user_data;
	struct account *a = f->account;
	/* The message belongs to the connection destroyed below. */
	g_autofree char *message = g_strdup(connection_message);

	(void)c;
	connection_destroy(f->connection);
	f->connection = NULL;
	if (a->stopping) {
		folder_set_state(f, ACCOUNT_STATE_DISCONNECTED, NULL);
		check_stopped(a);
		return;
	}
	if (f->serving_since != 0 &&
	    g_get_monotonic_time() - f->serving_since >= (gint64)BACKOFF_STABLE_MS * 1000) {
		f->attempt = 0;
	}
	f->serving_since = 0;
	if (failure == IMAP_FAILURE_PERMANENT) {
		/* No retry until the user acts (L5, A6). */
		folder_set_state(f, ACCOUNT_STATE_ERROR, message);
		return;
	}
	/* Without a network, retry rarely (the monitor may be wrong about a
	 * loopback or VPN-only setup); the network's return retries at once. */
	uint32_t delay = a->offline ? BACKOFF_MAX_MS
	                            : backoff_delay_ms(f->attempt, failure == IMAP_FAILURE_RESOURCE,
	                                               g_random_int());
	f->attempt++;
	g_autofree char *detail =
	    g_strdup_printf("%s, retrying in %u s%s", message, (delay + 999) / 1000,
	                    a->offline ? " or when the network returns" : "");
	g_message("connection failed for account '%s' folder '%s': %s", a->config->name,
	          mailbox_get_folder(f->mailbox), detail);
	f->retry_source = g_timeout_add(delay, retry_cb, f);
	folder_set_state(f, ACCOUNT_STATE_BACKOFF, detail);
}

static void conn_finished(struct connection *c, void *user_data)
{
	struct folder *f = user_data;

	(void)c;
	connection_destroy(f->connection);
	f->connection = NULL;
	folder_set_state(f, ACCOUNT_STATE_DISCONNECTED, NULL);
	check_stopped(f->account);
}

static const struct connection_ops connection_ops = {
    .phase_changed = conn_phase_changed,
    .failed = conn_failed,
    .finished = conn_finished,
};

static void folder_connect(struct folder *f)
{
	struct account *a = f->account;
	struct connection_params params = {
	    .account = a->config,
	    .password = a->password,
	    .mailbox = f->mailbox,
	    .idle_refresh = a->config->idle_refresh,
	    .poll_interval = 120,
	    .trace = a->options.trace,
	};

	f->serving_since = 0;
	f->connection = connection_create(&params, &connection_ops, f);
	folder_set_state(f, ACCOUNT_STATE_CONNECTING, NULL);
	connection_start(f->connection);
}

static void folder_free(gpointer data)
{
	struct folder *f = data;

	g_clear_handle_id(&f->retry_source, g_source_remove);
	connection_destroy(f->connection);
	mailbox_destroy(f->mailbox);
	g_free(f->detail);
	g_free(f);
}

struct account *account_create(const struct config_account *config,
                               const struct account_options *options, account_sink sink,
                               void *user_data)
{
	struct account *a = g_new0(struct account, 1);

	a->config = config;
	a->options = *options;
	a->sink = sink;
	a->user_data = user_data;
	a->state = ACCOUNT_STATE_DISCONNECTED;
	a->detail = g_strdup("");
	a->folders = g_ptr_array_new_with_free_func(folder_free);
	for (size_t i = 0; config->folders[i] != NULL; i++) {
		struct folder *f = g_new0(struct folder, 1);

		f->account = a;
		f->state = ACCOUNT_STATE_DISCONNECTED;
		f->mailbox = mailbox_create(config->name, config->folders[i], mailbox_event, f);
		g_ptr_array_add(a->folders, f);
	}
	a->state_dir = g_strdup(options->state_dir);
	account_load(a);
	return a;
}

static void connect_all(struct account *a)
{
	for (guint i = 0; i < a->folders->len; i++) {
		folder_connect(a->folders->pdata[i]);
	}
}

static void password_done(const char *password, const GError *error, void *user_data)
{
	struct account *a = user_data;

	a->password_request = NULL;
	if (password == NULL) {
		g_autofree char *detail =
		    g_strdup_printf("cannot get the password: %s",
		                    error != NULL ? error->message : "unknown error");
		account_set_state(a, ACCOUNT_STATE_ERROR, detail);
		return;
	}
	a->password = g_strdup(password);
	connect_all(a);
}

void account_start(struct account *a)
{
	/* Every folder starts connecting together, so the account does not
	 * flap through "disconnected" while the first ones connect. */
	for (guint i = 0; i < a->folders->len; i++) {
		((struct folder *)a->folders->pdata[i])->state = ACCOUNT_STATE_CONNECTING;
	}
	if (a->config->password_command != NULL) {
		account_set_state(a, ACCOUNT_STATE_CONNECTING, NULL);
		a->password_request = password_request_start(
		    a->config->password_command, a->options.password_timeout, password_done, a);
		return;
	}
	a->password = g_strdup(a->config->password);
	connect_all(a);
}

static gboolean stopped_cb(gpointer data)
{
	struct account *a = data;

	a->stopped_source = 0;
	if (a->stopped != NULL) {
		account_stopped cb = a->stopped;
		a->stopped = NULL;
		cb(a, a->stopped_data);
	}
	return G_SOURCE_REMOVE;
}

static void check_stopped(struct account *a)
{
	if (!a->stopping) {
		return;
	}
	for (guint i = 0; i < a->folders->len; i++) {
		const struct folder *f = a->folders->pdata[i];

		if (f->connection != NULL) {
			return;
		}
	}
	if (a->stopped_source == 0) {
		a->stopped_source = g_idle_add(stopped_cb, a);
	}
}

void account_stop(struct account *a, account_stopped stopped, void *user_data)
{
	if (a->save_source != 0) {
		account_save(a);
	}
	a->stopping = true;
	a->stopped = stopped;
	a->stopped_data = user_data;
	password_request_cancel(a->password_request);
	a->password_request = NULL;
	for (guint i = 0; i < a->folders->len; i++) {
		struct folder *f = a->folders->pdata[i];

		g_clear_handle_id(&f->retry_source, g_source_remove);
		if (f->connection != NULL) {
			connection_logout(f->connection);
		}
	}
	check_stopped(a);
}

void account_destroy(struct account *a)
{
	if (a == NULL) {
		return;
	}
	password_request_cancel(a->password_request);
	g_clear_handle_id(&a->stopped_source, g_source_remove);
	if (a->save_source != 0) {
		account_save(a);
	}
	state_account_free(a->saved);
	g_free(a->state_dir);
	g_ptr_array_unref(a->folders);
	password_free(a->password);
	g_free(a->detail);
	g_free(a);
}

const char *account_get_detail(const struct account *a)
{
	return a->detail;
}

gint64 account_get_connected_since(const struct account *a)
{
	return a->connected_since;
}

const struct config_account *account_get_config(const struct account *a)
{
	return a->config;
}

void account_set_config(struct account *a, const struct config_account *config)
{
	a->config = config;
}

const char *account_get_password(const struct account *a)
{
	return a->password;
}

guint account_get_n_folders(const struct account *a)
{
	return a->folders->len;
}

struct mailbox *account_get_mailbox(const struct account *a, guint index)
{
	return ((struct folder *)a->folders->pdata[index])->mailbox;
}

void account_check(struct account *a)
{
	if (a->stopping || a->password_request != NULL) {
		return;
	}
	if (a->password == NULL) {
		/* The password command failed: ask it again. */
		account_start(a);
		return;
	}
	for (guint i = 0; i < a->folders->len; i++) {
		struct folder *f = a->folders->pdata[i];

		if (f->connection != NULL) {
			connection_resync(f->connection);
			continue;
		}
		/* Waiting to retry, or stopped in error: try again now. */
		g_clear_handle_id(&f->retry_source, g_source_remove);
		f->attempt = 0;
		folder_connect(f);
	}
}

void account_probe(struct account *a)
{
	if (a->stopping || a->password == NULL) {
		return;
	}
	for (guint i = 0; i < a->folders->len; i++) {
		struct folder *f = a->folders->pdata[i];

		if (f->connection != NULL) {
			connection_probe(f->connection, PROBE_TIMEOUT);
			continue;
		}
		/* Waiting, or stopped in error: the world changed, try now. */
		g_clear_handle_id(&f->retry_source, g_source_remove);
		f->attempt = 0;
		folder_connect(f);
	}
}

void account_set_online(struct account *a, bool online)
{
	a->offline = !online;
}
