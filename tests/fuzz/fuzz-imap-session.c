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
 *   0x06  guests mode only, as 0x03 there: in turn a resync and the owner
 *         dropping the last guest (0x03: a poll and a refresh)
 *
 * preceded by 2 header bytes (3 in guests mode) that pick the configuration:
 *   0  of b & 0x7f: security = b % 3, auth = b / 3 % 5, trace = b / 15 % 2,
 *      feeding = b / 30 % 3 (each piece whole, byte by byte, random chunks);
 *      guests mode = b >> 7
 *   1  folder = b & 3, credentials = b >> 2 & 3, restored state = b >> 4 & 1
 *      (with b >> 7 also the saved UID sets of compact mode, N11),
 *      chunk seed = b >> 5
 *   2  (guests mode: the harness names the home and the guests from listed())
 *      NOTIFY allowed = b & 1, entries to LIST = b >> 1 & 3 (3: none, fixed
 *      guests), home given = b >> 3 & 1, guests ≤ 1 + (b >> 4 & 3)
 *
 * Invariants checked on every byte the client sends and every callback:
 * - only the commands of the watching session go out (docs/ARCHITECTURE.md): never SELECT, STORE,
 * EXPUNGE, CLOSE, COPY, MOVE, APPEND or a fetch that sets \Seen (W1-W3); every write is whole
 * CRLF-terminated lines with no CR, LF or NUL inside (no command injection through names or
 * credentials); tags count up;
 * - with security = starttls no LOGIN or AUTHENTICATE (nor any other
 *   command) before the handshake the session asked for completed, and
 *   nothing at all is sent while it runs;
 * - in guests mode NAMESPACE, LIST of the entries, STATUS or LIST-STATUS of
 *   guests (never of the selected folder), NOTIFY SET of the home and the
 *   guests (only when allowed and offered), EXAMINE of the home or a guest:
 *   every folder a command names is one the harness gave, never a name
 *   straight from the server; listed() entries are unique UTF-8 names;
 * - failed() and finished() together are called at most once, nothing is
 *   sent after them, and closing the transport always ends the session;
 * - the password never appears in outgoing trace lines;
 * - events carry the account and their model's folder, valid UTF-8 everywhere, clean
 *   display text from headers, uid != 0 for message events, and within one
 *   UIDVALIDITY the "new" UIDs strictly increase, so none is reported twice,
 *   also across reconnects; a reset counts no more unseen messages than
 *   messages.
 */
#include "fuzz.h"

#include "imapwatch/core/imap-command.h"
#include "imapwatch/core/imap-session.h"
#include "imapwatch/core/uidset.h"
#include "imapwatch/core/utf7.h"

#include <stdio.h>
#include <string.h>

#define HEADER_LEN   2
#define MAX_SESSIONS 16
#define MAX_FOLDERS  8 /* mailbox models in guests mode, the harness's folder first */
#define MAX_GUESTS   4

/* What the guests' commands ask; names aside, the lines are exact (W2: PEEK). */
#define STATUS_ITEMS "MESSAGES UIDNEXT UNSEEN UIDVALIDITY"
#define NOTIFY_SET                                                                                 \
	"SET STATUS (selected (MessageNew (UID FLAGS INTERNALDATE RFC822.SIZE "                    \
	"BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)]) MessageExpunge FlagChange)) "    \
	"(mailboxes "
#define NOTIFY_EVENTS   " (MessageNew MessageExpunge FlagChange))"
#define NOTIFY_PERSONAL " (personal (MailboxName SubscriptionChange))"

enum control {
	CONTROL_SPLIT = 0x01,
	CONTROL_TLS = 0x02,
	CONTROL_REFRESH = 0x03,
	CONTROL_LOGOUT = 0x04,
	CONTROL_CLOSE = 0x05,
	CONTROL_GUESTS = 0x06, /* guests mode only */
};

static const char *const folders[] = {"INBOX", "Entwürfe", "A&B \"quoted\"", "日本語/メール"};

/* Guests mode: the entries to LIST (none: the guests are these names). */
static const char *const list_patterns[] = {"INBOX", "W*", "Public/*", NULL};
static const char *const list_star[] = {"INBOX", "*", NULL};
static const char *const list_names[] = {"Work", "Entwürfe", "A&B \"quoted\"", "日本語/メール",
                                         NULL};
static const char *const *const lists[] = {list_patterns, list_star, list_names, NULL};

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

/* A mailbox model the harness owns, and what its events said. */
struct folder {
	char *name;
	char *arg; /* as a command names it; NULL if it cannot be sent */
	struct mailbox *mailbox;
	bool have_uidvalidity; /* across sessions: the "new" UIDs of the */
	uint32_t uidvalidity;  /* current UIDVALIDITY */
	uint32_t last_new_uid;
};

struct harness {
	struct config_account config;
	const char *password;
	bool trace;
	struct imap_client_io io;
	/* Secrets as they would appear on the wire, for the trace check. */
	char *secrets[4];

	/* folders[0] is the harness's folder; guests mode adds listed ones. */
	struct folder folders[MAX_FOLDERS];
	size_t n_folders;
	bool guests_mode;
	bool allow_notify;
	bool give_home;
	bool has_pattern;
	size_t max_guests;
	const char *const *list; /* entries to LIST, or NULL */
	char *list_args[4];      /* the same as LIST names them */
	unsigned refreshes;

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
	struct folder *home;     /* NULL until named */
	struct folder *selected; /* the folder the last EXAMINE named */
	struct folder *guests[MAX_GUESTS];
	size_t n_guests; /* as the session has them */
	bool notify_sent;
};

static bool is_base64(const char *s)
{
	return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")] ==
	       '\0';
}

/* A name as the session puts it into a command, or NULL. */
static char *command_arg(const char *name)
{
	g_autofree char *encoded = utf7_imap_encode(name);
	g_autoptr(GString) arg = g_string_new(NULL);

	if (encoded == NULL || !imap_command_append_astring(arg, encoded)) {
		return NULL;
	}
	return g_string_free(g_steal_pointer(&arg), FALSE);
}

static bool is_guest(const struct harness *h, const struct folder *f)
{
	bool found = false;

	for (size_t i = 0; i < h->n_guests; i++) {
		found = found || h->guests[i] == f;
	}
	return found;
}

/* The folder a command names at p (followed by the end, a space or ')'),
 * setting *end after it; NULL if it is none of the harness's. */
static struct folder *folder_at(struct harness *h, const char *p, const char **end)
{
	for (size_t i = 0; i < h->n_folders; i++) {
		const char *arg = h->folders[i].arg;
		size_t n = arg != NULL ? strlen(arg) : 0;

		if (n > 0 && strncmp(p, arg, n) == 0 && strchr(" )", p[n]) != NULL) {
			*end = p + n;
			return &h->folders[i];
		}
	}
	return NULL;
}

/* "(a b c)" at p: with notify the home and then every guest (NOTIFY SET),
 * else guests that are not selected (LIST-STATUS). Returns what follows. */
static const char *check_names(struct harness *h, const char *line, const char *p, bool notify)
{
	size_t n = 0;

	FUZZ_CHECK_MSG(*p == '(', "no folder list: %s", line);
	do {
		const char *end = NULL;
		struct folder *f = folder_at(h, p + 1, &end);

		FUZZ_CHECK_MSG(f != NULL, "a folder the harness did not name: %s", line);
		if (notify && n == 0) {
			FUZZ_CHECK_MSG(f == h->home, "NOTIFY not naming the home first: %s", line);
		} else {
			FUZZ_CHECK_MSG(is_guest(h, f), "not a guest: %s in %s", f->name, line);
			FUZZ_CHECK_MSG(notify || f != h->selected, "selected folder: %s", line);
		}
		n++;
		p = end;
	} while (*p == ' ');
	FUZZ_CHECK_MSG(*p == ')', "bad folder list: %s", line);
	FUZZ_CHECK_MSG(!notify || n == 1 + h->n_guests, "NOTIFY without every guest: %s", line);
	return p + 1;
}

/* " (QRESYNC (uidvalidity modseq))" after an EXAMINE's folder. */
static bool is_qresync(const char *p)
{
	unsigned long long uidvalidity, modseq;
	int n = -1;

	return sscanf(p, " (QRESYNC (%llu %llu))%n", &uidvalidity, &modseq, &n) == 2 && n > 0 &&
	       p[n] == '\0';
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
	const char *verb, *args, *end = NULL;

	FUZZ_CHECK_MSG(words[0] != NULL && words[1] != NULL, "not a command: %s", line);
	FUZZ_CHECK_MSG(strcmp(words[0], tag) == 0, "expected tag %s: %s", tag, line);
	h->tag++;
	verb = words[1];
	args = line + strlen(words[0]) + 1 + strlen(verb);
	args += *args == ' ';
	h->auth_open = false;

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
		/* The home, or a guest visited. */
		struct folder *f = folder_at(h, args, &end);

		FUZZ_CHECK_MSG(f != NULL && (f == h->home || is_guest(h, f)), "wrong folder: %s",
		               line);
		FUZZ_CHECK_MSG(*end == '\0' || is_qresync(end), "wrong EXAMINE: %s", line);
		h->selected = f;
	} else if (strcmp(verb, "LIST") == 0 && g_str_has_prefix(args, "\"\" (")) {
		/* LIST-STATUS (RFC 5819): a STATUS pass. */
		FUZZ_CHECK(imap_client_has_cap(h->client, IMAP_CAP_LIST_STATUS));
		end = check_names(h, line, args + 3, false);
		FUZZ_CHECK_MSG(
		    strcmp(end, " RETURN (STATUS (" STATUS_ITEMS "))") == 0 ||
		        strcmp(end, " RETURN (STATUS (" STATUS_ITEMS " HIGHESTMODSEQ))") == 0,
		    "wrong LIST-STATUS: %s", line);
	} else if (strcmp(verb, "LIST") == 0) {
		/* An entry; without entries the home (its special use). */
		const char *entry = g_str_has_prefix(args, "\"\" ") ? args + 3 : "";
		bool ok = h->list == NULL && h->home != NULL && g_strcmp0(entry, h->home->arg) == 0;

		for (size_t i = 0; h->list != NULL && h->list[i] != NULL; i++) {
			ok = ok || g_strcmp0(entry, h->list_args[i]) == 0;
		}
		FUZZ_CHECK_MSG(ok, "wrong LIST: %s", line);
	} else if (strcmp(verb, "STATUS") == 0) {
		/* M7: never the selected folder. */
		struct folder *f = folder_at(h, args, &end);

		FUZZ_CHECK_MSG(f != NULL && is_guest(h, f) && f != h->selected,
		               "STATUS of no guest or of the selected folder: %s", line);
		FUZZ_CHECK_MSG(strcmp(end, " (" STATUS_ITEMS ")") == 0 ||
		                   strcmp(end, " (" STATUS_ITEMS " HIGHESTMODSEQ)") == 0,
		               "wrong STATUS: %s", line);
	} else if (strcmp(verb, "NAMESPACE") == 0) {
		FUZZ_CHECK(words[2] == NULL && h->has_pattern &&
		           imap_client_has_cap(h->client, IMAP_CAP_NAMESPACE));
	} else if (strcmp(verb, "NOTIFY") == 0) {
		FUZZ_CHECK_MSG(h->allow_notify && imap_client_has_cap(h->client, IMAP_CAP_NOTIFY),
		               "NOTIFY not allowed or not offered: %s", line);
		FUZZ_CHECK_MSG(g_str_has_prefix(args, NOTIFY_SET), "wrong NOTIFY: %s", line);
		end = check_names(h, line, args + strlen(NOTIFY_SET), true);
		FUZZ_CHECK_MSG(
		    strcmp(end, NOTIFY_EVENTS) == 0 ||
		        (h->has_pattern && strcmp(end, NOTIFY_EVENTS NOTIFY_PERSONAL) == 0),
		    "wrong NOTIFY events: %s", line);
		h->notify_sent = true;
	} else if (strcmp(verb, "UID") == 0) {
		/* Read-only UID commands: FETCH (checked below) and SEARCH. */
		FUZZ_CHECK_MSG(words[2] != NULL && (strcmp(words[2], "FETCH") == 0 ||
		                                    strcmp(words[2], "SEARCH") == 0),
		               "UID command other than FETCH or SEARCH: %s", line);
		check_no_seen_setting_fetch(line);
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
	g_auto(GStrv) words = g_strsplit(line, " ", 3);
	/* The server may echo anything, secrets included, and so may the folder
	 * names it lists; check_command() proves the rest of such lines fixed. */
	if (!outgoing ||
	    (h->guests_mode && words[0] != NULL && words[1] != NULL &&
	     g_strv_contains((const char *const[]){"EXAMINE", "LIST", "STATUS", "NOTIFY", NULL},
	                     words[1]))) {
		return;
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

	FUZZ_CHECK(failure >= IMAP_FAILURE_TRANSIENT && failure <= IMAP_FAILURE_REAUTH);
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
	struct folder *f = user_data;
	g_autofree char *json = watch_event_to_json(ev);

	FUZZ_CHECK(strcmp(ev->account, "work") == 0 && strcmp(ev->folder, f->name) == 0);
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
		if (!f->have_uidvalidity || ev->uidvalidity != f->uidvalidity) {
			/* A new UIDVALIDITY is a new mailbox: UIDs start over. */
			f->have_uidvalidity = true;
			f->uidvalidity = ev->uidvalidity;
			f->last_new_uid = 0;
		}
		FUZZ_CHECK_MSG(ev->uid > f->last_new_uid, "new uid %u reported after uid %u in %s",
		               ev->uid, f->last_new_uid, f->name);
		f->last_new_uid = ev->uid;
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
		f->have_uidvalidity = true;
		f->uidvalidity = ev->uidvalidity;
		f->last_new_uid = 0;
		break;
	default:
		FUZZ_CHECK_MSG(false, "event type %d from the mailbox", ev->type);
	}
}

static void h_guests_changed(enum imap_session_guests mode, const char *reason, void *user_data)
{
	struct harness *h = user_data;

	FUZZ_CHECK(h->guests_mode && !h->ended && imap_session_get_guests(h->session) == mode);
	FUZZ_CHECK(mode == IMAP_SESSION_GUESTS_NOTIFY || mode == IMAP_SESSION_GUESTS_POLL);
	FUZZ_CHECK_MSG(mode != IMAP_SESSION_GUESTS_NOTIFY || h->notify_sent,
	               "NOTIFY mode without NOTIFY SET");
	(void)reason; /* server text: listeners make it valid UTF-8 */
}

/* The model of that folder (one per folder), made if there is room. */
static struct folder *folder_get(struct harness *h, const char *name)
{
	for (size_t i = 0; i < h->n_folders; i++) {
		if (mailbox_same_folder(h->folders[i].name, name)) {
			return &h->folders[i];
		}
	}
	if (h->n_folders == MAX_FOLDERS) {
		return NULL;
	}
	struct folder *f = &h->folders[h->n_folders++];
	f->name = g_strdup(name);
	f->arg = command_arg(name);
	f->mailbox = mailbox_create("work", name, sink, f);
	return f;
}

/* The harness's guests from now on: told to the session after they are
 * known here, since the session may send at once. */
static void set_guests(struct harness *h, struct folder *const *guests, size_t n)
{
	struct mailbox *mailboxes[MAX_GUESTS];

	for (size_t i = 0; i < n; i++) {
		h->guests[i] = guests[i];
		mailboxes[i] = guests[i]->mailbox;
	}
	h->n_guests = n;
	imap_session_set_guests(h->session, mailboxes, n);
}

/* Adds the folder of that name to the n guests unless it is the home, one
 * of them, or one too many. Returns the new count. */
static size_t pick_guest(struct harness *h, struct folder **guests, size_t n, const char *name)
{
	struct folder *f = n < h->max_guests ? folder_get(h, name) : NULL;
	bool dup = f == NULL || f == h->home;

	for (size_t k = 0; k < n; k++) {
		dup = dup || guests[k] == f;
	}
	if (!dup) {
		guests[n++] = f;
	}
	return n;
}

/* The owner: the home (once) is INBOX if listed, else the harness's folder;
 * the guests are the first other folders listed. */
static void h_listed(const struct imap_session_listed *entries, size_t n, void *user_data)
{
	struct harness *h = user_data;
	struct folder *guests[MAX_GUESTS];
	size_t n_guests = 0;

	FUZZ_CHECK(h->guests_mode && h->list != NULL && !h->ended && n <= IMAP_SESSION_MAX_LISTED);
	for (size_t i = 0; i < n; i++) {
		const struct imap_session_listed *l = &entries[i];

		FUZZ_CHECK(l->name != NULL && g_utf8_validate(l->name, -1, NULL));
		FUZZ_CHECK(l->foreign == NULL || g_str_has_prefix(l->name, l->foreign));
		FUZZ_CHECK(l->special_use == NULL || l->special_use[0] == '\\');
		for (size_t k = 0; k < i; k++) {
			FUZZ_CHECK_MSG(strcmp(l->name, entries[k].name) != 0, "listed twice: %s",
			               l->name);
		}
	}
	if (h->home == NULL) {
		for (size_t i = 0; i < n && h->home == NULL; i++) {
			if (mailbox_same_folder(entries[i].name, "INBOX")) {
				h->home = folder_get(h, entries[i].name);
			}
		}
		if (h->home == NULL && n > 0) {
			h->home = &h->folders[0];
		}
		if (h->home != NULL) {
			imap_session_set_home(h->session, h->home->mailbox);
		}
	}
	for (size_t i = 0; i < n; i++) {
		n_guests = pick_guest(h, guests, n_guests, entries[i].name);
	}
	set_guests(h, guests, n_guests);
}

static void h_guest_failed(struct mailbox *guest, const char *message, void *user_data)
{
	struct harness *h = user_data;
	size_t i = 0;

	FUZZ_CHECK(h->guests_mode && !h->ended && message != NULL);
	while (i < h->n_guests && h->guests[i]->mailbox != guest) {
		i++;
	}
	FUZZ_CHECK_MSG(i < h->n_guests && h->guests[i] == h->selected, "guest_failed(): no visit");
	/* The session dropped it. */
	memmove(&h->guests[i], &h->guests[i + 1], (h->n_guests - i - 1) * sizeof(h->guests[0]));
	h->n_guests--;
}

static const struct imap_session_ops ops = {
    .state_changed = h_state,
    .guests_changed = h_guests_changed,
    .listed = h_listed,
    .guest_failed = h_guest_failed,
    .failed = h_failed,
    .finished = h_finished,
};

static void session_start(struct harness *h)
{
	h->io = (struct imap_client_io){
	    .send = h_send,
	    .start_tls = h_start_tls,
	    .trace = h_trace,
	    .user_data = h,
	};
	h->client = imap_client_create(h->config.name, h->trace, &h->io);
	h->home = !h->guests_mode || h->give_home ? &h->folders[0] : NULL;
	struct imap_session_params params = {
	    .account = &h->config,
	    .password = h->password,
	    .home = h->home != NULL ? h->home->mailbox : NULL,
	    .list = h->list,
	    .allow_notify = h->allow_notify,
	};
	h->session = imap_session_create(h->client, &params, &ops, h);
	h->tls = h->config.security == CONFIG_SECURITY_TLS;
	h->tls_pending = false;
	h->starttls_sent = false;
	h->auth_open = false;
	h->ended = false;
	h->state = WATCH_STATE_CONNECTING;
	h->tag = 0;
	h->selected = NULL;
	h->n_guests = 0;
	h->notify_sent = false;
	if (h->guests_mode && h->list == NULL) {
		/* No LIST pass: the guests are known from the start. */
		struct folder *guests[MAX_GUESTS];
		size_t n = 0;

		for (size_t i = 0; list_names[i] != NULL; i++) {
			n = pick_guest(h, guests, n, list_names[i]);
		}
		set_guests(h, guests, n);
	}
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
		if (h->guests_mode && h->refreshes++ % 2 == 0) {
			imap_session_poll(h->session);
		} else {
			imap_session_refresh(h->session);
		}
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
	case CONTROL_GUESTS:
		if (h->refreshes++ % 2 == 0) {
			imap_session_resync(h->session);
		} else if (h->n_guests > 0) {
			set_guests(h, h->guests, h->n_guests - 1); /* maybe the one visited */
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
	size_t start, header;
	uint8_t last_control;

	fuzz_init();
	if (size < HEADER_LEN || size < HEADER_LEN + (size_t)(data[0] >> 7)) {
		return 0;
	}
	h.guests_mode = data[0] >> 7;
	header = HEADER_LEN + h.guests_mode;
	h.config.name = "work";
	h.config.security = (enum config_security)((data[0] & 0x7f) % 3);
	h.config.auth = (enum config_auth)((data[0] & 0x7f) / 3 % 5);
	h.trace = (data[0] & 0x7f) / 15 % 2;
	mode = (data[0] & 0x7f) / 30 % 3;
	h.config.username = (char *)credentials[data[1] >> 2 & 3].username;
	h.password = credentials[data[1] >> 2 & 3].password;
	state = 0x9e3779b9u ^ (uint32_t)(data[1] >> 5);
	if (h.guests_mode) {
		h.allow_notify = data[2] & 1;
		h.list = lists[data[2] >> 1 & 3];
		h.give_home = h.list == NULL || (data[2] >> 3 & 1);
		h.max_guests = 1 + (data[2] >> 4 & 3);
		for (size_t i = 0; h.list != NULL && h.list[i] != NULL; i++) {
			h.list_args[i] = command_arg(h.list[i]);
			h.has_pattern = h.has_pattern || strpbrk(h.list[i], "*%") != NULL;
		}
	}
	last_control = h.guests_mode ? CONTROL_GUESTS : CONTROL_CLOSE;

	h.secrets[0] = g_strdup(h.password);
	h.secrets[1] = imap_command_base64_plain("", h.config.username, h.password);
	g_autofree char *xoauth2 =
	    g_strdup_printf("user=%s\001auth=Bearer %s\001\001", h.config.username, h.password);
	h.secrets[2] = g_base64_encode((const guchar *)xoauth2, strlen(xoauth2));
	g_autofree char *oauthbearer =
	    g_strdup_printf("n,a=%s,\001auth=Bearer %s\001\001", h.config.username, h.password);
	h.secrets[3] = g_base64_encode((const guchar *)oauthbearer, strlen(oauthbearer));

	FUZZ_CHECK(folder_get(&h, folders[data[1] & 3]) != NULL && h.folders[0].arg != NULL);
	if (data[1] >> 4 & 1) {
		mailbox_restore(h.folders[0].mailbox, 77, 10);
	}
	if ((data[1] >> 4 & 1) && (data[1] >> 7)) {
		/* As the state file keeps them: UIDs at or below the watermark,
		 * the unseen ones, and the mod-sequence they are right as of. */
		g_autoptr(uidset) all = uidset_new();
		g_autoptr(uidset) unseen = uidset_new();

		FUZZ_CHECK(uidset_parse(all, "1:3,5,9", 8) && uidset_parse(unseen, "3,9", 8));
		mailbox_restore_sets(h.folders[0].mailbox, 20, all, unseen);
	}
	session_start(&h);

	start = header;
	for (size_t i = header; i <= size; i++) {
		if (i < size && (data[i] == 0 || data[i] > last_control)) {
			continue;
		}
		feed(&h, (const char *)data + start, i - start, mode, &state);
		if (i < size) {
			control(&h, (enum control)data[i], &sessions);
		}
		start = i + 1;
	}

	session_stop(&h);
	for (size_t i = 0; i < h.n_folders; i++) {
		mailbox_destroy(h.folders[i].mailbox);
		g_free(h.folders[i].name);
		g_free(h.folders[i].arg);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(h.list_args); i++) {
		g_free(h.list_args[i]);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(h.secrets); i++) {
		g_free(h.secrets[i]);
	}
	return 0;
}
