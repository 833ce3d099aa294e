/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/imap-login.h"

#include "imapwatch/core/imap-command.h"
#include "imapwatch/core/oauth.h"

#include <string.h>

enum state {
	S_GREETING,
	S_CAPABILITY_PRE, /* before STARTTLS */
	S_STARTTLS,       /* sent, or accepted and the handshake runs */
	S_CAPABILITY,     /* before authentication */
	S_AUTHENTICATE,
	S_LOGIN,
	S_CAPABILITY_POST,
	S_DONE, /* authenticated and handed over, or failed */
};

static const char *const state_names[] = {
    [S_GREETING] = "greeting",
    [S_CAPABILITY_PRE] = "capability-pre-tls",
    [S_STARTTLS] = "starttls",
    [S_CAPABILITY] = "capability",
    [S_AUTHENTICATE] = "authenticate",
    [S_LOGIN] = "login",
    [S_CAPABILITY_POST] = "capability-post-auth",
    [S_DONE] = "done",
};

struct imap_login {
	enum state state;
	struct imap_client *client;
	const struct config_account *account;
	const char *password; /* borrowed */
	const struct imap_login_ops *ops;
	void *owner;

	bool authenticated;
	bool auth_ir_sent;
	bool rejected;     /* the server said NO/BAD to the credentials */
	char *oauth_error; /* what an OAuth error challenge said (A3, A4) */
};

static void set_state(struct imap_login *l, enum state state)
{
	if (l->state != state) {
		g_debug("imap login for account '%s': %s -> %s", l->account->name,
		        state_names[l->state], state_names[state]);
	}
	l->state = state;
}

/* The client's handler while the login runs: its failures are the
 * login's. */
static void login_failed(enum imap_failure failure, const char *message, void *data)
{
	struct imap_login *l = data;

	if (l->state == S_DONE) {
		return;
	}
	set_state(l, S_DONE);
	l->ops->failed(failure, message, l->owner);
}

static void handle_reply(const struct imap_response *r, void *data);

static void send_command(struct imap_login *l, enum state next, const char *command,
                         const char *redacted)
{
	set_state(l, next);
	imap_client_command(l->client, command, redacted, handle_reply, l);
}

/* --- steps ----------------------------------------------------------------- */

static void tls_ready(void *data)
{
	struct imap_login *l = data;

	send_command(l, S_CAPABILITY, "CAPABILITY", NULL); /* S4 */
}

static void starttls_refused(const struct imap_response *r, void *data)
{
	/* S1: NO or BAD to STARTTLS never leads to plaintext. */
	imap_client_fail(((struct imap_login *)data)->client, IMAP_FAILURE_PERMANENT,
	                 "server refused STARTTLS (%s), refusing to continue without TLS", r->text);
}

static void step_starttls(struct imap_login *l)
{
	if (!imap_client_has_cap(l->client, IMAP_CAP_STARTTLS)) {
		/* S1: never continue without TLS when it was asked for. */
		imap_client_fail(l->client, IMAP_FAILURE_PERMANENT,
		                 "server does not offer STARTTLS, refusing to continue without "
		                 "TLS (use security = tls if the server supports port 993)");
		return;
	}
	set_state(l, S_STARTTLS);
	imap_client_starttls(l->client, tls_ready, starttls_refused, l);
}

/* The initial client response for the configured mechanism, base64. The
 * caller wipes it. */
static char *auth_initial_response(const struct imap_login *l)
{
	const char *user = l->account->username;
	g_autofree char *raw = NULL;

	switch (l->account->auth) {
	case CONFIG_AUTH_XOAUTH2:
		/* A4: "user=" user ^A "auth=Bearer " token ^A ^A */
		raw = g_strdup_printf("user=%s\001auth=Bearer %s\001\001", user, l->password);
		break;
	case CONFIG_AUTH_OAUTHBEARER:
		/* A3: GS2 header, then ^A-separated key/value pairs. */
		raw = g_strdup_printf("n,a=%s,\001auth=Bearer %s\001\001", user, l->password);
		break;
	default:
		return imap_command_base64_plain("", user, l->password);
	}
	char *b64 = g_base64_encode((const guchar *)raw, strlen(raw));
	explicit_bzero(raw, strlen(raw));
	return b64;
}

static const char *auth_mechanism(const struct imap_login *l)
{
	switch (l->account->auth) {
	case CONFIG_AUTH_XOAUTH2:
		return "XOAUTH2";
	case CONFIG_AUTH_OAUTHBEARER:
		return "OAUTHBEARER";
	default:
		return "PLAIN";
	}
}

static void step_authenticate_sasl(struct imap_login *l)
{
	const char *mechanism = auth_mechanism(l);
	g_autofree char *initial = auth_initial_response(l);

	if (initial == NULL) {
		imap_client_fail(l->client, IMAP_FAILURE_PERMANENT,
		                 "cannot authenticate with an empty user name or password");
		return;
	}
	/* A2: the initial response goes on the command line only with SASL-IR. */
	if (imap_client_has_cap(l->client, IMAP_CAP_SASL_IR)) {
		g_autofree char *command =
		    g_strdup_printf("AUTHENTICATE %s %s", mechanism, initial);
		g_autofree char *shown = g_strdup_printf("AUTHENTICATE %s <redacted>", mechanism);

		send_command(l, S_AUTHENTICATE, command, shown);
		explicit_bzero(command, strlen(command));
		l->auth_ir_sent = true;
	} else {
		g_autofree char *command = g_strdup_printf("AUTHENTICATE %s", mechanism);

		send_command(l, S_AUTHENTICATE, command, NULL);
		l->auth_ir_sent = false;
	}
	explicit_bzero(initial, strlen(initial));
}

static void step_login(struct imap_login *l)
{
	g_autoptr(GString) command = g_string_new("LOGIN ");

	if (!imap_command_append_astring(command, l->account->username)) {
		imap_client_fail(l->client, IMAP_FAILURE_PERMANENT,
		                 "the user name contains characters the LOGIN command cannot "
		                 "send; use auth = plain");
		return;
	}
	g_string_append_c(command, ' ');
	if (!imap_command_append_astring(command, l->password)) {
		explicit_bzero(command->str, command->len);
		imap_client_fail(l->client, IMAP_FAILURE_PERMANENT,
		                 "the password contains characters the LOGIN command cannot "
		                 "send; use auth = plain");
		return;
	}
	send_command(l, S_LOGIN, command->str, "LOGIN <redacted>");
	explicit_bzero(command->str, command->len);
}

static void step_auth(struct imap_login *l)
{
	enum config_auth auth = l->account->auth;

	if (l->account->security == CONFIG_SECURITY_STARTTLS && !imap_client_is_tls(l->client)) {
		/* Defence in depth for T8: credentials only over TLS. */
		imap_client_fail(l->client, IMAP_FAILURE_PERMANENT,
		                 "refusing to log in without TLS");
		return;
	}
	if (auth == CONFIG_AUTH_XOAUTH2 || auth == CONFIG_AUTH_OAUTHBEARER ||
	    auth == CONFIG_AUTH_PLAIN ||
	    (auth == CONFIG_AUTH_AUTO && imap_client_has_cap(l->client, IMAP_CAP_AUTH_PLAIN))) {
		step_authenticate_sasl(l);
		return;
	}
	/* A1: LOGIN only as the last resort, never with LOGINDISABLED. */
	if (imap_client_has_cap(l->client, IMAP_CAP_LOGINDISABLED)) {
		imap_client_fail(l->client, IMAP_FAILURE_PERMANENT,
		                 "server disables LOGIN (LOGINDISABLED) and offers no usable "
		                 "authentication mechanism");
		return;
	}
	step_login(l);
}

/* Tells the owner; false when it stopped everything from its callback. */
static bool greeted(struct imap_login *l)
{
	if (l->ops->greeted != NULL) {
		l->ops->greeted(l->owner);
	}
	return l->state != S_DONE && !imap_client_is_stopped(l->client);
}

static void step_after_greeting(struct imap_login *l)
{
	bool known = imap_client_caps_known(l->client);

	if (!greeted(l)) {
		return;
	}
	if (l->account->security == CONFIG_SECURITY_STARTTLS && !imap_client_is_tls(l->client)) {
		if (known) {
			step_starttls(l);
		} else {
			send_command(l, S_CAPABILITY_PRE, "CAPABILITY", NULL);
		}
	} else if (known) {
		step_auth(l);
	} else {
		send_command(l, S_CAPABILITY, "CAPABILITY", NULL);
	}
}

static void step_ready(struct imap_login *l)
{
	set_state(l, S_DONE);
	l->ops->authenticated(l->owner);
}

static void step_after_auth(struct imap_login *l)
{
	l->authenticated = true;
	imap_client_set_authenticated(l->client);
	if (!imap_client_caps_known(l->client)) {
		/* C1: capabilities change after login. */
		send_command(l, S_CAPABILITY_POST, "CAPABILITY", NULL);
		return;
	}
	step_ready(l);
}

/* --- responses ----------------------------------------------------------- */

static void handle_greeting(const struct imap_response *r, void *data)
{
	struct imap_login *l = data;

	if (r->kind != IMAP_RESPONSE_UNTAGGED) {
		imap_client_fail(l->client, IMAP_FAILURE_TRANSIENT, "server sent no greeting");
		return;
	}
	switch (r->status) {
	case IMAP_STATUS_OK:
		step_after_greeting(l);
		return;
	case IMAP_STATUS_PREAUTH:
		if (!imap_client_is_tls(l->client) &&
		    l->account->security == CONFIG_SECURITY_STARTTLS) {
			/* T11/S2: PREAUTH would skip STARTTLS. */
			imap_client_fail(l->client, IMAP_FAILURE_PERMANENT,
			                 "server greeted with PREAUTH before TLS; refusing to "
			                 "continue without TLS");
			return;
		}
		if (greeted(l)) {
			step_after_auth(l);
		}
		return;
	case IMAP_STATUS_BYE:
		imap_client_fail(l->client, IMAP_FAILURE_RESOURCE,
		                 "server refused the connection: %s", r->text);
		return;
	default:
		imap_client_fail(l->client, IMAP_FAILURE_TRANSIENT,
		                 "server sent an invalid greeting");
		return;
	}
}

static void handle_auth_reply(struct imap_login *l, const struct imap_response *r)
{
	if (r->status == IMAP_STATUS_OK) {
		/* C1: what was known before login is stale; the reply's own
		 * [CAPABILITY ...] code may tell the new list at once. */
		imap_client_forget_caps(l->client);
		imap_client_set_authenticated(l->client);
		imap_client_handle_code(l->client, r);
		step_after_auth(l);
		return;
	}
	enum imap_failure failure = imap_failure_for_reply(r->code, r->text);
	if (failure == IMAP_FAILURE_PERMANENT) {
		failure = IMAP_FAILURE_CREDENTIALS;
	}
	l->rejected = failure == IMAP_FAILURE_CREDENTIALS;
	imap_client_fail(l->client, failure,
	                 failure == IMAP_FAILURE_RESOURCE
	                     ? "server temporarily refused the login for user '%s': %s%s%s%s"
	                     : "authentication failed for user '%s': %s%s%s%s",
	                 l->account->username, r->text[0] != '\0' ? r->text : "no reason given",
	                 l->oauth_error != NULL ? " (the server says of the token: " : "",
	                 l->oauth_error != NULL ? l->oauth_error : "",
	                 l->oauth_error != NULL ? ")" : "");
}

static void handle_capability_reply(struct imap_login *l, const struct imap_response *r)
{
	if (l->state == S_CAPABILITY) {
		imap_client_handle_code(l->client, r);
	}
	if (r->status != IMAP_STATUS_OK) {
		imap_client_fail(l->client, IMAP_FAILURE_TRANSIENT, "CAPABILITY failed: %s",
		                 r->text);
		return;
	}
	switch (l->state) {
	case S_CAPABILITY_PRE:
		step_starttls(l);
		return;
	case S_CAPABILITY:
		step_auth(l);
		return;
	default:
		step_ready(l); /* C1: after login */
		return;
	}
}

static void handle_reply(const struct imap_response *r, void *data)
{
	struct imap_login *l = data;

	switch (l->state) {
	case S_CAPABILITY_PRE:
	case S_CAPABILITY:
	case S_CAPABILITY_POST:
		handle_capability_reply(l, r);
		return;
	case S_AUTHENTICATE:
	case S_LOGIN:
		handle_auth_reply(l, r);
		return;
	default:
		return;
	}
}

static void handle_untagged(const struct imap_response *r, void *data)
{
	/* S5: before the owner takes over, message data is ignored; the
	 * client has read the capabilities already. */
	(void)r;
	(void)data;
}

static void handle_continuation(const struct imap_response *r, void *data)
{
	struct imap_login *l = data;

	if (l->state != S_AUTHENTICATE) {
		return; /* P1: unexpected, harmless */
	}
	if (!l->auth_ir_sent) {
		/* Not NULL: step_authenticate_sasl() checked the credentials. */
		g_autofree char *initial = auth_initial_response(l);
		g_autofree char *line = g_strdup_printf("%s\r\n", initial);

		l->auth_ir_sent = true;
		imap_client_send_raw(l->client, line, strlen(line), "<redacted>");
		explicit_bzero(initial, strlen(initial));
		explicit_bzero(line, strlen(line));
		return;
	}
	switch (l->account->auth) {
	case CONFIG_AUTH_OAUTHBEARER:
	case CONFIG_AUTH_XOAUTH2:
		/* The challenge is the server's JSON refusal of the token: kept
		 * for the failure message (A3, A4). */
		g_free(l->oauth_error);
		l->oauth_error = oauth_error_describe(r->text);
		/* A3: OAUTHBEARER answers with ^A; A4: XOAUTH2 with an empty
		 * line; either way the tagged NO follows. */
		if (l->account->auth == CONFIG_AUTH_OAUTHBEARER) {
			imap_client_send_raw(l->client, "AQ==\r\n", 6, NULL);
		} else {
			imap_client_send_raw(l->client, "\r\n", 2, NULL);
		}
		return;
	default:
		imap_client_send_raw(l->client, "*\r\n", 3, NULL); /* A2: cancel */
		return;
	}
}

static const struct imap_client_handler login_handler = {
    .greeting = handle_greeting,
    .untagged = handle_untagged,
    .continuation = handle_continuation,
    .failed = login_failed,
};

/* --- public entry points ------------------------------------------------- */

struct imap_login *imap_login_create(struct imap_client *client,
                                     const struct config_account *account, const char *password,
                                     const struct imap_login_ops *ops, void *owner)
{
	struct imap_login *l = g_new0(struct imap_login, 1);

	l->client = client;
	l->account = account;
	l->password = password != NULL ? password : "";
	l->ops = ops;
	l->owner = owner;
	l->state = S_GREETING;
	if (account->security == CONFIG_SECURITY_TLS) {
		imap_client_set_tls(client);
	}
	imap_client_set_handler(client, &login_handler, l);
	return l;
}

void imap_login_destroy(struct imap_login *l)
{
	if (l != NULL) {
		g_free(l->oauth_error);
	}
	g_free(l);
}

bool imap_login_is_authenticated(const struct imap_login *l)
{
	return l->authenticated;
}

bool imap_login_credentials_rejected(const struct imap_login *l)
{
	return l->rejected;
}
