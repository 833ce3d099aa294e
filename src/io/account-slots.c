/* SPDX-License-Identifier: MIT */
/*
 * The account's connections (slots): what each connection reports — its
 * state, the end of an IDLE, the guests, a listing, a failure — and the
 * supervisor's answer (a retry after backoff, a lower budget, the next
 * queued connection, a folder's error); starting, connecting and leaving
 * a slot.
 */
#include "io/account-private.h"

#include "imapwatch/core/header.h"

#include <string.h>

static void slot_set_state(struct slot *s, enum watch_state state, const char *detail)
{
	s->state = state;
	g_free(s->detail);
	s->detail = g_strdup(detail);
	account_update_state(s->account);
}

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

void account_slot_free(gpointer data)
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
		account_check_stopped(a);
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
	account_check_stopped(a);
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
void account_slot_retry_now(struct slot *s)
{
	account_timer_clear(s->account, &s->retry_timer);
	supervisor_slot_reset(&s->policy);
	account_slot_connect(s);
}
