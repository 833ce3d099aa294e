/* SPDX-License-Identifier: MIT */
#include "imapwatch/imap-session.h"

#include "imapwatch/imap-command.h"
#include "imapwatch/imap-parser.h"
#include "imapwatch/utf7.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

/* The header fields of DESIGN.md §3; BODY.PEEK never sets \Seen (W2). */
#define FETCH_NEW_ITEMS                                                                            \
	"(UID FLAGS INTERNALDATE RFC822.SIZE "                                                     \
	"BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)])"

#define STARTTLS_INJECTION                                                                         \
	"server sent data after accepting STARTTLS (possible injection attack); refusing to "      \
	"continue"

/* Longest trace line; protocol lines can be long (flag lists, literals). */
#define TRACE_MAX 2000

enum state {
	S_GREETING,
	S_CAPABILITY_PRE, /* before STARTTLS */
	S_STARTTLS,
	S_TLS_HANDSHAKE,
	S_CAPABILITY, /* before authentication */
	S_AUTHENTICATE,
	S_LOGIN,
	S_CAPABILITY_POST,
	S_ID,
	S_ENABLE,
	S_EXAMINE,
	S_LIST_FLAGS,
	S_FETCH_NEW,
	S_IDLE_START, /* IDLE sent, waiting for "+" */
	S_IDLING,
	S_IDLE_DONE, /* DONE sent, waiting for the tagged reply */
	S_POLL_WAIT,
	S_NOOP,
	S_LOGOUT,
	S_DONE,
};

static const char *const state_names[] = {
	[S_GREETING] = "greeting",
	[S_CAPABILITY_PRE] = "capability-pre-tls",
	[S_STARTTLS] = "starttls",
	[S_TLS_HANDSHAKE] = "tls-handshake",
	[S_CAPABILITY] = "capability",
	[S_AUTHENTICATE] = "authenticate",
	[S_LOGIN] = "login",
	[S_CAPABILITY_POST] = "capability-post-auth",
	[S_ID] = "id",
	[S_ENABLE] = "enable",
	[S_EXAMINE] = "examine",
	[S_LIST_FLAGS] = "list-flags",
	[S_FETCH_NEW] = "fetch-new",
	[S_IDLE_START] = "idle-start",
	[S_IDLING] = "idling",
	[S_IDLE_DONE] = "idle-done",
	[S_POLL_WAIT] = "poll-wait",
	[S_NOOP] = "noop",
	[S_LOGOUT] = "logout",
	[S_DONE] = "done",
};

enum cap {
	CAP_IMAP4REV1 = 1u << 0,
	CAP_IMAP4REV2 = 1u << 1,
	CAP_STARTTLS = 1u << 2,
	CAP_LOGINDISABLED = 1u << 3,
	CAP_AUTH_PLAIN = 1u << 4,
	CAP_AUTH_XOAUTH2 = 1u << 5,
	CAP_AUTH_OAUTHBEARER = 1u << 6,
	CAP_SASL_IR = 1u << 7,
	CAP_IDLE = 1u << 8,
	CAP_ID = 1u << 9,
	CAP_ENABLE = 1u << 10,
	CAP_CONDSTORE = 1u << 11,
	CAP_QRESYNC = 1u << 12,
	CAP_LITERAL_PLUS = 1u << 13,
	CAP_LITERAL_MINUS = 1u << 14,
	CAP_UNSELECT = 1u << 15,
	CAP_NOTIFY = 1u << 16,
	CAP_ESEARCH = 1u << 17,
	CAP_UIDPLUS = 1u << 18,
	CAP_SPECIAL_USE = 1u << 19,
};

static const struct {
	const char *name;
	enum cap cap;
} cap_names[] = {
	{ "IMAP4REV1", CAP_IMAP4REV1 },
	{ "IMAP4REV2", CAP_IMAP4REV2 },
	{ "STARTTLS", CAP_STARTTLS },
	{ "LOGINDISABLED", CAP_LOGINDISABLED },
	{ "AUTH=PLAIN", CAP_AUTH_PLAIN },
	{ "AUTH=XOAUTH2", CAP_AUTH_XOAUTH2 },
	{ "AUTH=OAUTHBEARER", CAP_AUTH_OAUTHBEARER },
	{ "SASL-IR", CAP_SASL_IR },
	{ "IDLE", CAP_IDLE },
	{ "ID", CAP_ID },
	{ "ENABLE", CAP_ENABLE },
	{ "CONDSTORE", CAP_CONDSTORE },
	{ "QRESYNC", CAP_QRESYNC },
	{ "LITERAL+", CAP_LITERAL_PLUS },
	{ "LITERAL-", CAP_LITERAL_MINUS },
	{ "UNSELECT", CAP_UNSELECT },
	{ "NOTIFY", CAP_NOTIFY },
	{ "ESEARCH", CAP_ESEARCH },
	{ "UIDPLUS", CAP_UIDPLUS },
	{ "SPECIAL-USE", CAP_SPECIAL_USE },
};

struct imap_session {
	enum state state;
	enum imap_session_phase phase;
	struct imap_session_config config;
	char *account;
	char *username;
	char *password;
	struct mailbox *mailbox;
	const struct imap_session_ops *ops;
	void *user_data;

	struct imap_parser *parser;
	unsigned next_tag;
	char tag[16]; /* tag of the outstanding command, "" if none */

	uint32_t caps;
	bool caps_known;
	bool tls_active;
	bool authenticated;
	bool enabled_condstore;
	bool enabled_qresync;
	bool selected;    /* EXAMINE answered OK: message data is ours */
	bool have_uidvalidity;
	bool idle_broken; /* IDLE refused: poll instead */
	bool saw_exists;  /* new messages announced since the last fetch */
	bool check_new;   /* a selection completed: fetch if the map says so */
	bool idle_continued;
	bool auth_ir_sent;
	bool logout_requested;
	char *bye_text;
	enum imap_failure bye_failure;
	GString *trace_in;
};

const char *imap_session_phase_name(enum imap_session_phase phase)
{
	static const char *const names[] = {
		[IMAP_SESSION_PHASE_CONNECTING] = "connecting",
		[IMAP_SESSION_PHASE_AUTHENTICATING] = "authenticating",
		[IMAP_SESSION_PHASE_SYNCING] = "syncing",
		[IMAP_SESSION_PHASE_IDLE] = "idle",
		[IMAP_SESSION_PHASE_POLLING] = "polling",
		[IMAP_SESSION_PHASE_LOGOUT] = "logout",
		[IMAP_SESSION_PHASE_DONE] = "done",
	};

	return (unsigned)phase < G_N_ELEMENTS(names) ? names[phase] : "unknown";
}

static void set_phase(struct imap_session *s, enum imap_session_phase phase)
{
	if (s->phase == phase) {
		return;
	}
	s->phase = phase;
	if (s->ops->phase_changed != NULL) {
		s->ops->phase_changed(phase, s->user_data);
	}
}

static void set_state(struct imap_session *s, enum state state)
{
	if (s->state != state) {
		g_debug("imap session for account '%s' folder '%s': %s -> %s", s->account,
			mailbox_get_folder(s->mailbox), state_names[s->state], state_names[state]);
	}
	s->state = state;
}

G_GNUC_PRINTF(3, 4)
static void session_fail(struct imap_session *s, enum imap_failure failure, const char *fmt, ...)
{
	if (s->state == S_DONE) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *message = g_strdup_vprintf(fmt, ap);
	va_end(ap);

	set_state(s, S_DONE);
	s->tag[0] = '\0';
	mailbox_abort(s->mailbox);
	set_phase(s, IMAP_SESSION_PHASE_DONE);
	s->ops->failed(failure, message, s->user_data);
}

static void session_finish(struct imap_session *s)
{
	if (s->state == S_DONE) {
		return;
	}
	set_state(s, S_DONE);
	s->tag[0] = '\0';
	mailbox_abort(s->mailbox);
	set_phase(s, IMAP_SESSION_PHASE_DONE);
	s->ops->finished(s->user_data);
}

static void trace_out(struct imap_session *s, const char *line)
{
	if (s->config.trace && s->ops->trace != NULL) {
		s->ops->trace(true, line, s->user_data);
	}
}

/* Sends raw bytes; redacted is what the trace shows instead (NULL: the
 * bytes themselves minus CRLF). */
static void send_raw(struct imap_session *s, const char *data, size_t len, const char *redacted)
{
	if (s->config.trace && s->ops->trace != NULL) {
		if (redacted != NULL) {
			trace_out(s, redacted);
		} else {
			g_autofree char *line = g_strndup(data, len);
			g_strchomp(line);
			trace_out(s, line);
		}
	}
	s->ops->send(data, len, s->user_data);
}

/* Sends "TAG <command>\r\n" and makes it the outstanding command. */
static void send_command(struct imap_session *s, enum state next, const char *command,
			 const char *redacted)
{
	g_snprintf(s->tag, sizeof(s->tag), "A%u", ++s->next_tag);
	g_autofree char *line = g_strdup_printf("%s %s\r\n", s->tag, command);
	g_autofree char *shown =
		redacted != NULL ? g_strdup_printf("%s %s", s->tag, redacted) : NULL;

	set_state(s, next);
	send_raw(s, line, strlen(line), shown);
	if (redacted != NULL) {
		/* A redacted line carried a secret: wipe it before freeing. */
		memset(line, 0, strlen(line));
	}
}

/* --- capabilities -------------------------------------------------------- */

static void caps_set(struct imap_session *s, const struct imap_arg *args, size_t n)
{
	s->caps = 0;
	s->caps_known = true;
	for (size_t i = 0; i < n; i++) {
		const char *name = imap_arg_as_string(&args[i]);

		if (name == NULL || args[i].type != IMAP_ARG_ATOM) {
			continue;
		}
		for (size_t j = 0; j < G_N_ELEMENTS(cap_names); j++) {
			if (g_ascii_strcasecmp(name, cap_names[j].name) == 0) {
				s->caps |= cap_names[j].cap;
			}
		}
	}
}

char *imap_session_describe_capabilities(const struct imap_session *s)
{
	GString *out = g_string_new(NULL);

	for (size_t j = 0; j < G_N_ELEMENTS(cap_names); j++) {
		if (s->caps & cap_names[j].cap) {
			if (out->len > 0) {
				g_string_append_c(out, ' ');
			}
			g_string_append(out, cap_names[j].name);
		}
	}
	return g_string_free(out, FALSE);
}

/* --- steps ----------------------------------------------------------------- */

static void step_examine(struct imap_session *s);
static void step_after_sync(struct imap_session *s);
static void step_idle(struct imap_session *s);

static void step_starttls(struct imap_session *s)
{
	if (!(s->caps & CAP_STARTTLS)) {
		/* S1: never continue without TLS when it was asked for. */
		session_fail(s, IMAP_FAILURE_PERMANENT,
			     "server does not offer STARTTLS, refusing to continue without TLS "
			     "(use security = tls if the server supports port 993)");
		return;
	}
	send_command(s, S_STARTTLS, "STARTTLS", NULL);
}

static void step_authenticate_sasl(struct imap_session *s, const char *mechanism, char *initial)
{
	/* A2: the initial response goes on the command line only with SASL-IR. */
	if (s->caps & CAP_SASL_IR) {
		g_autofree char *command = g_strdup_printf("AUTHENTICATE %s %s", mechanism, initial);
		g_autofree char *shown = g_strdup_printf("AUTHENTICATE %s <redacted>", mechanism);

		send_command(s, S_AUTHENTICATE, command, shown);
		memset(command, 0, strlen(command));
		s->auth_ir_sent = true;
	} else {
		g_autofree char *command = g_strdup_printf("AUTHENTICATE %s", mechanism);

		send_command(s, S_AUTHENTICATE, command, NULL);
		s->auth_ir_sent = false;
	}
}

/* The initial client response for the configured mechanism, base64. */
static char *auth_initial_response(struct imap_session *s)
{
	switch (s->config.auth) {
	case CONFIG_AUTH_XOAUTH2: {
		/* A4: "user=" user ^A "auth=Bearer " token ^A ^A */
		g_autofree char *raw = g_strdup_printf("user=%s\001auth=Bearer %s\001\001",
						       s->username, s->password);
		char *b64 = g_base64_encode((const guchar *)raw, strlen(raw));
		memset(raw, 0, strlen(raw));
		return b64;
	}
	case CONFIG_AUTH_OAUTHBEARER: {
		/* A3: GS2 header, then ^A-separated key/value pairs. */
		g_autofree char *raw = g_strdup_printf("n,a=%s,\001auth=Bearer %s\001\001",
						       s->username, s->password);
		char *b64 = g_base64_encode((const guchar *)raw, strlen(raw));
		memset(raw, 0, strlen(raw));
		return b64;
	}
	default:
		return imap_command_base64_plain("", s->username, s->password);
	}
}

static const char *auth_mechanism(const struct imap_session *s)
{
	switch (s->config.auth) {
	case CONFIG_AUTH_XOAUTH2:
		return "XOAUTH2";
	case CONFIG_AUTH_OAUTHBEARER:
		return "OAUTHBEARER";
	default:
		return "PLAIN";
	}
}

static void step_login(struct imap_session *s)
{
	g_autoptr(GString) command = g_string_new("LOGIN ");

	if (!imap_command_append_astring(command, s->username)) {
		session_fail(s, IMAP_FAILURE_PERMANENT,
			     "the user name contains characters the LOGIN command cannot send; "
			     "use auth = plain");
		return;
	}
	g_string_append_c(command, ' ');
	if (!imap_command_append_astring(command, s->password)) {
		memset(command->str, 0, command->len);
		session_fail(s, IMAP_FAILURE_PERMANENT,
			     "the password contains characters the LOGIN command cannot send; "
			     "use auth = plain");
		return;
	}
	send_command(s, S_LOGIN, command->str, "LOGIN <redacted>");
	memset(command->str, 0, command->len);
}

static void step_auth(struct imap_session *s)
{
	enum config_auth auth = s->config.auth;

	if (s->config.security == CONFIG_SECURITY_STARTTLS && !s->tls_active) {
		/* Defence in depth for T8: credentials only over TLS. */
		session_fail(s, IMAP_FAILURE_PERMANENT, "refusing to log in without TLS");
		return;
	}
	if (auth == CONFIG_AUTH_XOAUTH2 || auth == CONFIG_AUTH_OAUTHBEARER ||
	    auth == CONFIG_AUTH_PLAIN || (auth == CONFIG_AUTH_AUTO && (s->caps & CAP_AUTH_PLAIN))) {
		g_autofree char *initial = auth_initial_response(s);

		step_authenticate_sasl(s, auth_mechanism(s), initial);
		memset(initial, 0, strlen(initial));
		return;
	}
	/* A1: LOGIN only as the last resort, never with LOGINDISABLED. */
	if (s->caps & CAP_LOGINDISABLED) {
		session_fail(s, IMAP_FAILURE_PERMANENT,
			     "server disables LOGIN (LOGINDISABLED) and offers no usable "
			     "authentication mechanism");
		return;
	}
	step_login(s);
}

static void step_capability(struct imap_session *s, enum state next)
{
	send_command(s, next, "CAPABILITY", NULL);
}

static void step_after_greeting(struct imap_session *s)
{
	set_phase(s, IMAP_SESSION_PHASE_AUTHENTICATING);
	if (s->config.security == CONFIG_SECURITY_STARTTLS && !s->tls_active) {
		if (s->caps_known) {
			step_starttls(s);
		} else {
			step_capability(s, S_CAPABILITY_PRE);
		}
	} else if (s->caps_known) {
		step_auth(s);
	} else {
		step_capability(s, S_CAPABILITY);
	}
}

static void step_enable_or_examine(struct imap_session *s)
{
	/* C3: ENABLE before any EXAMINE. */
	if ((s->caps & CAP_ENABLE) && (s->caps & CAP_QRESYNC)) {
		send_command(s, S_ENABLE, "ENABLE QRESYNC", NULL);
	} else if ((s->caps & CAP_ENABLE) && (s->caps & CAP_CONDSTORE)) {
		send_command(s, S_ENABLE, "ENABLE CONDSTORE", NULL);
	} else {
		step_examine(s);
	}
}

static void step_id(struct imap_session *s)
{
	if (s->caps & CAP_ID) {
		/* A8: some servers refuse EXAMINE without ID. */
		send_command(s, S_ID, "ID (\"name\" \"imapwatch\" \"version\" \"" IMAPWATCH_VERSION "\")",
			     NULL);
		return;
	}
	step_enable_or_examine(s);
}

static void step_after_auth(struct imap_session *s)
{
	s->authenticated = true;
	if (!s->caps_known) {
		/* C1: capabilities change after login. */
		step_capability(s, S_CAPABILITY_POST);
		return;
	}
	step_id(s);
}

static void step_examine(struct imap_session *s)
{
	if (s->logout_requested) {
		send_command(s, S_LOGOUT, "LOGOUT", NULL);
		set_phase(s, IMAP_SESSION_PHASE_LOGOUT);
		return;
	}
	g_autofree char *encoded = utf7_imap_encode(mailbox_get_folder(s->mailbox));
	g_autoptr(GString) command = g_string_new("EXAMINE ");
	if (encoded == NULL || !imap_command_append_astring(command, encoded)) {
		session_fail(s, IMAP_FAILURE_PERMANENT, "folder name '%s' cannot be sent to the server",
			     mailbox_get_folder(s->mailbox));
		return;
	}
	set_phase(s, IMAP_SESSION_PHASE_SYNCING);
	s->selected = false;
	s->have_uidvalidity = false;
	s->saw_exists = false;
	mailbox_select_begin(s->mailbox);
	/* M1/W1: EXAMINE, never SELECT. */
	send_command(s, S_EXAMINE, command->str, NULL);
}

static void step_fetch_new(struct imap_session *s)
{
	g_autofree char *command = g_strdup_printf("UID FETCH %" PRIu32 ":* " FETCH_NEW_ITEMS,
						   mailbox_get_fetch_start(s->mailbox));

	s->saw_exists = false;
	s->check_new = false;
	send_command(s, S_FETCH_NEW, command, NULL);
}

static void step_after_sync(struct imap_session *s)
{
	if (s->logout_requested) {
		send_command(s, S_LOGOUT, "LOGOUT", NULL);
		set_phase(s, IMAP_SESSION_PHASE_LOGOUT);
		return;
	}
	/* After a fetch, only a new EXISTS triggers another one: an entry the
	 * fetch did not return was expunged and its EXPUNGE is on the way. */
	if (s->saw_exists || (s->check_new && mailbox_wants_new(s->mailbox))) {
		step_fetch_new(s);
		return;
	}
	step_idle(s);
}

static void step_idle(struct imap_session *s)
{
	if ((s->caps & CAP_IDLE) && !s->idle_broken) {
		s->idle_continued = false;
		send_command(s, S_IDLE_START, "IDLE", NULL);
		return;
	}
	/* C2: no IDLE, so poll (L7); the connection calls refresh(). */
	s->tag[0] = '\0';
	set_state(s, S_POLL_WAIT);
	set_phase(s, IMAP_SESSION_PHASE_POLLING);
}

static void send_done(struct imap_session *s)
{
	/* I3: exactly "DONE"; the IDLE tag stays outstanding. */
	set_state(s, S_IDLE_DONE);
	send_raw(s, "DONE\r\n", 6, NULL);
}

/* --- untagged data ------------------------------------------------------- */

static bool message_data_allowed(const struct imap_session *s)
{
	/* S5/H6: message data only belongs to us once EXAMINE is under way. */
	return s->state >= S_EXAMINE && s->state != S_LOGOUT && s->state != S_DONE;
}

static void handle_fetch(struct imap_session *s, const struct imap_response *r)
{
	if (r->n_args != 1 || r->args[0].type != IMAP_ARG_LIST) {
		g_debug("ignoring malformed FETCH for account '%s'", s->account);
		return;
	}
	const struct imap_arg *items = r->args[0].children;
	size_t n = r->args[0].n_children;
	struct mailbox_fetch f = { .seq = r->number };
	struct header_fields header = { 0 };
	g_autoptr(GPtrArray) flags = g_ptr_array_new();

	for (size_t i = 0; i + 1 < n; i += 2) {
		const struct imap_arg *name = &items[i];
		const struct imap_arg *value = &items[i + 1];

		if (name->type != IMAP_ARG_ATOM) {
			continue;
		}
		if (imap_arg_is_atom(name, "UID")) {
			f.has_uid = imap_arg_get_u32(value, &f.uid) && f.uid != 0;
		} else if (imap_arg_is_atom(name, "FLAGS") && value->type == IMAP_ARG_LIST) {
			for (size_t k = 0; k < value->n_children; k++) {
				const char *flag = imap_arg_as_string(&value->children[k]);

				/* Atoms may hold 8-bit bytes (imap-parser.h): a flag
				 * that is not UTF-8 cannot go into an event. */
				if (flag != NULL && g_utf8_validate(flag, -1, NULL)) {
					g_ptr_array_add(flags, (gpointer)flag);
				}
			}
			f.has_flags = true;
		} else if (imap_arg_is_atom(name, "INTERNALDATE")) {
			const char *date = imap_arg_as_string(value);

			if (date != NULL) {
				header_parse_internaldate(date, &f.internaldate);
			}
		} else if (g_ascii_strncasecmp(name->str, "BODY[", 5) == 0) {
			if (value->type != IMAP_ARG_LIST && value->type != IMAP_ARG_NIL) {
				/* A FETCH may carry several BODY[...] items. */
				header_fields_clear(&header);
				header_fields_parse(value->str, value->len, &header);
				f.has_header = true;
				f.header = &header;
			}
		}
	}
	g_ptr_array_add(flags, NULL);
	f.flags = (const char *const *)flags->pdata;
	mailbox_fetch(s->mailbox, &f);
	header_fields_clear(&header);
}

/* Expands a UID set such as "1:3,5" into uids, refusing more than limit
 * entries (a hostile server could name billions). */
static bool uid_set_expand(const char *set, size_t limit, GArray *uids)
{
	g_auto(GStrv) parts = g_strsplit(set, ",", -1);

	for (size_t i = 0; parts[i] != NULL; i++) {
		guint64 lo, hi;
		char *colon = strchr(parts[i], ':');

		if (colon != NULL) {
			*colon = '\0';
			if (!g_ascii_string_to_unsigned(parts[i], 10, 1, UINT32_MAX, &lo, NULL) ||
			    !g_ascii_string_to_unsigned(colon + 1, 10, 1, UINT32_MAX, &hi, NULL)) {
				return false;
			}
			if (lo > hi) {
				guint64 t = lo;
				lo = hi;
				hi = t;
			}
		} else {
			if (!g_ascii_string_to_unsigned(parts[i], 10, 1, UINT32_MAX, &lo, NULL)) {
				return false;
			}
			hi = lo;
		}
		if (hi - lo + 1 > limit - MIN(limit, uids->len)) {
			return false;
		}
		for (guint64 u = lo; u <= hi; u++) {
			uint32_t v = (uint32_t)u;
			g_array_append_val(uids, v);
		}
	}
	return true;
}

static void handle_vanished(struct imap_session *s, const struct imap_response *r)
{
	bool earlier = false;
	size_t i = 0;

	if (r->n_args > 0 && r->args[0].type == IMAP_ARG_LIST) {
		earlier = r->args[0].n_children == 1 &&
			  imap_arg_is_atom(&r->args[0].children[0], "EARLIER");
		i = 1;
	}
	if (i >= r->n_args || r->args[i].type != IMAP_ARG_ATOM) {
		return;
	}
	if (earlier) {
		/* Not used: every selection lists all flags, and what is
		 * missing from that listing is reported as removed. */
		return;
	}
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	/* VANISHED names only messages of this selection (N9). */
	if (!uid_set_expand(r->args[i].str, mailbox_get_exists(s->mailbox) + 1, uids)) {
		session_fail(s, IMAP_FAILURE_TRANSIENT, "server sent an invalid VANISHED response");
		return;
	}
	mailbox_vanished(s->mailbox, (const uint32_t *)(void *)uids->data, uids->len, false);
}

static void handle_code(struct imap_session *s, const struct imap_response *r)
{
	uint32_t value;

	if (r->code == NULL) {
		return;
	}
	if (strcmp(r->code, "CAPABILITY") == 0) {
		/* S4: capabilities sent before TLS are never trusted later;
		 * the caller discards them when TLS starts. */
		caps_set(s, r->code_args, r->n_code_args);
	} else if (strcmp(r->code, "ALERT") == 0) {
		/* S7/P8: alerts only when they cannot have been injected. */
		if (s->tls_active) {
			g_warning("server alert for account '%s': %s", s->account, r->text);
		} else {
			g_debug("ignoring unprotected ALERT for account '%s'", s->account);
		}
	} else if (!message_data_allowed(s)) {
		return;
	} else if (strcmp(r->code, "UIDVALIDITY") == 0 && r->n_code_args == 1 &&
		   imap_arg_get_u32(&r->code_args[0], &value)) {
		if (s->state == S_EXAMINE) {
			s->have_uidvalidity = true;
			if (mailbox_set_uidvalidity(s->mailbox, value)) {
				g_message("UIDVALIDITY of folder '%s' of account '%s' changed; "
					  "starting afresh without reporting old messages",
					  mailbox_get_folder(s->mailbox), s->account);
			}
		} else if (value != mailbox_get_uidvalidity(s->mailbox)) {
			/* M3: mid-session change; a new selection sorts it out. */
			session_fail(s, IMAP_FAILURE_TRANSIENT,
				     "UIDVALIDITY of folder '%s' changed during the session",
				     mailbox_get_folder(s->mailbox));
		}
	} else if (strcmp(r->code, "UIDNEXT") == 0 && r->n_code_args == 1 &&
		   imap_arg_get_u32(&r->code_args[0], &value)) {
		mailbox_set_uidnext(s->mailbox, value);
	}
}

static void handle_untagged(struct imap_session *s, const struct imap_response *r)
{
	if (r->status != IMAP_STATUS_NONE) {
		if (r->status == IMAP_STATUS_BYE) {
			g_free(s->bye_text);
			s->bye_text = g_strdup(r->text);
			s->bye_failure = (r->code != NULL && (strcmp(r->code, "UNAVAILABLE") == 0 ||
							      strcmp(r->code, "LIMIT") == 0))
						 ? IMAP_FAILURE_RESOURCE
						 : IMAP_FAILURE_TRANSIENT;
		}
		handle_code(s, r);
		return;
	}
	if (r->keyword == NULL) {
		return;
	}
	if (strcmp(r->keyword, "CAPABILITY") == 0) {
		caps_set(s, r->args, r->n_args);
		return;
	}
	if (strcmp(r->keyword, "ENABLED") == 0 && s->state == S_ENABLE) {
		for (size_t i = 0; i < r->n_args; i++) {
			if (imap_arg_is_atom(&r->args[i], "QRESYNC")) {
				s->enabled_qresync = true;
				s->enabled_condstore = true;
			} else if (imap_arg_is_atom(&r->args[i], "CONDSTORE")) {
				s->enabled_condstore = true;
			}
		}
		return;
	}
	if (!message_data_allowed(s)) {
		return; /* S5: ignored before the selection */
	}
	if (strcmp(r->keyword, "EXISTS") == 0 && r->has_number) {
		if (r->number > mailbox_get_exists(s->mailbox) && s->state != S_EXAMINE) {
			s->saw_exists = true;
		}
		mailbox_exists(s->mailbox, r->number);
	} else if (strcmp(r->keyword, "EXPUNGE") == 0 && r->has_number) {
		mailbox_expunge(s->mailbox, r->number);
	} else if (strcmp(r->keyword, "FETCH") == 0 && r->has_number) {
		handle_fetch(s, r);
	} else if (strcmp(r->keyword, "VANISHED") == 0) {
		handle_vanished(s, r);
	}
	if (s->state == S_IDLING) {
		mailbox_flush_unseen(s->mailbox);
		if (s->saw_exists) {
			send_done(s);
		}
	}
}

/* --- tagged replies ------------------------------------------------------ */

static enum imap_failure failure_for_code(const char *code)
{
	/* A6 */
	if (code != NULL && (strcmp(code, "UNAVAILABLE") == 0 || strcmp(code, "LIMIT") == 0 ||
			     strcmp(code, "INUSE") == 0 || strcmp(code, "OVERQUOTA") == 0)) {
		return IMAP_FAILURE_RESOURCE;
	}
	return IMAP_FAILURE_PERMANENT;
}

static void handle_auth_reply(struct imap_session *s, const struct imap_response *r)
{
	if (r->status == IMAP_STATUS_OK) {
		s->caps_known = false;
		handle_code(s, r); /* [CAPABILITY ...] after login (C1) */
		step_after_auth(s);
		return;
	}
	enum imap_failure failure = failure_for_code(r->code);
	session_fail(s, failure,
		     failure == IMAP_FAILURE_RESOURCE
			     ? "server temporarily refused the login for user '%s': %s"
			     : "authentication failed for user '%s': %s",
		     s->username, r->text[0] != '\0' ? r->text : "no reason given");
}

static void handle_tagged(struct imap_session *s, const struct imap_response *r)
{
	bool ok = r->status == IMAP_STATUS_OK;

	if (s->tag[0] == '\0' || strcmp(r->tag, s->tag) != 0) {
		g_debug("ignoring reply with unknown tag '%s' for account '%s'", r->tag, s->account);
		return;
	}
	s->tag[0] = '\0';

	switch (s->state) {
	case S_CAPABILITY_PRE:
		if (!ok) {
			session_fail(s, IMAP_FAILURE_TRANSIENT, "CAPABILITY failed: %s", r->text);
			return;
		}
		step_starttls(s);
		return;
	case S_STARTTLS:
		if (!ok) {
			/* S1: NO or BAD to STARTTLS never leads to plaintext. */
			session_fail(s, IMAP_FAILURE_PERMANENT,
				     "server refused STARTTLS (%s), refusing to continue without TLS",
				     r->text);
			return;
		}
		/* S3/S4: forget everything learnt in plaintext. */
		s->caps = 0;
		s->caps_known = false;
		set_state(s, S_TLS_HANDSHAKE);
		return;
	case S_CAPABILITY:
		handle_code(s, r);
		if (!ok) {
			session_fail(s, IMAP_FAILURE_TRANSIENT, "CAPABILITY failed: %s", r->text);
			return;
		}
		step_auth(s);
		return;
	case S_AUTHENTICATE:
	case S_LOGIN:
		handle_auth_reply(s, r);
		return;
	case S_CAPABILITY_POST:
		if (!ok) {
			session_fail(s, IMAP_FAILURE_TRANSIENT, "CAPABILITY failed: %s", r->text);
			return;
		}
		step_id(s);
		return;
	case S_ID:
		/* A8: whatever the answer, carry on. */
		step_enable_or_examine(s);
		return;
	case S_ENABLE:
		step_examine(s);
		return;
	case S_EXAMINE:
		if (!ok) {
			enum imap_failure failure = failure_for_code(r->code);
			session_fail(s, failure, "cannot open folder '%s': %s",
				     mailbox_get_folder(s->mailbox),
				     r->code != NULL && strcmp(r->code, "NONEXISTENT") == 0
					     ? "it does not exist on the server"
					     : r->text);
			return;
		}
		s->selected = true;
		if (!s->have_uidvalidity) {
			/* M2: servers must send it; without it UIDs cannot be
			 * trusted across sessions. */
			session_fail(s, IMAP_FAILURE_PERMANENT,
				     "server sent no UIDVALIDITY for folder '%s'",
				     mailbox_get_folder(s->mailbox));
			return;
		}
		if (mailbox_get_exists(s->mailbox) > 0) {
			send_command(s, S_LIST_FLAGS, "UID FETCH 1:* (UID FLAGS)", NULL);
			return;
		}
		mailbox_select_end(s->mailbox);
		s->check_new = true;
		step_after_sync(s);
		return;
	case S_LIST_FLAGS:
		if (!ok) {
			session_fail(s, IMAP_FAILURE_TRANSIENT, "listing flags of folder '%s' failed: %s",
				     mailbox_get_folder(s->mailbox), r->text);
			return;
		}
		mailbox_select_end(s->mailbox);
		s->check_new = true;
		step_after_sync(s);
		return;
	case S_FETCH_NEW:
		if (!ok) {
			session_fail(s, IMAP_FAILURE_TRANSIENT,
				     "fetching new messages of folder '%s' failed: %s",
				     mailbox_get_folder(s->mailbox), r->text);
			return;
		}
		mailbox_new_end(s->mailbox);
		step_after_sync(s);
		return;
	case S_IDLE_START:
		/* I1: a tagged reply instead of "+" means no IDLE here. */
		g_message("server refused IDLE for account '%s' (%s); polling instead", s->account,
			  r->text);
		s->idle_broken = true;
		step_after_sync(s);
		return;
	case S_IDLE_DONE:
	case S_NOOP:
		if (!ok) {
			session_fail(s, IMAP_FAILURE_TRANSIENT, "%s failed: %s",
				     s->state == S_NOOP ? "NOOP" : "IDLE", r->text);
			return;
		}
		step_after_sync(s);
		return;
	case S_LOGOUT:
		session_finish(s);
		return;
	default:
		return;
	}
}

static void handle_continuation(struct imap_session *s, const struct imap_response *r)
{
	(void)r;
	switch (s->state) {
	case S_IDLE_START:
		set_state(s, S_IDLING);
		set_phase(s, IMAP_SESSION_PHASE_IDLE);
		mailbox_flush_unseen(s->mailbox);
		/* I1: news that arrived before "+" is handled at once. */
		if (s->saw_exists || s->logout_requested) {
			send_done(s);
		}
		return;
	case S_AUTHENTICATE:
		if (!s->auth_ir_sent) {
			g_autofree char *initial = auth_initial_response(s);
			g_autofree char *line = g_strdup_printf("%s\r\n", initial);

			s->auth_ir_sent = true;
			send_raw(s, line, strlen(line), "<redacted>");
			memset(initial, 0, strlen(initial));
			memset(line, 0, strlen(line));
		} else if (s->config.auth == CONFIG_AUTH_OAUTHBEARER) {
			/* A3: answer an error challenge with ^A. */
			send_raw(s, "AQ==\r\n", 6, NULL);
		} else if (s->config.auth == CONFIG_AUTH_XOAUTH2) {
			/* A4: an empty response ends the exchange. */
			send_raw(s, "\r\n", 2, NULL);
		} else {
			send_raw(s, "*\r\n", 3, NULL); /* A2: cancel */
		}
		return;
	default:
		return; /* P1: unexpected, harmless */
	}
}

static void handle_response(struct imap_session *s, const struct imap_response *r)
{
	if (s->state == S_GREETING) {
		if (r->kind != IMAP_RESPONSE_UNTAGGED) {
			session_fail(s, IMAP_FAILURE_TRANSIENT, "server sent no greeting");
			return;
		}
		switch (r->status) {
		case IMAP_STATUS_OK:
			handle_code(s, r);
			step_after_greeting(s);
			return;
		case IMAP_STATUS_PREAUTH:
			if (!s->tls_active && s->config.security == CONFIG_SECURITY_STARTTLS) {
				/* T11/S2: PREAUTH would skip STARTTLS. */
				session_fail(s, IMAP_FAILURE_PERMANENT,
					     "server greeted with PREAUTH before TLS; refusing to "
					     "continue without TLS");
				return;
			}
			handle_code(s, r);
			set_phase(s, IMAP_SESSION_PHASE_AUTHENTICATING);
			step_after_auth(s);
			return;
		case IMAP_STATUS_BYE:
			session_fail(s, IMAP_FAILURE_RESOURCE, "server refused the connection: %s",
				     r->text);
			return;
		default:
			session_fail(s, IMAP_FAILURE_TRANSIENT, "server sent an invalid greeting");
			return;
		}
	}
	switch (r->kind) {
	case IMAP_RESPONSE_UNTAGGED:
		handle_untagged(s, r);
		return;
	case IMAP_RESPONSE_TAGGED:
		handle_tagged(s, r);
		return;
	case IMAP_RESPONSE_CONTINUATION:
		handle_continuation(s, r);
		return;
	}
}

/* --- public entry points ------------------------------------------------- */

struct imap_session *imap_session_create(const struct imap_session_config *config,
					 struct mailbox *mailbox,
					 const struct imap_session_ops *ops, void *user_data)
{
	struct imap_session *s = g_new0(struct imap_session, 1);

	s->config = *config;
	s->account = g_strdup(config->account);
	s->username = g_strdup(config->username);
	s->password = g_strdup(config->password != NULL ? config->password : "");
	s->config.account = s->account;
	s->config.username = s->username;
	s->config.password = s->password;
	s->mailbox = mailbox;
	s->ops = ops;
	s->user_data = user_data;
	s->parser = imap_parser_create(NULL);
	s->state = S_GREETING;
	s->phase = IMAP_SESSION_PHASE_CONNECTING;
	s->tls_active = config->security == CONFIG_SECURITY_TLS;
	s->trace_in = g_string_new(NULL);
	return s;
}

void imap_session_destroy(struct imap_session *s)
{
	if (s == NULL) {
		return;
	}
	if (s->state != S_DONE) {
		mailbox_abort(s->mailbox);
	}
	memset(s->password, 0, strlen(s->password));
	g_free(s->password);
	g_free(s->username);
	g_free(s->account);
	g_free(s->bye_text);
	imap_parser_destroy(s->parser);
	g_string_free(s->trace_in, TRUE);
	g_free(s);
}

static void trace_in(struct imap_session *s, const char *data, size_t len)
{
	if (!s->config.trace || s->ops->trace == NULL) {
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			if (s->trace_in->len > 0 && s->trace_in->str[s->trace_in->len - 1] == '\r') {
				g_string_truncate(s->trace_in, s->trace_in->len - 1);
			}
			s->ops->trace(false, s->trace_in->str, s->user_data);
			g_string_truncate(s->trace_in, 0);
		} else if (s->trace_in->len < TRACE_MAX) {
			g_string_append_c(s->trace_in, data[i]);
		}
	}
}

void imap_session_feed(struct imap_session *s, const char *data, size_t len)
{
	while (len > 0 && s->state != S_DONE && s->state != S_TLS_HANDSHAKE) {
		size_t consumed = 0;
		enum imap_parse_result result = imap_parser_feed(s->parser, data, len, &consumed);

		trace_in(s, data, consumed);
		data += consumed;
		len -= consumed;
		if (result == IMAP_PARSE_ERROR) {
			session_fail(s, IMAP_FAILURE_TRANSIENT, "cannot parse the server's response: %s",
				     imap_parser_error(s->parser));
			return;
		}
		if (result == IMAP_PARSE_NEED_MORE) {
			break;
		}
		g_autoptr(imap_response) response = imap_parser_take(s->parser);
		if (response != NULL) {
			handle_response(s, response);
		}
		if (s->state == S_TLS_HANDSHAKE) {
			/* S3: anything after "OK Begin TLS" came in plaintext
			 * and may be injected; never use it. */
			if (len > 0 || imap_parser_has_partial(s->parser)) {
				session_fail(s, IMAP_FAILURE_PERMANENT, STARTTLS_INJECTION);
				return;
			}
			s->ops->start_tls(s->user_data);
			return;
		}
	}
	if (len > 0 && s->state == S_TLS_HANDSHAKE) {
		session_fail(s, IMAP_FAILURE_PERMANENT, STARTTLS_INJECTION);
	}
}

void imap_session_tls_ready(struct imap_session *s)
{
	if (s->state != S_TLS_HANDSHAKE) {
		return;
	}
	s->tls_active = true;
	imap_parser_reset(s->parser);
	step_capability(s, S_CAPABILITY); /* S4 */
}

void imap_session_transport_closed(struct imap_session *s, const char *message)
{
	if (s->state == S_DONE) {
		return;
	}
	if (s->state == S_LOGOUT) {
		session_finish(s);
		return;
	}
	if (s->bye_text != NULL) {
		session_fail(s, s->bye_failure, "server closed the connection: %s", s->bye_text);
		return;
	}
	session_fail(s, IMAP_FAILURE_TRANSIENT, "%s", message);
}

void imap_session_refresh(struct imap_session *s)
{
	if (s->state == S_IDLING) {
		send_done(s);
	} else if (s->state == S_POLL_WAIT) {
		/* L7: NOOP collects EXISTS/EXPUNGE/FETCH without IDLE. */
		send_command(s, S_NOOP, "NOOP", NULL);
	}
}

void imap_session_logout(struct imap_session *s)
{
	s->logout_requested = true;
	switch (s->state) {
	case S_IDLING:
		send_done(s);
		return;
	case S_POLL_WAIT:
		send_command(s, S_LOGOUT, "LOGOUT", NULL);
		set_phase(s, IMAP_SESSION_PHASE_LOGOUT);
		return;
	case S_GREETING:
	case S_TLS_HANDSHAKE:
		session_finish(s);
		return;
	case S_CAPABILITY_PRE:
	case S_STARTTLS:
	case S_CAPABILITY:
	case S_AUTHENTICATE:
	case S_LOGIN:
		/* Before login there is nothing worth a clean LOGOUT. */
		session_finish(s);
		return;
	default:
		/* The outstanding command completes first (step_after_sync). */
		return;
	}
}

bool imap_session_is_waiting(const struct imap_session *s)
{
	return s->state != S_IDLING && s->state != S_POLL_WAIT && s->state != S_DONE;
}

enum imap_session_phase imap_session_get_phase(const struct imap_session *s)
{
	return s->phase;
}
