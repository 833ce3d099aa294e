/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/imap-login.h"

#include "imapwatch/core/imap-command.h"

#include <stdarg.h>
#include <string.h>

#define STARTTLS_INJECTION                                                                         \
	"server sent data after accepting STARTTLS (possible injection attack); refusing to "      \
	"continue"

/* Longest trace line; protocol lines can be long (flag lists, literals). */
#define TRACE_MAX 2000
/* Mechanisms kept for imap_login_get_auth_mechanisms(): server text,
 * so bounded in count and length. */
#define AUTH_MECHANISMS_MAX   16
#define AUTH_MECHANISM_LENGTH 40

enum state {
	S_GREETING,
	S_CAPABILITY_PRE, /* before STARTTLS */
	S_STARTTLS,
	S_TLS_HANDSHAKE,
	S_CAPABILITY, /* before authentication */
	S_AUTHENTICATE,
	S_LOGIN,
	S_CAPABILITY_POST,
	S_READY, /* the owner drives the connection */
	S_DONE,
};

static const char *const state_names[] = {
    [S_GREETING] = "greeting",     [S_CAPABILITY_PRE] = "capability-pre-tls",
    [S_STARTTLS] = "starttls",     [S_TLS_HANDSHAKE] = "tls-handshake",
    [S_CAPABILITY] = "capability", [S_AUTHENTICATE] = "authenticate",
    [S_LOGIN] = "login",           [S_CAPABILITY_POST] = "capability-post-auth",
    [S_READY] = "ready",           [S_DONE] = "done",
};

static const struct {
	const char *name;
	enum imap_login_cap cap;
} cap_names[] = {
    {"IMAP4REV1", IMAP_LOGIN_CAP_IMAP4REV1},
    {"IMAP4REV2", IMAP_LOGIN_CAP_IMAP4REV2},
    {"STARTTLS", IMAP_LOGIN_CAP_STARTTLS},
    {"LOGINDISABLED", IMAP_LOGIN_CAP_LOGINDISABLED},
    {"AUTH=PLAIN", IMAP_LOGIN_CAP_AUTH_PLAIN},
    {"AUTH=XOAUTH2", IMAP_LOGIN_CAP_AUTH_XOAUTH2},
    {"AUTH=OAUTHBEARER", IMAP_LOGIN_CAP_AUTH_OAUTHBEARER},
    {"SASL-IR", IMAP_LOGIN_CAP_SASL_IR},
    {"IDLE", IMAP_LOGIN_CAP_IDLE},
    {"ID", IMAP_LOGIN_CAP_ID},
    {"ENABLE", IMAP_LOGIN_CAP_ENABLE},
    {"CONDSTORE", IMAP_LOGIN_CAP_CONDSTORE},
    {"QRESYNC", IMAP_LOGIN_CAP_QRESYNC},
    {"LITERAL+", IMAP_LOGIN_CAP_LITERAL_PLUS},
    {"LITERAL-", IMAP_LOGIN_CAP_LITERAL_MINUS},
    {"UNSELECT", IMAP_LOGIN_CAP_UNSELECT},
    {"NOTIFY", IMAP_LOGIN_CAP_NOTIFY},
    {"ESEARCH", IMAP_LOGIN_CAP_ESEARCH},
    {"UIDPLUS", IMAP_LOGIN_CAP_UIDPLUS},
    {"SPECIAL-USE", IMAP_LOGIN_CAP_SPECIAL_USE},
};

struct imap_login {
	enum state state;
	struct imap_login_config config;
	char *account;
	char *username;
	char *password;
	const struct imap_login_io *io;
	const struct imap_login_ops *ops;
	void *owner;

	struct imap_parser *parser;
	unsigned next_tag;
	char tag[16]; /* tag of the outstanding command, "" if none */

	/* Untagged responses since the last completed command, and how many
	 * are allowed (imap_login_set_untagged_limit()). */
	size_t untagged;
	size_t untagged_limit;

	uint32_t caps;
	bool caps_known;
	bool tls_active;
	bool authenticated;
	bool auth_ir_sent;
	bool rejected; /* the server said NO/BAD to the credentials */
	GString *auth_mechanisms;
	char *bye_text;
	enum imap_failure bye_failure;
	GString *trace_in;
};

static void set_state(struct imap_login *l, enum state state)
{
	if (l->state != state) {
		g_debug("imap login for account '%s': %s -> %s", l->account, state_names[l->state],
		        state_names[state]);
	}
	l->state = state;
}

G_GNUC_PRINTF(3, 4)
static void login_fail(struct imap_login *l, enum imap_failure failure, const char *fmt, ...)
{
	if (l->state == S_DONE) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *message = g_strdup_vprintf(fmt, ap);
	va_end(ap);

	imap_login_stop(l);
	l->ops->failed(failure, message, l->owner);
}

/* --- sending and tracing ------------------------------------------------- */

static void trace_out(struct imap_login *l, const char *line)
{
	if (l->config.trace && l->io->trace != NULL) {
		l->io->trace(true, line, l->io->user_data);
	}
}

/* Sends raw bytes; redacted is what the trace shows instead (NULL: the
 * bytes themselves minus CRLF). */
static void send_redacted(struct imap_login *l, const char *data, size_t len, const char *redacted)
{
	if (l->config.trace && l->io->trace != NULL) {
		if (redacted != NULL) {
			trace_out(l, redacted);
		} else {
			g_autofree char *line = g_strndup(data, len);
			g_strchomp(line);
			trace_out(l, line);
		}
	}
	l->io->send(data, len, l->io->user_data);
}

void imap_login_send_raw(struct imap_login *l, const char *data, size_t len)
{
	send_redacted(l, data, len, NULL);
}

void imap_login_send_command(struct imap_login *l, const char *command, const char *redacted)
{
	g_snprintf(l->tag, sizeof(l->tag), "A%u", ++l->next_tag);
	g_autofree char *line = g_strdup_printf("%s %s\r\n", l->tag, command);
	g_autofree char *shown =
	    redacted != NULL ? g_strdup_printf("%s %s", l->tag, redacted) : NULL;

	send_redacted(l, line, strlen(line), shown);
	if (redacted != NULL) {
		/* A redacted line carried a secret: wipe it before freeing. */
		explicit_bzero(line, strlen(line));
	}
}

static void send_command(struct imap_login *l, enum state next, const char *command,
                         const char *redacted)
{
	set_state(l, next);
	imap_login_send_command(l, command, redacted);
}

static void trace_in(struct imap_login *l, const char *data, size_t len)
{
	if (!l->config.trace || l->io->trace == NULL) {
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			if (l->trace_in->len > 0 &&
			    l->trace_in->str[l->trace_in->len - 1] == '\r') {
				g_string_truncate(l->trace_in, l->trace_in->len - 1);
			}
			l->io->trace(false, l->trace_in->str, l->io->user_data);
			g_string_truncate(l->trace_in, 0);
		} else if (l->trace_in->len < TRACE_MAX) {
			g_string_append_c(l->trace_in, data[i]);
		}
	}
}

/* --- capabilities -------------------------------------------------------- */

/* The AUTH=... mechanisms of a capability list before login, upper-case,
 * printable ASCII only. */
static void auth_mechanisms_set(struct imap_login *l, const struct imap_arg *args, size_t n)
{
	unsigned count = 0;

	g_string_truncate(l->auth_mechanisms, 0);
	for (size_t i = 0; i < n && count < AUTH_MECHANISMS_MAX; i++) {
		const char *name = imap_arg_as_string(&args[i]);

		if (name == NULL || args[i].type != IMAP_ARG_ATOM ||
		    g_ascii_strncasecmp(name, "AUTH=", 5) != 0 || name[5] == '\0') {
			continue;
		}
		if (count++ > 0) {
			g_string_append_c(l->auth_mechanisms, ' ');
		}
		for (size_t k = 5; name[k] != '\0' && k < 5 + AUTH_MECHANISM_LENGTH; k++) {
			char c = name[k];
			g_string_append_c(l->auth_mechanisms,
			                  g_ascii_isgraph(c) ? g_ascii_toupper(c) : '?');
		}
	}
}

static void caps_set(struct imap_login *l, const struct imap_arg *args, size_t n)
{
	l->caps = 0;
	l->caps_known = true;
	if (!l->authenticated) {
		auth_mechanisms_set(l, args, n);
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = imap_arg_as_string(&args[i]);

		if (name == NULL || args[i].type != IMAP_ARG_ATOM) {
			continue;
		}
		for (size_t j = 0; j < G_N_ELEMENTS(cap_names); j++) {
			if (g_ascii_strcasecmp(name, cap_names[j].name) == 0) {
				l->caps |= cap_names[j].cap;
			}
		}
	}
}

bool imap_login_has_cap(const struct imap_login *l, enum imap_login_cap cap)
{
	return (l->caps & cap) != 0;
}

char *imap_login_describe_capabilities(const struct imap_login *l)
{
	GString *out = g_string_new(NULL);

	for (size_t j = 0; j < G_N_ELEMENTS(cap_names); j++) {
		if (l->caps & cap_names[j].cap) {
			if (out->len > 0) {
				g_string_append_c(out, ' ');
			}
			g_string_append(out, cap_names[j].name);
		}
	}
	return g_string_free(out, FALSE);
}

/* Response codes every state cares about. */
static void handle_code(struct imap_login *l, const struct imap_response *r)
{
	if (r->code == NULL) {
		return;
	}
	if (strcmp(r->code, "CAPABILITY") == 0) {
		/* S4: capabilities sent before TLS are never trusted later;
		 * they are discarded when TLS starts. */
		caps_set(l, r->code_args, r->n_code_args);
	} else if (strcmp(r->code, "ALERT") == 0) {
		/* S7/P8: alerts only when they cannot have been injected. */
		if (l->tls_active) {
			g_warning("server alert for account '%s': %s", l->account, r->text);
		} else {
			g_debug("ignoring unprotected ALERT for account '%s'", l->account);
		}
	}
}

/* --- steps ----------------------------------------------------------------- */

static void step_starttls(struct imap_login *l)
{
	if (!(l->caps & IMAP_LOGIN_CAP_STARTTLS)) {
		/* S1: never continue without TLS when it was asked for. */
		login_fail(l, IMAP_FAILURE_PERMANENT,
		           "server does not offer STARTTLS, refusing to continue without TLS "
		           "(use security = tls if the server supports port 993)");
		return;
	}
	send_command(l, S_STARTTLS, "STARTTLS", NULL);
}

/* The initial client response for the configured mechanism, base64. The
 * caller wipes it. */
static char *auth_initial_response(const struct imap_login *l)
{
	g_autofree char *raw = NULL;

	switch (l->config.auth) {
	case CONFIG_AUTH_XOAUTH2:
		/* A4: "user=" user ^A "auth=Bearer " token ^A ^A */
		raw =
		    g_strdup_printf("user=%s\001auth=Bearer %s\001\001", l->username, l->password);
		break;
	case CONFIG_AUTH_OAUTHBEARER:
		/* A3: GS2 header, then ^A-separated key/value pairs. */
		raw =
		    g_strdup_printf("n,a=%s,\001auth=Bearer %s\001\001", l->username, l->password);
		break;
	default:
		return imap_command_base64_plain("", l->username, l->password);
	}
	char *b64 = g_base64_encode((const guchar *)raw, strlen(raw));
	explicit_bzero(raw, strlen(raw));
	return b64;
}

static const char *auth_mechanism(const struct imap_login *l)
{
	switch (l->config.auth) {
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
		login_fail(l, IMAP_FAILURE_PERMANENT,
		           "cannot authenticate with an empty user name or password");
		return;
	}
	/* A2: the initial response goes on the command line only with SASL-IR. */
	if (l->caps & IMAP_LOGIN_CAP_SASL_IR) {
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

	if (!imap_command_append_astring(command, l->username)) {
		login_fail(l, IMAP_FAILURE_PERMANENT,
		           "the user name contains characters the LOGIN command cannot send; "
		           "use auth = plain");
		return;
	}
	g_string_append_c(command, ' ');
	if (!imap_command_append_astring(command, l->password)) {
		explicit_bzero(command->str, command->len);
		login_fail(l, IMAP_FAILURE_PERMANENT,
		           "the password contains characters the LOGIN command cannot send; "
		           "use auth = plain");
		return;
	}
	send_command(l, S_LOGIN, command->str, "LOGIN <redacted>");
	explicit_bzero(command->str, command->len);
}

static void step_auth(struct imap_login *l)
{
	enum config_auth auth = l->config.auth;

	if (l->config.security == CONFIG_SECURITY_STARTTLS && !l->tls_active) {
		/* Defence in depth for T8: credentials only over TLS. */
		login_fail(l, IMAP_FAILURE_PERMANENT, "refusing to log in without TLS");
		return;
	}
	if (auth == CONFIG_AUTH_XOAUTH2 || auth == CONFIG_AUTH_OAUTHBEARER ||
	    auth == CONFIG_AUTH_PLAIN ||
	    (auth == CONFIG_AUTH_AUTO && (l->caps & IMAP_LOGIN_CAP_AUTH_PLAIN))) {
		step_authenticate_sasl(l);
		return;
	}
	/* A1: LOGIN only as the last resort, never with LOGINDISABLED. */
	if (l->caps & IMAP_LOGIN_CAP_LOGINDISABLED) {
		login_fail(l, IMAP_FAILURE_PERMANENT,
		           "server disables LOGIN (LOGINDISABLED) and offers no usable "
		           "authentication mechanism");
		return;
	}
	step_login(l);
}

static void greeted(struct imap_login *l)
{
	if (l->ops->greeted != NULL) {
		l->ops->greeted(l->owner);
	}
}

static void step_after_greeting(struct imap_login *l)
{
	greeted(l);
	if (l->state == S_DONE) {
		return;
	}
	if (l->config.security == CONFIG_SECURITY_STARTTLS && !l->tls_active) {
		if (l->caps_known) {
			step_starttls(l);
		} else {
			send_command(l, S_CAPABILITY_PRE, "CAPABILITY", NULL);
		}
	} else if (l->caps_known) {
		step_auth(l);
	} else {
		send_command(l, S_CAPABILITY, "CAPABILITY", NULL);
	}
}

static void step_ready(struct imap_login *l)
{
	set_state(l, S_READY);
	l->ops->authenticated(l->owner);
}

static void step_after_auth(struct imap_login *l)
{
	l->authenticated = true;
	if (!l->caps_known) {
		/* C1: capabilities change after login. */
		send_command(l, S_CAPABILITY_POST, "CAPABILITY", NULL);
		return;
	}
	step_ready(l);
}

/* --- responses ----------------------------------------------------------- */

enum imap_failure imap_login_failure_for_code(const char *code)
{
	/* A6 */
	if (code != NULL && (strcmp(code, "UNAVAILABLE") == 0 || strcmp(code, "LIMIT") == 0 ||
	                     strcmp(code, "INUSE") == 0 || strcmp(code, "OVERQUOTA") == 0)) {
		return IMAP_FAILURE_RESOURCE;
	}
	/* RFC 5530: the server hit a bug of its own; nothing the user can
	 * change, and it may well pass. */
	if (code != NULL && strcmp(code, "SERVERBUG") == 0) {
		return IMAP_FAILURE_TRANSIENT;
	}
	return IMAP_FAILURE_PERMANENT;
}

static void handle_greeting(struct imap_login *l, const struct imap_response *r)
{
	if (r->kind != IMAP_RESPONSE_UNTAGGED) {
		login_fail(l, IMAP_FAILURE_TRANSIENT, "server sent no greeting");
		return;
	}
	switch (r->status) {
	case IMAP_STATUS_OK:
		handle_code(l, r);
		step_after_greeting(l);
		return;
	case IMAP_STATUS_PREAUTH:
		if (!l->tls_active && l->config.security == CONFIG_SECURITY_STARTTLS) {
			/* T11/S2: PREAUTH would skip STARTTLS. */
			login_fail(l, IMAP_FAILURE_PERMANENT,
			           "server greeted with PREAUTH before TLS; refusing to "
			           "continue without TLS");
			return;
		}
		handle_code(l, r);
		greeted(l);
		if (l->state != S_DONE) {
			step_after_auth(l);
		}
		return;
	case IMAP_STATUS_BYE:
		login_fail(l, IMAP_FAILURE_RESOURCE, "server refused the connection: %s", r->text);
		return;
	default:
		login_fail(l, IMAP_FAILURE_TRANSIENT, "server sent an invalid greeting");
		return;
	}
}

static void handle_untagged(struct imap_login *l, const struct imap_response *r)
{
	if (r->status != IMAP_STATUS_NONE) {
		if (r->status == IMAP_STATUS_BYE) {
			g_free(l->bye_text);
			l->bye_text = g_strdup(r->text);
			l->bye_failure = (r->code != NULL && (strcmp(r->code, "UNAVAILABLE") == 0 ||
			                                      strcmp(r->code, "LIMIT") == 0))
			                     ? IMAP_FAILURE_RESOURCE
			                     : IMAP_FAILURE_TRANSIENT;
		}
		handle_code(l, r);
	} else if (r->keyword != NULL && strcmp(r->keyword, "CAPABILITY") == 0) {
		caps_set(l, r->args, r->n_args);
	}
	if (l->state == S_READY) {
		l->ops->response(r, l->owner);
	}
	/* S5: before the owner takes over, message data is ignored. */
}

static void handle_auth_reply(struct imap_login *l, const struct imap_response *r)
{
	if (r->status == IMAP_STATUS_OK) {
		l->caps_known = false;
		/* Set first: the mechanisms offered before login stay. */
		l->authenticated = true;
		handle_code(l, r); /* [CAPABILITY ...] after login (C1) */
		step_after_auth(l);
		return;
	}
	enum imap_failure failure = imap_login_failure_for_code(r->code);
	l->rejected = failure == IMAP_FAILURE_PERMANENT;
	login_fail(l, failure,
	           failure == IMAP_FAILURE_RESOURCE
	               ? "server temporarily refused the login for user '%s': %s"
	               : "authentication failed for user '%s': %s",
	           l->username, r->text[0] != '\0' ? r->text : "no reason given");
}

static void handle_capability_reply(struct imap_login *l, const struct imap_response *r)
{
	if (l->state == S_CAPABILITY) {
		handle_code(l, r);
	}
	if (r->status != IMAP_STATUS_OK) {
		login_fail(l, IMAP_FAILURE_TRANSIENT, "CAPABILITY failed: %s", r->text);
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

static void handle_tagged(struct imap_login *l, const struct imap_response *r)
{
	if (l->tag[0] == '\0' || strcmp(r->tag, l->tag) != 0) {
		g_debug("ignoring reply with unknown tag '%s' for account '%s'", r->tag,
		        l->account);
		return;
	}
	l->tag[0] = '\0';
	l->untagged = 0;

	switch (l->state) {
	case S_CAPABILITY_PRE:
	case S_CAPABILITY:
	case S_CAPABILITY_POST:
		handle_capability_reply(l, r);
		return;
	case S_STARTTLS:
		if (r->status != IMAP_STATUS_OK) {
			/* S1: NO or BAD to STARTTLS never leads to plaintext. */
			login_fail(l, IMAP_FAILURE_PERMANENT,
			           "server refused STARTTLS (%s), refusing to continue without TLS",
			           r->text);
			return;
		}
		/* S3/S4: forget everything learnt in plaintext. */
		l->caps = 0;
		l->caps_known = false;
		set_state(l, S_TLS_HANDSHAKE);
		return;
	case S_AUTHENTICATE:
	case S_LOGIN:
		handle_auth_reply(l, r);
		return;
	case S_READY:
		l->ops->response(r, l->owner);
		return;
	default:
		return;
	}
}

static void handle_continuation(struct imap_login *l, const struct imap_response *r)
{
	if (l->state == S_READY) {
		l->ops->response(r, l->owner);
		return;
	}
	if (l->state == S_STARTTLS) {
		/* S1: "+" is neither OK nor a refusal; waiting for the tagged
		 * reply would only let a stripping attacker stall us. */
		login_fail(l, IMAP_FAILURE_PERMANENT,
		           "server answered STARTTLS with a continuation request instead of OK, "
		           "refusing to continue without TLS");
		return;
	}
	if (l->state != S_AUTHENTICATE) {
		return; /* P1: unexpected, harmless */
	}
	if (!l->auth_ir_sent) {
		/* Not NULL: step_authenticate_sasl() checked the credentials. */
		g_autofree char *initial = auth_initial_response(l);
		g_autofree char *line = g_strdup_printf("%s\r\n", initial);

		l->auth_ir_sent = true;
		send_redacted(l, line, strlen(line), "<redacted>");
		explicit_bzero(initial, strlen(initial));
		explicit_bzero(line, strlen(line));
	} else if (l->config.auth == CONFIG_AUTH_OAUTHBEARER) {
		/* A3: answer an error challenge with ^A. */
		imap_login_send_raw(l, "AQ==\r\n", 6);
	} else if (l->config.auth == CONFIG_AUTH_XOAUTH2) {
		/* A4: an empty response ends the exchange. */
		imap_login_send_raw(l, "\r\n", 2);
	} else {
		imap_login_send_raw(l, "*\r\n", 3); /* A2: cancel */
	}
}

static void handle_response(struct imap_login *l, const struct imap_response *r)
{
	if (l->state == S_GREETING) {
		handle_greeting(l, r);
		return;
	}
	switch (r->kind) {
	case IMAP_RESPONSE_UNTAGGED:
		if (++l->untagged > l->untagged_limit) {
			/* Memory stays bounded either way; this bounds the work a
			 * server can make us do for one command. */
			login_fail(l, IMAP_FAILURE_TRANSIENT,
			           "server sent more than %zu responses without completing a "
			           "command; closing the connection",
			           l->untagged_limit);
			return;
		}
		handle_untagged(l, r);
		return;
	case IMAP_RESPONSE_TAGGED:
		handle_tagged(l, r);
		return;
	case IMAP_RESPONSE_CONTINUATION:
		handle_continuation(l, r);
		return;
	}
}

/* --- public entry points ------------------------------------------------- */

struct imap_login *imap_login_create(const struct imap_login_config *config,
                                     const struct imap_login_io *io,
                                     const struct imap_login_ops *ops, void *owner)
{
	struct imap_login *l = g_new0(struct imap_login, 1);

	l->config = *config;
	l->account = g_strdup(config->account);
	l->username = g_strdup(config->username);
	l->password = g_strdup(config->password != NULL ? config->password : "");
	l->config.account = l->account;
	l->config.username = l->username;
	l->config.password = l->password;
	l->io = io;
	l->ops = ops;
	l->owner = owner;
	l->parser = imap_parser_create(NULL);
	l->state = S_GREETING;
	l->tls_active = config->security == CONFIG_SECURITY_TLS;
	l->trace_in = g_string_new(NULL);
	l->auth_mechanisms = g_string_new(NULL);
	l->untagged_limit = IMAP_LOGIN_UNTAGGED_LIMIT;
	return l;
}

void imap_login_destroy(struct imap_login *l)
{
	if (l == NULL) {
		return;
	}
	explicit_bzero(l->password, strlen(l->password));
	g_free(l->password);
	g_free(l->username);
	g_free(l->account);
	g_free(l->bye_text);
	imap_parser_destroy(l->parser);
	g_string_free(l->trace_in, TRUE);
	g_string_free(l->auth_mechanisms, TRUE);
	g_free(l);
}

void imap_login_feed(struct imap_login *l, const char *data, size_t len)
{
	while (len > 0 && l->state != S_DONE && l->state != S_TLS_HANDSHAKE) {
		size_t consumed = 0;
		enum imap_parse_result result = imap_parser_feed(l->parser, data, len, &consumed);

		trace_in(l, data, consumed);
		data += consumed;
		len -= consumed;
		if (result == IMAP_PARSE_ERROR) {
			login_fail(l, IMAP_FAILURE_TRANSIENT,
			           "cannot parse the server's response: %s",
			           imap_parser_error(l->parser));
			return;
		}
		if (result == IMAP_PARSE_NEED_MORE) {
			break;
		}
		g_autoptr(imap_response) response = imap_parser_take(l->parser);
		if (response != NULL) {
			handle_response(l, response);
		}
		if (l->state == S_TLS_HANDSHAKE) {
			/* S3: anything after "OK Begin TLS" came in plaintext
			 * and may be injected; never use it. */
			if (len > 0 || imap_parser_has_partial(l->parser)) {
				login_fail(l, IMAP_FAILURE_PERMANENT, STARTTLS_INJECTION);
				return;
			}
			l->io->start_tls(l->io->user_data);
			return;
		}
	}
	if (len > 0 && l->state == S_TLS_HANDSHAKE) {
		login_fail(l, IMAP_FAILURE_PERMANENT, STARTTLS_INJECTION);
	}
}

void imap_login_tls_ready(struct imap_login *l)
{
	if (l->state != S_TLS_HANDSHAKE) {
		return;
	}
	l->tls_active = true;
	imap_parser_reset(l->parser);
	send_command(l, S_CAPABILITY, "CAPABILITY", NULL); /* S4 */
}

void imap_login_stop(struct imap_login *l)
{
	set_state(l, S_DONE);
	l->tag[0] = '\0';
}

void imap_login_set_untagged_limit(struct imap_login *l, size_t limit)
{
	l->untagged_limit = MAX(limit, IMAP_LOGIN_UNTAGGED_LIMIT);
}

bool imap_login_is_authenticated(const struct imap_login *l)
{
	return l->authenticated;
}

bool imap_login_credentials_rejected(const struct imap_login *l)
{
	return l->rejected;
}

const char *imap_login_get_auth_mechanisms(const struct imap_login *l)
{
	return l->auth_mechanisms->str;
}

char *imap_login_describe_close(const struct imap_login *l, const char *message,
                                enum imap_failure *failure)
{
	if (l->bye_text == NULL) {
		*failure = IMAP_FAILURE_TRANSIENT;
		return g_strdup(message);
	}
	*failure = l->bye_failure;
	return g_strdup_printf("server closed the connection: %s", l->bye_text);
}
