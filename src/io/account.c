/* SPDX-License-Identifier: MIT */
/*
 * The supervisor: the state from its parts, connections and their retries,
 * start, stop, check and probe. What is kept on disk is in
 * account-persist.c.
 */
#include "io/account-private.h"

#include "imapwatch/core/header.h"
#include "imapwatch/io/state-store.h"

#include <string.h>

/* --- the real world ------------------------------------------------------ */

static guint real_timer_add(guint ms, GSourceFunc func, gpointer data)
{
	return ms == 0 ? g_idle_add(func, data) : g_timeout_add(ms, func, data);
}

static void real_timer_cancel(guint id)
{
	g_source_remove(id);
}

static uint32_t real_random(void)
{
	return g_random_int();
}

const struct account_env account_env_default = {
    .connection_create = connection_create,
    .connection_start = connection_start,
    .connection_resync = connection_resync,
    .connection_probe = connection_probe,
    .connection_logout = connection_logout,
    .connection_destroy = connection_destroy,
    .now = g_get_monotonic_time,
    .timer_add = real_timer_add,
    .timer_cancel = real_timer_cancel,
    .random = real_random,
};

void account_timer_clear(struct account *a, guint *id)
{
	if (*id != 0) {
		a->env->timer_cancel(*id);
		*id = 0;
	}
}

/* --- the state ------------------------------------------------------------ */

const char *account_get_name(const struct account *a)
{
	return a->config->name;
}

enum watch_state account_get_state(const struct account *a)
{
	return a->state;
}

/* The one place the account state changes (style anchors: curl): from its
 * parts, after any of them changed. */
static void account_update_state(struct account *a)
{
	guint n = a->folders->len;
	g_autofree enum watch_state *states = g_new(enum watch_state, n + 1);
	g_autofree const char **details = g_new(const char *, n + 1);

	for (guint i = 0; i < n; i++) {
		const struct folder *f = a->folders->pdata[i];

		states[i] = f->state;
		details[i] = f->detail;
	}
	if (a->password_state != WATCH_STATE_IDLE) {
		states[n] = a->password_state;
		details[n] = a->password_detail;
		n++;
	}
	if (n == 0) {
		return;
	}
	size_t pick = supervisor_pick_state(states, n);
	enum watch_state state = states[pick];
	/* Details quote server text (BYE, NO): valid UTF-8 without control
	 * or bidi characters before it reaches logs, JSON and D-Bus (E4). */
	g_autofree char *detail = header_sanitize(details[pick] != NULL ? details[pick] : "");

	if (a->state == state && g_strcmp0(a->detail, detail) == 0) {
		return;
	}
	const char *from = watch_state_name(a->state);
	const char *to = watch_state_name(state);
	if (state == WATCH_STATE_ERROR) {
		g_warning("account '%s': %s -> %s: %s", a->config->name, from, to, detail);
	} else if (detail[0] != '\0') {
		g_message("account '%s': %s -> %s: %s", a->config->name, from, to, detail);
	} else {
		g_message("account '%s': %s -> %s", a->config->name, from, to);
	}
	if (watch_state_is_watching(state) && !watch_state_is_watching(a->state)) {
		a->connected_since = g_get_real_time() / G_USEC_PER_SEC;
	} else if (!watch_state_is_watching(state)) {
		a->connected_since = 0;
	}
	a->state = state;
	g_free(a->detail);
	a->detail = g_steal_pointer(&detail);

	struct watch_event ev = {
	    .type = WATCH_EVENT_STATE,
	    .account = a->config->name,
	    .state = to,
	    .detail = a->detail,
	};
	a->sink(&ev, a->user_data);
}

static void folder_set_state(struct folder *f, enum watch_state state, const char *detail)
{
	f->state = state;
	g_free(f->detail);
	f->detail = g_strdup(detail);
	account_update_state(f->account);
}

static void password_set_state(struct account *a, enum watch_state state, const char *detail)
{
	a->password_state = state;
	g_free(a->password_detail);
	a->password_detail = g_strdup(detail);
	account_update_state(a);
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

/* --- connections ---------------------------------------------------------- */

static void folder_connect(struct folder *f);
static void check_stopped(struct account *a);

static gboolean retry_cb(gpointer data)
{
	struct folder *f = data;

	f->retry_timer = 0;
	folder_connect(f);
	return G_SOURCE_REMOVE;
}

static void folder_drop_connection(struct folder *f)
{
	f->account->env->connection_destroy(f->connection);
	f->connection = NULL;
}

static void conn_state_changed(struct connection *c, enum watch_state state, void *user_data)
{
	struct folder *f = user_data;

	(void)c;
	if (watch_state_is_watching(state)) {
		/* In service from the first IDLE (or poll) on. */
		supervisor_slot_serving(&f->slot, f->account->env->now());
	}
	folder_set_state(f, state, NULL);
}

static void conn_failed(struct connection *c, enum imap_failure failure,
                        const char *connection_message, void *user_data)
{
	struct folder *f = user_data;
	struct account *a = f->account;
	/* The message belongs to the connection destroyed below. */
	g_autofree char *message = g_strdup(connection_message);
	uint32_t delay;

	(void)c;
	folder_drop_connection(f);
	if (a->stopping) {
		folder_set_state(f, WATCH_STATE_DISCONNECTED, NULL);
		check_stopped(a);
		return;
	}
	if (!supervisor_slot_failed(&f->slot, failure, a->offline, a->env->now(), a->env->random(),
	                            &delay)) {
		folder_set_state(f, WATCH_STATE_ERROR, message);
		return;
	}
	g_autofree char *detail =
	    g_strdup_printf("%s, retrying in %u s%s", message, (delay + 999) / 1000,
	                    a->offline ? " or when the network returns" : "");
	g_message("connection failed for account '%s' folder '%s': %s", a->config->name,
	          mailbox_get_folder(f->mailbox), detail);
	f->retry_timer = a->env->timer_add(delay, retry_cb, f);
	folder_set_state(f, WATCH_STATE_BACKOFF, detail);
}

static void conn_finished(struct connection *c, void *user_data)
{
	struct folder *f = user_data;

	(void)c;
	folder_drop_connection(f);
	folder_set_state(f, WATCH_STATE_DISCONNECTED, NULL);
	check_stopped(f->account);
}

static const struct connection_ops connection_ops = {
    .state_changed = conn_state_changed,
    .failed = conn_failed,
    .finished = conn_finished,
};

static void folder_connect(struct folder *f)
{
	struct account *a = f->account;
	struct connection_params params = {
	    .account = a->config,
	    .password = secret_get(a->password),
	    .mailbox = f->mailbox,
	    .trace = a->options.trace,
	};

	supervisor_slot_connecting(&f->slot);
	f->connection = a->env->connection_create(&params, &connection_ops, f);
	folder_set_state(f, WATCH_STATE_CONNECTING, NULL);
	a->env->connection_start(f->connection);
}

/* Waiting to retry, or stopped in error: try again now, from the shortest
 * delay. */
static void folder_retry_now(struct folder *f)
{
	account_timer_clear(f->account, &f->retry_timer);
	supervisor_slot_reset(&f->slot);
	folder_connect(f);
}

static void folder_free(gpointer data)
{
	struct folder *f = data;

	account_timer_clear(f->account, &f->retry_timer);
	if (f->connection != NULL) {
		folder_drop_connection(f);
	}
	mailbox_destroy(f->mailbox);
	g_free(f->detail);
	g_free(f);
}

static void connect_all(struct account *a)
{
	for (guint i = 0; i < a->folders->len; i++) {
		folder_connect(a->folders->pdata[i]);
	}
}

/* --- the account ------------------------------------------------------------ */

struct account *account_create(const struct config_account *config,
                               const struct account_options *options, account_sink sink,
                               void *user_data)
{
	struct account *a = g_new0(struct account, 1);

	a->config = config;
	a->options = *options;
	a->env = options->env != NULL ? options->env : &account_env_default;
	a->sink = sink;
	a->user_data = user_data;
	a->state = WATCH_STATE_DISCONNECTED;
	a->detail = g_strdup("");
	a->password_state = WATCH_STATE_IDLE;
	a->folders = g_ptr_array_new_with_free_func(folder_free);
	for (size_t i = 0; config->folders[i] != NULL; i++) {
		struct folder *f = g_new0(struct folder, 1);

		f->account = a;
		f->state = WATCH_STATE_DISCONNECTED;
		f->mailbox = mailbox_create(config->name, config->folders[i], mailbox_event, f);
		g_ptr_array_add(a->folders, f);
	}
	a->state_dir = g_strdup(options->state_dir);
	a->options.state_dir = a->state_dir;
	account_load(a);
	return a;
}

static void password_done(const char *password, const GError *error, void *user_data)
{
	struct account *a = user_data;

	a->password_request = NULL;
	if (password == NULL) {
		g_autofree char *detail =
		    g_strdup_printf("cannot get the password: %s",
		                    error != NULL ? error->message : "unknown error");
		password_set_state(a, WATCH_STATE_ERROR, detail);
		return;
	}
	a->password = secret_new(password);
	password_set_state(a, WATCH_STATE_IDLE, NULL);
	connect_all(a);
}

void account_start(struct account *a)
{
	/* Every folder starts connecting together, so the account does not
	 * flap through "disconnected" while the first ones connect. */
	for (guint i = 0; i < a->folders->len; i++) {
		((struct folder *)a->folders->pdata[i])->state = WATCH_STATE_CONNECTING;
	}
	if (a->config->password_command != NULL) {
		password_set_state(a, WATCH_STATE_CONNECTING, NULL);
		a->password_request = password_request_start(
		    a->config->password_command, a->options.password_timeout, password_done, a);
		return;
	}
	a->password = secret_new(a->config->password);
	connect_all(a);
}

static gboolean stopped_cb(gpointer data)
{
	struct account *a = data;

	a->stopped_timer = 0;
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
	if (a->stopped_timer == 0) {
		a->stopped_timer = a->env->timer_add(0, stopped_cb, a);
	}
}

void account_stop(struct account *a, account_stopped stopped, void *user_data)
{
	if (a->save_timer != 0) {
		account_save(a);
	}
	a->stopping = true;
	a->stopped = stopped;
	a->stopped_data = user_data;
	password_request_cancel(a->password_request);
	a->password_request = NULL;
	for (guint i = 0; i < a->folders->len; i++) {
		struct folder *f = a->folders->pdata[i];

		account_timer_clear(a, &f->retry_timer);
		if (f->connection != NULL) {
			a->env->connection_logout(f->connection);
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
	account_timer_clear(a, &a->stopped_timer);
	if (a->save_timer != 0) {
		account_save(a);
	}
	state_account_free(a->saved);
	g_free(a->state_dir);
	g_ptr_array_unref(a->folders);
	secret_unref(a->password);
	g_free(a->password_detail);
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

struct secret *account_get_password(const struct account *a)
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
			a->env->connection_resync(f->connection);
		} else {
			folder_retry_now(f);
		}
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
			a->env->connection_probe(f->connection, ACCOUNT_PROBE_TIMEOUT);
		} else {
			/* The world changed: try now. */
			folder_retry_now(f);
		}
	}
}

void account_set_online(struct account *a, bool online)
{
	a->offline = !online;
}
