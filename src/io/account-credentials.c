/* SPDX-License-Identifier: MIT */
/*
 * Where an account's credentials come from, and starting it: the password
 * (password_command, the Secret Service, the config), OAuth tokens (a token
 * command or GNOME Online Accounts, per connection, shared for a moment),
 * and the waits of those who need fresh credentials (mark as read).
 */
#include "io/account-private.h"

#include "imapwatch/core/oauth.h"

#include <string.h>

/* A token serves the connections that start this soon after its fetch
 * (several at once share one run of the command), unless it expires
 * within ACCOUNT_TOKEN_MARGIN_S. */
#define ACCOUNT_TOKEN_SHARE_US (10 * G_USEC_PER_SEC)
#define ACCOUNT_TOKEN_MARGIN_S 60

bool account_token_fresh(const struct account *a)
{
	/* GNOME Online Accounts keeps the token itself: asking it costs a
	 * local call, so every connection asks. */
	return a->password != NULL && a->token_fetched != 0 && a->login == NULL &&
	       a->env->now() - a->token_fetched < ACCOUNT_TOKEN_SHARE_US &&
	       (a->token_expires == 0 ||
	        a->token_expires - g_get_real_time() / G_USEC_PER_SEC > ACCOUNT_TOKEN_MARGIN_S);
}

void account_connect_primary(struct account *a)
{
	struct slot *primary = a->slots->len > 0 ? a->slots->pdata[0] : NULL;

	if (primary == NULL) {
		struct folder *home = a->folders->len > 0 ? a->folders->pdata[0] : NULL;

		primary = account_slot_new(a, home);
	}
	account_slot_connect(primary);
}

static void password_done(const char *password, const GError *error, void *user_data)
{
	struct account *a = user_data;

	a->password_request = NULL;
	if (password == NULL) {
		g_autofree char *detail =
		    g_strdup_printf("cannot get the password: %s",
		                    error != NULL ? error->message : "unknown error");
		account_password_set_state(a, WATCH_STATE_ERROR, detail);
		return;
	}
	a->password = secret_new(password);
	account_password_set_state(a, WATCH_STATE_IDLE, NULL);
	account_connect_primary(a);
}

struct account_credentials_wait {
	account_credentials_fn fn;
	void *user_data;
};

/* The waits for a token get it (problem NULL) or the reason there is none. */
void account_credential_waits_answer(struct account *a, const char *problem)
{
	g_autoptr(GPtrArray) waits = g_steal_pointer(&a->credential_waits);

	a->credential_waits = g_ptr_array_new();
	for (guint i = 0; waits != NULL && i < waits->len; i++) {
		struct account_credentials_wait *w = waits->pdata[i];

		w->fn(problem == NULL ? a->password : NULL, problem, w->user_data);
		g_free(w);
	}
}

struct account_credentials_wait *
account_with_credentials(struct account *a, account_credentials_fn fn, void *user_data)
{
	if (a->config->disabled) {
		fn(NULL, "the account is disabled (enabled = false)", user_data);
		return NULL;
	}
	if (!a->per_connection) {
		fn(a->password, a->password == NULL ? "it has not logged in yet" : NULL, user_data);
		return NULL;
	}
	/* Never the connections' shared token: a request of the user's is
	 * rare, and a token of unknown expiry may have run out since. */
	a->token_fetched = 0;
	struct account_credentials_wait *w = g_new0(struct account_credentials_wait, 1);

	w->fn = fn;
	w->user_data = user_data;
	g_ptr_array_add(a->credential_waits, w);
	account_token_request(a);
	return w;
}

void account_credentials_cancel(struct account *a, struct account_credentials_wait *w)
{
	if (w != NULL && g_ptr_array_remove(a->credential_waits, w)) {
		g_free(w);
	}
}

/* A token (or GOA password) for the waiting connections, or the reason
 * there is none: they start with it, or wait for their retry. */
static void token_ready(struct account *a, const char *secret, gint64 expires_at,
                        const char *problem_text)
{
	g_autofree char *problem = NULL;

	if (secret == NULL) {
		problem = g_strdup_printf("cannot get the %s: %s",
		                          a->login != NULL && !a->goa.oauth2 ? "password" : "token",
		                          problem_text);
		g_warning("account '%s': %s", a->config->name, problem);
		account_password_set_state(a, WATCH_STATE_ERROR, problem);
		account_credential_waits_answer(a, problem);
		for (guint i = 0; i < a->slots->len; i++) {
			struct slot *s = a->slots->pdata[i];

			if (s->wants_token) {
				/* Retried with backoff like a failed connection. */
				s->wants_token = false;
				account_slot_failed(s, IMAP_FAILURE_TRANSIENT, problem);
			}
		}
		return;
	}
	secret_unref(a->password);
	a->password = secret_new(secret);
	a->token_fetched = a->env->now();
	a->token_expires = expires_at;
	a->token_gen++;
	account_password_set_state(a, WATCH_STATE_IDLE, NULL);
	account_credential_waits_answer(a, NULL);
	g_autoptr(GPtrArray) waiting = account_slots_snapshot(a);
	for (guint i = 0; i < waiting->len; i++) {
		struct slot *s = waiting->pdata[i];

		if (g_ptr_array_find(a->slots, s, NULL) && s->wants_token) {
			/* This token, whatever its expiry says: they asked for it. */
			account_slot_start(s);
		}
	}
}

/* The token command's run is over. */
static void token_done(const char *output, const GError *error, void *user_data)
{
	struct account *a = user_data;
	struct oauth_token token = {0};
	g_autofree char *problem = NULL;

	a->password_request = NULL;
	if (output == NULL) {
		token_ready(a, NULL, 0, error != NULL ? error->message : "unknown error");
		return;
	}
	if (!oauth_token_parse(output, strlen(output), g_get_real_time() / G_USEC_PER_SEC, &token,
	                       &problem)) {
		token_ready(a, NULL, 0, problem);
		return;
	}
	token_ready(a, token.access_token, token.expires_at, NULL);
	oauth_token_clear(&token);
}

static void goa_credentials_done(const char *secret, gint64 expires_at, const GError *error,
                                 void *user_data)
{
	struct account *a = user_data;

	a->goa_request = NULL;
	token_ready(a, secret, expires_at,
	            error != NULL ? error->message : "GNOME Online Accounts gave nothing");
}

void account_token_request(struct account *a)
{
	if (a->password_request != NULL || a->goa_request != NULL || a->stopping) {
		return; /* under way: its token serves this connection too */
	}
	if (a->login != NULL) {
		a->goa_request = goa_credentials_start(&a->goa, goa_credentials_done, a);
		return;
	}
	a->password_request = password_request_start_output(
	    a->config->password_command, a->options.password_timeout, token_done, a);
}

static void keyring_done(const char *password, const GError *error, void *user_data)
{
	struct account *a = user_data;

	a->keyring_request = NULL;
	password_done(password, error, a);
}

static void keyring_locked(void *user_data)
{
	struct account *a = user_data;

	g_message("account '%s': the keyring is locked; waiting for it to be unlocked",
	          a->config->name);
	account_password_set_state(a, WATCH_STATE_CONNECTING, WATCH_DETAIL_KEYRING_LOCKED);
}

/* goa_account: GOA's server and login in place of the configuration's;
 * the credentials come per connection, like tokens (A5). */
static void goa_found(struct goa_imap *imap, const GError *error, void *user_data)
{
	struct account *a = user_data;

	a->goa_request = NULL;
	if (imap == NULL) {
		g_warning("account '%s': %s", a->config->name, error->message);
		account_password_set_state(a, WATCH_STATE_ERROR, error->message);
		return;
	}
	goa_imap_clear(&a->goa);
	a->goa = *imap;
	memset(imap, 0, sizeof(*imap));
	g_free(a->login);
	a->login = goa_imap_login(a->config, &a->goa);
	a->per_connection = true;
	g_message("account '%s': GNOME Online Accounts gives %s port %u, user '%s', %s",
	          a->config->name, a->goa.host, a->goa.port, a->goa.username,
	          a->goa.oauth2 ? "OAuth 2 tokens" : "a password");
	account_password_set_state(a, WATCH_STATE_IDLE, NULL);
	account_connect_primary(a);
}

void account_start(struct account *a)
{
	if (a->config->disabled) {
		/* The part that would look the password up says why nothing
		 * happens; no connection, no password command. */
		account_password_set_state(a, WATCH_STATE_DISABLED, NULL);
		return;
	}
	if (a->config->goa_account != NULL && a->login == NULL) {
		account_password_set_state(a, WATCH_STATE_CONNECTING, NULL);
		a->goa_request = goa_lookup_start(a->config->goa_account, goa_found, a);
		return;
	}
	if (a->per_connection) {
		account_connect_primary(a);
		return;
	}
	if (a->config->password_secret != NULL) {
		account_password_set_state(a, WATCH_STATE_CONNECTING, NULL);
		a->keyring_request = keyring_request_start(a->config->password_secret, keyring_done,
		                                           keyring_locked, a);
		return;
	}
	if (a->config->password_command != NULL) {
		account_password_set_state(a, WATCH_STATE_CONNECTING, NULL);
		a->password_request = password_request_start(
		    a->config->password_command, a->options.password_timeout, password_done, a);
		return;
	}
	a->password = secret_new(a->config->password);
	account_connect_primary(a);
}
