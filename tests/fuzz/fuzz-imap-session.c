/* SPDX-License-Identifier: MIT */
/*
 * The session state machine with a mailbox model, driven by a hostile
 * server. The input is the server's byte stream with control bytes that
 * stand for what the connection layer does:
 *
 *   0x01  chunk boundary (nothing else)   0x02  TLS handshake completed
 *   0x03  refresh (IDLE/poll timer)       0x04  logout requested
 *   0x05  transport closed, then reconnect with a new session on the same
 *         mailbox (the account supervisor's retry)
 *
 * preceded by 2 header bytes that pick the configuration:
 *   0  security = b % 3, auth = b / 3 % 5, trace = b / 15 % 2,
 *      feeding = b / 30 % 3 (each piece whole, byte by byte, random chunks)
 *   1  folder = b & 3, credentials = b >> 2 & 3, restored state = b >> 4 & 1,
 *      chunk seed = b >> 5
 *
 * Invariants checked on every byte the client sends and every callback:
 * - only the commands of the watching session go out (docs/ARCHITECTURE.md): never SELECT, STORE,
 * EXPUNGE, CLOSE, COPY, MOVE, APPEND or a fetch that sets \Seen (W1-W3); every write is whole
 * CRLF-terminated lines with no CR, LF or NUL inside (no command injection through names or
 * credentials); tags count up;
 * - with security = starttls no LOGIN or AUTHENTICATE (nor any other
 *   command) before the handshake the session asked for completed, and
 *   nothing at all is sent while it runs;
 * - failed() and finished() together are called at most once, nothing is
 *   sent after them, and closing the transport always ends the session;
 * - the password never appears in outgoing trace lines;
 * - events carry the account and folder, valid UTF-8 everywhere, clean
 *   display text from headers, uid != 0 for message events, and within one
 *   UIDVALIDITY the "new" UIDs strictly increase, so none is reported twice,
 *   also across reconnects; a reset counts no more unseen messages than
 *   messages.
 */
#include "fuzz.h"

#include "imapwatch/core/imap-command.h"
#include "imapwatch/core/imap-session.h"
#include "imapwatch/core/utf7.h"

#include <string.h>

#define HEADER_LEN   2
#define MAX_SESSIONS 16

enum control {
	CONTROL_SPLIT = 0x01,
	CONTROL_TLS = 0x02,
	CONTROL_REFRESH = 0x03,
	CONTROL_LOGOUT = 0x04,
	CONTROL_CLOSE = 0x05,
};

static const char *const folders[] = {"INBOX", "Entwürfe", "A&B \"quoted\"", "日本語/メール"};

static const struct {
	const char *username;
	const char *password;
} credentials[] = {
    {"alice", "s3cret pass"},
    {"al\"ice\\", "pa\\ss\"word{5}"},
    {"ålice", "pässwörd"},
    /* LOGIN must refuse these; SASL sends them base64-encoded. */
    {"bob", "hunter2\r\nA9 DELETE INBOX"},
};

struct harness {
	struct config_account config;
	const char *password;
	bool trace;
	struct imap_client_io io;
	const char *folder;
	char *examine_arg; /* the folder as EXAMINE must name it */
	/* Secrets as they would appear on the wire, for the trace check. */
	char *secrets[4];

	struct mailbox *mailbox;
	struct imap_client *client;
	struct imap_session *session;
	/* Per session. */
	bool tls;         /* the handshake start_tls() asked for completed */
	bool tls_pending; /* start_tls() called, handshake not completed yet */
	bool starttls_sent;
	bool auth_open; /* AUTHENTICATE sent: raw SASL lines may follow */
	bool ended;     /* failed() or finished() was called */
	enum watch_state state;
	unsigned tag;

	/* Across sessions: the "new" UIDs of the current UIDVALIDITY. */
	bool have_uidvalidity;
	uint32_t uidvalidity;
	uint32_t last_new_uid;
};

static bool is_base64(const char *s)
{
	return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")] ==
	       '\0';
}

/* Fetch items that would set \Seen (RFC 9051 §6.4.5): BODY[...] and
 * BINARY[...] without .PEEK, RFC822 and RFC822.TEXT. */
static void check_no_seen_setting_fetch(const char *line)
{
	const char *p;

	FUZZ_CHECK_MSG(strstr(line, "BODY[") == NULL, "non-PEEK BODY[ sent: %s", line);
	FUZZ_CHECK_MSG(strstr(line, "BINARY[") == NULL, "non-PEEK BINARY[ sent: %s", line);
	for (p = strstr(line, "RFC822"); p != NULL; p = strstr(p + 1, "RFC822")) {
		FUZZ_CHECK_MSG(g_str_has_prefix(p, "RFC822.SIZE") ||
		                   g_str_has_prefix(p, "RFC822.HEADER"),
		               "RFC822 fetch sent: %s", line);
	}
}

static void check_command(struct harness *h, const char *line)
{
	g_auto(GStrv) words = g_strsplit(line, " ", 4);
	g_autofree char *tag = g_strdup_printf("A%u", h->tag + 1);
	const char *verb;

	FUZZ_CHECK_MSG(words[0] != NULL && words[1] != NULL, "not a command: %s", line);
	FUZZ_CHECK_MSG(strcmp(words[0], tag) == 0, "expected tag %s: %s", tag, line);
	h->tag++;
	verb = words[1];
	h->auth_open = false;
	check_no_seen_setting_fetch(line);

	if (h->config.security == CONFIG_SECURITY_STARTTLS && !h->tls) {
		/* Before TLS only what is needed to start it (S1). */
		FUZZ_CHECK_MSG(strcmp(verb, "CAPABILITY") == 0 || strcmp(verb, "STARTTLS") == 0,
		               "sent before TLS: %s", line);
	}
	if (strcmp(verb, "STARTTLS") == 0) {
		FUZZ_CHECK(h->config.security == CONFIG_SECURITY_STARTTLS && !h->tls);
		FUZZ_CHECK(words[2] == NULL);
		h->starttls_sent = true;
	} else if (strcmp(verb, "AUTHENTICATE") == 0) {
		FUZZ_CHECK(words[2] != NULL);
		FUZZ_CHECK(strcmp(words[2], "PLAIN") == 0 || strcmp(words[2], "XOAUTH2") == 0 ||
		           strcmp(words[2], "OAUTHBEARER") == 0);
		FUZZ_CHECK(words[3] == NULL || is_base64(words[3]));
		h->auth_open = true;
	} else if (strcmp(verb, "EXAMINE") == 0) {
		const char *arg = line + strlen(words[0]) + strlen(" EXAMINE ");

		FUZZ_CHECK_MSG(strcmp(arg, h->examine_arg) == 0, "wrong folder: %s", line);
	} else if (strcmp(verb, "LIST") == 0) {
		/* The folder's special use (RFC 6154): LIST "" <the folder>. */
		const char *arg = line + strlen(words[0]) + strlen(" LIST \"\" ");

		FUZZ_CHECK_MSG(g_str_has_prefix(line + strlen(words[0]), " LIST \"\" ") &&
		                   strcmp(arg, h->examine_arg) == 0,
		               "wrong LIST: %s", line);
	} else if (strcmp(verb, "UID") == 0) {
		FUZZ_CHECK_MSG(words[2] != NULL && strcmp(words[2], "FETCH") == 0,
		               "UID command other than FETCH: %s", line);
	} else {
		static const char *const allowed[] = {"CAPABILITY", "LOGIN", "ID",    "ENABLE",
		                                      "IDLE",       "NOOP",  "LOGOUT"};
		bool ok = false;

		for (size_t i = 0; i < G_N_ELEMENTS(allowed); i++) {
			ok = ok || strcmp(verb, allowed[i]) == 0;
		}
		FUZZ_CHECK_MSG(ok, "unexpected command: %s", line);
	}
}

static void h_send(const char *data, size_t len, void *user_data)
{
	struct harness *h = user_data;

	FUZZ_CHECK_MSG(!h->ended, "sent after the session ended: %.*s", (int)len, data);
	FUZZ_CHECK_MSG(!h->tls_pending, "sent during the TLS handshake: %.*s", (int)len, data);
	FUZZ_CHECK(len >= 2 && data[len - 2] == '\r' && data[len - 1] == '\n');
	for (size_t i = 0; i + 2 < len; i++) {
		FUZZ_CHECK_MSG(data[i] != '\r' && data[i] != '\n' && data[i] != '\0',
		               "control byte inside a line: %.*s", (int)len, data);
	}

	g_autofree char *line = g_strndup(data, len - 2);
	if (strcmp(line, "DONE") == 0) {
		return;
	}
	if (h->auth_open && (is_base64(line) || strcmp(line, "*") == 0)) {
		/* A SASL response or cancel ("" ends XOAUTH2's error). */
		return;
	}
	check_command(h, line);
}

static void h_start_tls(void *user_data)
{
	struct harness *h = user_data;

	FUZZ_CHECK(h->config.security == CONFIG_SECURITY_STARTTLS);
	FUZZ_CHECK(h->starttls_sent && !h->tls && !h->tls_pending && !h->ended);
	h->tls_pending = true;
}

static void h_trace(bool outgoing, const char *line, void *user_data)
{
	struct harness *h = user_data;

	FUZZ_CHECK(line != NULL);
	if (!outgoing) {
		return; /* the server may echo anything, secrets included */
	}
	for (size_t i = 0; i < G_N_ELEMENTS(h->secrets); i++) {
		FUZZ_CHECK_MSG(h->secrets[i] == NULL || strstr(line, h->secrets[i]) == NULL,
		               "secret in the trace: %s", line);
	}
}

static void h_state(enum watch_state state, void *user_data)
{
	struct harness *h = user_data;

	FUZZ_CHECK(state >= WATCH_STATE_AUTHENTICATING && state <= WATCH_STATE_POLLING);
	FUZZ_CHECK(state != h->state && !h->ended);
	h->state = state;
}

static void h_failed(enum imap_failure failure, const char *message, void *user_data)
{
	struct harness *h = user_data;

	FUZZ_CHECK(failure >= IMAP_FAILURE_TRANSIENT && failure <= IMAP_FAILURE_RESOURCE);
	FUZZ_CHECK(message != NULL);
	FUZZ_CHECK_MSG(!h->ended, "second end of the session: failed(%s)", message);
	FUZZ_CHECK(imap_session_is_over(h->session) && imap_client_is_stopped(h->client));
	h->ended = true;
}

static void h_finished(void *user_data)
{
	struct harness *h = user_data;

	FUZZ_CHECK_MSG(!h->ended, "second end of the session: finished()");
	FUZZ_CHECK(imap_session_is_over(h->session) && imap_client_is_stopped(h->client));
	h->ended = true;
}

static const struct imap_session_ops ops = {
    .state_changed = h_state,
    .failed = h_failed,
    .finished = h_finished,
};

static void check_flags(const char *const *flags)
{
	FUZZ_CHECK(flags != NULL);
	for (size_t i = 0; flags[i] != NULL; i++) {
		FUZZ_CHECK_MSG(g_utf8_validate(flags[i], -1, NULL), "flag is not UTF-8: %s",
		               flags[i]);
	}
}

static void sink(const struct watch_event *ev, void *user_data)
{
	struct harness *h = user_data;
	g_autofree char *json = watch_event_to_json(ev);

	FUZZ_CHECK(strcmp(ev->account, "work") == 0 && strcmp(ev->folder, h->folder) == 0);
	FUZZ_CHECK_MSG(g_utf8_validate(json, -1, NULL), "event JSON is not UTF-8: %s", json);
	for (const char *p = json; *p != '\0'; p++) {
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	}
	switch (ev->type) {
	case WATCH_EVENT_NEW:
		FUZZ_CHECK(ev->uid != 0);
		FUZZ_CHECK(fuzz_text_is_display_safe(ev->message_id));
		FUZZ_CHECK(fuzz_text_is_display_safe(ev->from_name));
		FUZZ_CHECK(fuzz_text_is_display_safe(ev->from_addr));
		FUZZ_CHECK(fuzz_text_is_display_safe(ev->subject));
		check_flags(ev->flags);
		if (!h->have_uidvalidity || ev->uidvalidity != h->uidvalidity) {
			/* A new UIDVALIDITY is a new mailbox: UIDs start over. */
			h->have_uidvalidity = true;
			h->uidvalidity = ev->uidvalidity;
			h->last_new_uid = 0;
		}
		FUZZ_CHECK_MSG(ev->uid > h->last_new_uid, "new uid %u reported after uid %u",
		               ev->uid, h->last_new_uid);
		h->last_new_uid = ev->uid;
		break;
	case WATCH_EVENT_CHANGED:
		FUZZ_CHECK(ev->uid != 0);
		check_flags(ev->flags);
		break;
	case WATCH_EVENT_REMOVED:
		FUZZ_CHECK(ev->uid != 0);
		break;
	case WATCH_EVENT_UNSEEN:
		break;
	case WATCH_EVENT_RESET:
		/* The new baseline is summed up, not reported: "new" UIDs of
		 * the new UIDVALIDITY start over above it. */
		FUZZ_CHECK(ev->unseen <= ev->count);
		h->have_uidvalidity = true;
		h->uidvalidity = ev->uidvalidity;
		h->last_new_uid = 0;
		break;
	default:
		FUZZ_CHECK_MSG(false, "event type %d from the mailbox", ev->type);
	}
}

static void session_start(struct harness *h)
{
	h->io = (struct imap_client_io){
	    .send = h_send,
	    .start_tls = h_start_tls,
	    .trace = h_trace,
	    .user_data = h,
	};
	h->client = imap_client_create(h->config.name, h->trace, &h->io);
	struct imap_session_params params = {
	    .account = &h->config,
	    .password = h->password,
	    .home = h->mailbox,
	};
	h->session = imap_session_create(h->client, &params, &ops, h);
	h->tls = h->config.security == CONFIG_SECURITY_TLS;
	h->tls_pending = false;
	h->starttls_sent = false;
	h->auth_open = false;
	h->ended = false;
	h->state = WATCH_STATE_CONNECTING;
	h->tag = 0;
	FUZZ_CHECK(imap_session_get_state(h->session) == WATCH_STATE_CONNECTING);
	FUZZ_CHECK(imap_client_is_waiting(h->client)); /* for the greeting */
}

static void session_stop(struct harness *h)
{
	g_autofree char *caps = imap_client_describe_capabilities(h->client);

	FUZZ_CHECK(caps != NULL);
	for (const char *p = caps; *p != '\0'; p++) {
		FUZZ_CHECK(g_ascii_isgraph(*p) || *p == ' ');
	}
	imap_session_destroy(h->session);
	h->session = NULL;
	imap_client_destroy(h->client);
	h->client = NULL;
}

static void control(struct harness *h, enum control c, unsigned *sessions)
{
	switch (c) {
	case CONTROL_SPLIT:
		break;
	case CONTROL_TLS:
		if (h->tls_pending) {
			h->tls_pending = false;
			h->tls = true;
		}
		/* Also when nothing asked for TLS: the session must ignore it. */
		imap_client_tls_ready(h->client);
		break;
	case CONTROL_REFRESH:
		imap_session_refresh(h->session);
		break;
	case CONTROL_LOGOUT:
		imap_session_logout(h->session);
		break;
	case CONTROL_CLOSE:
		imap_client_transport_closed(h->client, IMAP_FAILURE_TRANSIENT,
		                             "connection closed by the fuzzer");
		FUZZ_CHECK(h->ended);
		FUZZ_CHECK(imap_session_is_over(h->session));
		FUZZ_CHECK(!imap_client_is_waiting(h->client));
		if (*sessions < MAX_SESSIONS) {
			session_stop(h);
			session_start(h);
			(*sessions)++;
		}
		break;
	}
}

static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static void feed(struct harness *h, const char *data, size_t len, unsigned mode, uint32_t *state)
{
	while (len > 0) {
		size_t n = len;

		if (mode == 1) {
			n = 1;
		} else if (mode == 2) {
			/* Not inside MIN(): it would draw twice. */
			n = 1 + next_random(state) % 64;
			n = MIN(n, len);
		}
		imap_client_feed(h->client, data, n);
		data += n;
		len -= n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness h = {0};
	unsigned sessions = 1;
	unsigned mode;
	uint32_t state;
	size_t start;

	fuzz_init();
	if (size < HEADER_LEN) {
		return 0;
	}
	h.config.name = "work";
	h.config.security = (enum config_security)(data[0] % 3);
	h.config.auth = (enum config_auth)(data[0] / 3 % 5);
	h.trace = data[0] / 15 % 2;
	mode = data[0] / 30 % 3;
	h.folder = folders[data[1] & 3];
	h.config.username = (char *)credentials[data[1] >> 2 & 3].username;
	h.password = credentials[data[1] >> 2 & 3].password;
	state = 0x9e3779b9u ^ (uint32_t)(data[1] >> 5);

	g_autofree char *encoded = utf7_imap_encode(h.folder);
	g_autoptr(GString) examine = g_string_new(NULL);
	FUZZ_CHECK(encoded != NULL && imap_command_append_astring(examine, encoded));
	h.examine_arg = examine->str;
	h.secrets[0] = g_strdup(h.password);
	h.secrets[1] = imap_command_base64_plain("", h.config.username, h.password);
	g_autofree char *xoauth2 =
	    g_strdup_printf("user=%s\001auth=Bearer %s\001\001", h.config.username, h.password);
	h.secrets[2] = g_base64_encode((const guchar *)xoauth2, strlen(xoauth2));
	g_autofree char *oauthbearer =
	    g_strdup_printf("n,a=%s,\001auth=Bearer %s\001\001", h.config.username, h.password);
	h.secrets[3] = g_base64_encode((const guchar *)oauthbearer, strlen(oauthbearer));

	h.mailbox = mailbox_create("work", h.folder, sink, &h);
	if (data[1] >> 4 & 1) {
		mailbox_restore(h.mailbox, 77, 10);
	}
	session_start(&h);

	start = HEADER_LEN;
	for (size_t i = HEADER_LEN; i <= size; i++) {
		if (i < size && (data[i] == 0 || data[i] > CONTROL_CLOSE)) {
			continue;
		}
		feed(&h, (const char *)data + start, i - start, mode, &state);
		if (i < size) {
			control(&h, (enum control)data[i], &sessions);
		}
		start = i + 1;
	}

	session_stop(&h);
	mailbox_destroy(h.mailbox);
	for (size_t i = 0; i < G_N_ELEMENTS(h.secrets); i++) {
		g_free(h.secrets[i]);
	}
	return 0;
}
