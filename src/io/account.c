/* SPDX-License-Identifier: MIT */
/*
 * The supervisor: the state from its parts, the connections and their
 * retries, stop, check and probe. Which folders are watched and on which
 * connection is in account-folders.c; where the credentials come from, and
 * the start, in account-credentials.c; what is kept on disk in
 * account-persist.c.
 */
#include "io/account-private.h"

#include "imapwatch/core/header.h"
#include "imapwatch/core/oauth.h"
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
    .connection_set_home = connection_set_home,
    .connection_set_guests = connection_set_guests,
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

void account_update_state(struct account *a)
{
	guint n = a->slots->len + a->folders->len + 1;
	g_autofree enum watch_state *states = g_new(enum watch_state, n);
	g_autoptr(GPtrArray) details = g_ptr_array_new_with_free_func(g_free);

	n = 0;
	for (guint i = 0; i < a->slots->len; i++) {
		const struct slot *s = a->slots->pdata[i];

		if (!s->leaving) {
			/* A quick reconnect after the server's timeout shows
			 * nothing (I9). */
			enum watch_state shown =
			    supervisor_slot_shown(&s->policy, s->state, a->env->now());

			states[n++] = shown;
			g_ptr_array_add(details, g_strdup(shown == s->state ? s->detail : NULL));
		}
	}
	for (guint i = 0; i < a->folders->len; i++) {
		const struct folder *f = a->folders->pdata[i];

		if (f->error != NULL) {
			states[n++] = WATCH_STATE_ERROR;
			g_ptr_array_add(details, g_strdup(f->error));
		}
	}
	if (a->password_state != WATCH_STATE_IDLE) {
		states[n++] = a->password_state;
		g_ptr_array_add(details, g_strdup(a->password_detail));
	}
	if (n == 0) {
		return;
	}
	size_t pick = supervisor_pick_state(states, n);
	enum watch_state state = states[pick];
	const char *raw = details->pdata[pick];
	/* Details quote server text (BYE, NO): valid UTF-8 without control
	 * or bidi characters before it reaches logs, JSON and D-Bus (E4),
	 * and without the server's timing noise. */
	g_autofree char *detail = header_sanitize_reply(raw);

	if (a->state == state && g_strcmp0(a->detail, detail) == 0) {
		return;
	}
	const char *from = watch_state_name(a->state);
	const char *to = watch_state_name(state);
	if (state == a->state) {
		/* Not a change of state: a new reason (the next retry). */
		g_debug("account '%s': still %s: %s", a->config->name, to, detail);
	} else if (state == WATCH_STATE_ERROR) {
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
	account_emit(a, &ev);
}

static void slot_set_state(struct slot *s, enum watch_state state, const char *detail)
{
	s->state = state;
	g_free(s->detail);
	s->detail = g_strdup(detail);
	account_update_state(s->account);
}

void account_password_set_state(struct account *a, enum watch_state state, const char *detail)
{
	a->password_state = state;
	g_free(a->password_detail);
	a->password_detail = g_strdup(detail);
	account_update_state(a);
}

/* --- connections ---------------------------------------------------------- */

static void check_stopped(struct account *a);

static bool is_primary(const struct slot *s)
{
	return s->account->slots->len > 0 && s->account->slots->pdata[0] == s;
}

static gboolean retry_cb(gpointer data)
{
	struct slot *s = data;

	s->retry_timer = 0;
	account_slot_connect(s);
	return G_SOURCE_REMOVE;
}

static void slot_drop_connection(struct slot *s)
{
	s->account->env->connection_destroy(s->connection);
	s->connection = NULL;
}

static void slot_free(gpointer data)
{
	struct slot *s = data;

	account_timer_clear(s->account, &s->retry_timer);
	account_timer_clear(s->account, &s->grace_timer);
	if (s->connection != NULL) {
		slot_drop_connection(s);
	}
	if (s->home != NULL && s->home->home_of == s) {
		s->home->home_of = NULL;
	}
	g_free(s->detail);
	g_free(s);
}

/* A slot that is over for good: gone from the account. */
static void slot_remove(struct slot *s)
{
	g_ptr_array_remove(s->account->slots, s);
}

static void conn_state_changed(struct connection *c, enum watch_state state, void *user_data)
{
	struct slot *s = user_data;

	(void)c;
	if (watch_state_is_watching(state)) {
		/* In service from the first IDLE (or poll) on. */
		supervisor_slot_serving(&s->policy, s->account->env->now());
		account_timer_clear(s->account, &s->grace_timer);
		s->account->token_retried = false;
	}
	bool got_in =
	    !is_primary(s) &&
	    (s->state == WATCH_STATE_CONNECTING || s->state == WATCH_STATE_AUTHENTICATING) &&
	    (state == WATCH_STATE_SYNCING || watch_state_is_watching(state));

	slot_set_state(s, state, NULL);
	if (got_in) {
		/* The next connection may log in now (F7). */
		account_plan(s->account);
	}
}

/* A number of seconds for a log line. */
#define DURATION(seconds) idle_lifetime_format((seconds), (char[16]){0}, 16)

static void conn_idle_ended(struct connection *c, enum imap_session_idle_end how, gint64 lasted,
                            guint planned, void *user_data)
{
	struct slot *s = user_data;
	struct account *a = s->account;
	const struct idle_lifetime *l = &a->idle_lifetime;
	guint before = l->refresh;

	(void)c;
	if (how == IMAP_SESSION_IDLE_END_CLOSED) {
		supervisor_slot_dropped(&s->policy);
	}
	switch (idle_lifetime_ended(&a->idle_lifetime,
	                            how == IMAP_SESSION_IDLE_END_DONE ? IDLE_LIFETIME_END_OURS
	                                                              : IDLE_LIFETIME_END_SERVER,
	                            lasted, planned, a->config->idle_refresh)) {
	case IDLE_LIFETIME_LEARNT:
		g_message("account '%s': the server ends IDLE after about %s; refreshing every %s",
		          a->config->name, DURATION(l->lifetime), DURATION(l->refresh));
		account_keep_idle_lifetime(a);
		break;
	case IDLE_LIFETIME_DROPPED:
		g_message("account '%s': the server still ends IDLE when it is refreshed every %s; "
		          "refreshing every %s again",
		          a->config->name, DURATION(before), DURATION(a->config->idle_refresh));
		account_keep_idle_lifetime(a);
		break;
	case IDLE_LIFETIME_TOO_SHORT:
		g_message(
		    "account '%s': the server ends IDLE after about %s, too soon to refresh it "
		    "before (not more often than every %s)",
		    a->config->name, DURATION(l->observed), DURATION(l->params.floor));
		break;
	case IDLE_LIFETIME_NOTHING:
		break;
	}
}

static void conn_guests_changed(struct connection *c, enum imap_session_guests mode,
                                const char *reason, void *user_data)
{
	struct slot *s = user_data;
	struct account *a = s->account;

	(void)c;
	s->guests = mode;
	if (mode == IMAP_SESSION_GUESTS_NOTIFY && a->notify != ACCOUNT_NOTIFY_YES) {
		a->notify = ACCOUNT_NOTIFY_YES;
		g_message("account '%s': the server offers NOTIFY; %u folders on one connection",
		          a->config->name, a->folders->len);
		account_plan(a);
	} else if (mode == IMAP_SESSION_GUESTS_POLL && a->notify != ACCOUNT_NOTIFY_NO) {
		a->notify = ACCOUNT_NOTIFY_NO;
		g_message("account '%s': %s; IDLE on up to %u connections, the other folders "
		          "polled every %u s",
		          a->config->name, reason != NULL ? reason : "no NOTIFY", a->budget,
		          a->config->poll_interval);
		account_plan(a);
	}
}

static void conn_listed(struct connection *c, const struct imap_session_listed *entries, size_t n,
                        void *user_data)
{
	struct slot *s = user_data;

	(void)c;
	account_folders_listed(s->account, entries, n);
}

static void conn_guest_failed(struct connection *c, struct mailbox *guest, const char *message,
                              void *user_data)
{
	struct slot *s = user_data;
	struct account *a = s->account;

	(void)c;
	for (guint i = 0; i < a->folders->len; i++) {
		struct folder *f = a->folders->pdata[i];

		if (f->mailbox == guest) {
			g_free(f->error);
			f->error = header_sanitize_reply(message);
		}
	}
	account_plan(a);
}

/* How many connections other than s are logged in (syncing or watching),
 * or with coming too on their way in as well. */
static guint others_in(const struct slot *s, bool coming)
{
	guint n = 0;

	for (guint i = 0; i < s->account->slots->len; i++) {
		const struct slot *o = s->account->slots->pdata[i];

		n += o != s && !o->leaving && o->connection != NULL &&
		     (coming || o->state == WATCH_STATE_SYNCING ||
		      watch_state_is_watching(o->state));
	}
	return n;
}

/* A connection other than the first failed and waits: the next one may
 * log in meanwhile (F7). */
static void plan_next(struct slot *s)
{
	if (!is_primary(s)) {
		account_plan(s->account);
	}
}

/* The grace after the server dropped a connection is over: the state the
 * slot shows is its own again. */
static gboolean grace_cb(gpointer data)
{
	struct slot *s = data;

	s->grace_timer = 0;
	account_update_state(s->account);
	return G_SOURCE_REMOVE;
}

/* The slot could not connect or lost its connection: in error for good,
 * or a retry after the policy's delay. */
void account_slot_failed(struct slot *s, enum imap_failure failure, const char *message)
{
	struct account *a = s->account;
	uint32_t delay;

	account_timer_clear(a, &s->grace_timer);
	if (!is_primary(s) && s->home != NULL && failure == IMAP_FAILURE_PERMANENT &&
	    (s->state == WATCH_STATE_SYNCING || watch_state_is_watching(s->state))) {
		/* Refused after the login, by its folder (deleted, H8): the
		 * folder's error, looked at again at the next listing as a
		 * guest's is; the connection goes. */
		struct folder *f = s->home;

		g_free(f->error);
		f->error = g_strdup(message);
		slot_remove(s);
		account_plan(a);
		return;
	}
	if (!supervisor_slot_failed(&s->policy, failure, a->offline, a->env->now(),
	                            a->env->random(), &delay)) {
		slot_set_state(s, WATCH_STATE_ERROR, message);
		plan_next(s);
		return;
	}
	if (s->policy.grace_until != 0) {
		s->grace_timer = a->env->timer_add(SUPERVISOR_GRACE_US / 1000, grace_cb, s);
	}
	g_autofree char *detail = supervisor_retry_detail(message, delay, a->offline);
	g_message("connection failed for account '%s'%s%s: %s", a->config->name,
	          s->home != NULL ? " folder " : "",
	          s->home != NULL ? mailbox_get_folder(s->home->mailbox) : "", detail);
	s->retry_timer = a->env->timer_add(delay, retry_cb, s);
	slot_set_state(s, WATCH_STATE_BACKOFF, detail);
	plan_next(s);
}

static void conn_failed(struct connection *c, enum imap_failure failure,
                        const char *connection_message, void *user_data)
{
	struct slot *s = user_data;
	struct account *a = s->account;
	/* The message belongs to the connection destroyed below; what the
	 * server said, without its timing noise, before our words follow. */
	g_autofree char *message = header_sanitize_reply(connection_message);

	(void)c;
	slot_drop_connection(s);
	if (a->stopping) {
		slot_set_state(s, WATCH_STATE_DISCONNECTED, NULL);
		check_stopped(a);
		return;
	}
	if (s->leaving) {
		slot_remove(s);
		account_update_state(a);
		return;
	}
	if (!is_primary(s) && failure == IMAP_FAILURE_RESOURCE && others_in(s, false) > 0) {
		/* The server allows no more connections ([LIMIT], [UNAVAILABLE]
		 * while others are in): watch with those it allows (F7). Those
		 * still logging in count: a server may let them in yet, and
		 * one it refuses lowers the budget again when it is. */
		a->budget = MAX(1u, MIN(a->budget, others_in(s, true)));
		g_message("account '%s': the server refused another connection (%s); watching "
		          "with %u connection%s, the other folders polled",
		          a->config->name, message, a->budget, a->budget == 1 ? "" : "s");
		slot_remove(s);
		account_plan(a);
		return;
	}
	if (a->per_connection &&
	    (failure == IMAP_FAILURE_CREDENTIALS || failure == IMAP_FAILURE_REAUTH) &&
	    s->token_gen == a->token_gen) {
		/* Not this token again (A5). */
		a->token_fetched = 0;
	}
	if (a->per_connection && failure == IMAP_FAILURE_CREDENTIALS &&
	    (s->token_gen < a->token_gen || s->token_gen == a->refused_gen)) {
		/* A token already given up after another connection's refusal
		 * (several connections log in with one): this one tries the
		 * fresh token too, without spending the account's retry. */
		supervisor_slot_reset(&s->policy);
		account_slot_connect(s);
		return;
	}
	if (a->per_connection && failure == IMAP_FAILURE_CREDENTIALS && !a->token_retried) {
		/* A5: a helper may hand out a stale cached token once: one
		 * fresh token, one more try, before the account stops. */
		a->token_retried = true;
		a->refused_gen = s->token_gen;
		g_message("account '%s': the server refused the token (%s); trying once more "
		          "with a fresh one",
		          a->config->name, message);
		supervisor_slot_reset(&s->policy);
		account_slot_connect(s);
		return;
	}
	account_slot_failed(s, failure, message);
}

static void conn_finished(struct connection *c, void *user_data)
{
	struct slot *s = user_data;
	struct account *a = s->account;

	(void)c;
	slot_drop_connection(s);
	if (s->leaving && !a->stopping) {
		slot_remove(s);
		account_update_state(a);
		return;
	}
	slot_set_state(s, WATCH_STATE_DISCONNECTED, NULL);
	check_stopped(a);
}

static const struct connection_ops connection_ops = {
    .state_changed = conn_state_changed,
    .guests_changed = conn_guests_changed,
    .listed = conn_listed,
    .guest_failed = conn_guest_failed,
    .failed = conn_failed,
    .finished = conn_finished,
    .idle_ended = conn_idle_ended,
};

struct slot *account_slot_new(struct account *a, struct folder *home)
{
	struct slot *s = g_new0(struct slot, 1);

	s->account = a;
	s->home = home;
	s->state = WATCH_STATE_CONNECTING;
	if (home != NULL) {
		home->home_of = s;
	}
	g_ptr_array_add(a->slots, s);
	return s;
}

void account_slot_connect(struct slot *s)
{
	struct account *a = s->account;

	/* Connecting now supersedes a retry that was due later. */
	account_timer_clear(a, &s->retry_timer);
	s->queued = false;
	if (a->per_connection && !account_token_fresh(a)) {
		/* A5: a fresh token for every login; the command runs once
		 * for the connections waiting together. */
		s->wants_token = true;
		slot_set_state(s, WATCH_STATE_CONNECTING, NULL);
		account_token_request(a);
		return;
	}
	account_slot_start(s);
}

/* The connection itself, with the password or the token at hand. */
void account_slot_start(struct slot *s)
{
	struct account *a = s->account;
	bool primary = is_primary(s);

	s->wants_token = false;
	s->token_gen = a->token_gen;
	struct connection_params params = {
	    .account = account_get_login_config(a),
	    .password = secret_get(a->password),
	    .home = s->home != NULL ? s->home->mailbox : NULL,
	    .list = primary && a->lists ? (const char *const *)a->config->folders : NULL,
	    .idle_lifetime = &a->idle_lifetime,
	    .allow_notify = primary && a->notify != ACCOUNT_NOTIFY_NO,
	    .trace = a->options.trace,
	};

	supervisor_slot_connecting(&s->policy);
	s->guests = IMAP_SESSION_GUESTS_NONE;
	s->connection = a->env->connection_create(&params, &connection_ops, s);
	slot_set_state(s, WATCH_STATE_CONNECTING, NULL);
	a->env->connection_start(s->connection);
	if (primary) {
		/* The guests known so far; a LIST pass may change them. */
		account_plan(a);
	}
}

void account_slot_leave(struct slot *s)
{
	s->leaving = true;
	account_timer_clear(s->account, &s->retry_timer);
	if (s->home != NULL && s->home->home_of == s) {
		s->home->home_of = NULL;
	}
	if (s->connection == NULL) {
		slot_remove(s);
		return;
	}
	s->account->env->connection_logout(s->connection);
}

/* The slots now: connecting one may plan others away or in, so loops over
 * the slots run over a copy and skip those gone meanwhile. */
GPtrArray *account_slots_snapshot(struct account *a)
{
	GPtrArray *copy = g_ptr_array_new();

	for (guint i = 0; i < a->slots->len; i++) {
		g_ptr_array_add(copy, a->slots->pdata[i]);
	}
	return copy;
}

/* Waiting to retry, or stopped in error: try again now, from the shortest
 * delay. */
static void slot_retry_now(struct slot *s)
{
	account_timer_clear(s->account, &s->retry_timer);
	supervisor_slot_reset(&s->policy);
	account_slot_connect(s);
}

/* --- the account ------------------------------------------------------------ */

/* The rule that learns the server's IDLE lifetime (I9), as in production.
 * For tests only, never for users: IMAPWATCH_TEST_IDLE_FLOOR=<seconds,
 * 1..59> lowers its floor (and its slack to a third of it), so that the
 * integration test tests/integration/test_idle_lifetime.py plays in
 * seconds a server whose IDLE lifetime would take minutes to learn. It can
 * only make IDLE refreshes more frequent, and only on a server that keeps
 * ending IDLE that soon; nothing else reads it. */
static struct idle_lifetime_params idle_params(const char *account)
{
	struct idle_lifetime_params params = idle_lifetime_defaults;
	const char *floor = g_getenv("IMAPWATCH_TEST_IDLE_FLOOR");
	guint64 seconds;

	if (floor != NULL &&
	    g_ascii_string_to_unsigned(floor, 10, 1, IDLE_LIFETIME_FLOOR - 1, &seconds, NULL)) {
		params.floor = (guint)seconds;
		params.slack = MAX(1u, params.floor / 3);
		g_message("account '%s': IMAPWATCH_TEST_IDLE_FLOOR is set (for tests only): IDLE "
		          "may be refreshed every %u s",
		          account, params.floor);
	}
	return params;
}

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
	a->per_connection =
	    config->password_command != NULL &&
	    (config->auth == CONFIG_AUTH_XOAUTH2 || config->auth == CONFIG_AUTH_OAUTHBEARER);
	a->budget = config->max_connections > 0 ? config->max_connections : 1;
	a->folders = g_ptr_array_new_with_free_func(account_folder_free);
	a->retired = g_ptr_array_new_with_free_func(account_folder_free);
	a->slots = g_ptr_array_new_with_free_func(slot_free);
	a->held = g_ptr_array_new_with_free_func((GDestroyNotify)watch_event_free);
	a->credential_waits = g_ptr_array_new();
	struct idle_lifetime_params idle = idle_params(config->name);

	idle_lifetime_init(&a->idle_lifetime, &idle);
	a->state_dir = g_strdup(options->state_dir);
	a->options.state_dir = a->state_dir;
	if (config->disabled) {
		/* enabled = false: no folders, so nothing stale is reported; its
		 * state file stays as it is for when it is enabled again. */
		return a;
	}
	account_load(a);
	if (account_restore_idle_lifetime(a)) {
		g_message("account '%s': the server ended IDLE after about %s (learnt before); "
		          "refreshing every %s",
		          config->name, DURATION(a->idle_lifetime.lifetime),
		          DURATION(a->idle_lifetime.refresh));
	}
	account_folders_init(a);
	return a;
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
	for (guint i = 0; i < a->slots->len; i++) {
		const struct slot *s = a->slots->pdata[i];

		if (s->connection != NULL) {
			return;
		}
	}
	if (a->stopped_timer == 0) {
		a->stopped_timer = a->env->timer_add(0, stopped_cb, a);
	}
}

void account_stop(struct account *a, account_stopped stopped, void *user_data)
{
	account_flush(a);
	if (a->save_timer != 0) {
		account_save(a);
	}
	a->stopping = true;
	a->stopped = stopped;
	a->stopped_data = user_data;
	password_request_cancel(a->password_request);
	a->password_request = NULL;
	keyring_request_cancel(a->keyring_request);
	a->keyring_request = NULL;
	goa_request_cancel(a->goa_request);
	a->goa_request = NULL;
	for (guint i = 0; i < a->slots->len; i++) {
		struct slot *s = a->slots->pdata[i];

		account_timer_clear(a, &s->retry_timer);
		if (s->connection != NULL) {
			a->env->connection_logout(s->connection);
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
	keyring_request_cancel(a->keyring_request);
	goa_request_cancel(a->goa_request);
	account_credential_waits_answer(a, "the account is going away");
	g_ptr_array_unref(a->credential_waits);
	goa_imap_clear(&a->goa);
	g_free(a->login);
	account_timer_clear(a, &a->stopped_timer);
	/* Events still held have no listener left to hear them (the daemon
	 * is going); the state they would have moved stays unwritten, so a
	 * restart reports them (N4). */
	account_timer_clear(a, &a->flush_timer);
	if (a->save_timer != 0) {
		account_save(a);
	}
	/* Connections first: they borrow the folders' models. */
	g_ptr_array_unref(a->slots);
	state_account_free(a->saved);
	g_free(a->state_dir);
	g_ptr_array_unref(a->folders);
	g_ptr_array_unref(a->retired);
	g_ptr_array_unref(a->held);
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

const struct config_account *account_get_login_config(const struct account *a)
{
	return a->login != NULL ? a->login : a->config;
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

const char *account_get_folder_watch(const struct account *a, guint index, const char **detail)
{
	const struct folder *f = a->folders->pdata[index];
	const struct slot *primary = a->slots->len > 0 ? a->slots->pdata[0] : NULL;

	*detail = f->error != NULL ? f->error : "";
	if (f->error != NULL) {
		return "error";
	}
	if (f->home_of != NULL) {
		enum watch_state state =
		    supervisor_slot_shown(&f->home_of->policy, f->home_of->state, a->env->now());

		return state == WATCH_STATE_POLLING     ? "poll"
		       : watch_state_is_watching(state) ? "idle"
		                                        : "";
	}
	if (primary == NULL || !watch_state_is_watching(primary->state)) {
		return "";
	}
	return primary->guests == IMAP_SESSION_GUESTS_NOTIFY ? "notify"
	       : primary->guests == IMAP_SESSION_GUESTS_POLL ? "poll"
	                                                     : "";
}

guint account_get_n_connections(const struct account *a)
{
	guint n = 0;

	for (guint i = 0; i < a->slots->len; i++) {
		n += ((const struct slot *)a->slots->pdata[i])->connection != NULL;
	}
	return n;
}

/* Folders in error (missing, refused) are looked at again. */
static void folders_retry(struct account *a)
{
	bool any = false;

	for (guint i = 0; i < a->folders->len; i++) {
		struct folder *f = a->folders->pdata[i];

		any = any || f->error != NULL;
		g_clear_pointer(&f->error, g_free);
	}
	if (any) {
		account_plan(a);
	}
}

/* Every slot now: a connection resynchronises (or, probing, proves it is
 * alive); a slot waiting to reconnect tries at once — the world changed. */
static void slots_poke(struct account *a, bool probe)
{
	g_autoptr(GPtrArray) slots = account_slots_snapshot(a);

	for (guint i = 0; i < slots->len; i++) {
		struct slot *s = slots->pdata[i];

		if (!g_ptr_array_find(a->slots, s, NULL) || s->leaving || s->queued) {
			continue;
		}
		if (s->connection == NULL) {
			slot_retry_now(s);
		} else if (probe) {
			a->env->connection_probe(s->connection, ACCOUNT_PROBE_TIMEOUT);
		} else {
			a->env->connection_resync(s->connection);
		}
	}
}

void account_check(struct account *a)
{
	if (a->config->disabled || a->stopping || a->password_request != NULL ||
	    a->keyring_request != NULL || a->goa_request != NULL) {
		return;
	}
	if (a->password == NULL) {
		/* The password command failed: ask it again. */
		account_start(a);
		return;
	}
	folders_retry(a);
	slots_poke(a, false);
}

void account_probe(struct account *a)
{
	if (a->stopping || a->password == NULL) {
		return;
	}
	slots_poke(a, true);
}

void account_set_online(struct account *a, bool online)
{
	a->offline = !online;
}
