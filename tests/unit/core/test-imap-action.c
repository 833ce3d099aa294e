/* SPDX-License-Identifier: MIT */
/*
 * Transcript tests for the mark-as-read action: server bytes in, the exact
 * client bytes expected out. Each transcript runs twice: server bytes fed
 * whole and fed one byte at a time. Every byte the client sends is checked
 * against the one change the action may make (W4): UID STORE ... +FLAGS.SILENT
 * (\Seen), and never CLOSE, EXPUNGE, COPY, MOVE, APPEND or DELETE (M6, W3).
 */
#include "imapwatch/core/imap-action.h"

#include "transcript.h"

#include <glib.h>
#include <string.h>

#define PASSWORD "s3cret pass"
#define PLAIN_IR "AGFsaWNlAHMzY3JldCBwYXNz" /* base64("\0alice\0s3cret pass") */
/* base64("user=alice\1auth=Bearer s3cret pass\1\1") */
#define XOAUTH2_IR "dXNlcj1hbGljZQFhdXRoPUJlYXJlciBzM2NyZXQgcGFzcwEB"

struct transcript {
	const char *name;
	enum config_security security; /* default (0): tls */
	enum config_auth auth;
	const char *folder; /* default INBOX */
	uint32_t uidvalidity;
	const uint32_t *uids; /* default: uids_1237 */
	size_t n_uids;
	const struct step *steps;
	/* "finished", or "failed:<class>:<text>" with text matched as a
	 * substring; NULL = still running. */
	const char *outcome;
};

struct harness {
	struct transcript_recorder rec; /* first: the recorder callbacks take the harness */
	struct transcript_wire wire;
};

static const struct imap_action_ops ops = {
    .failed = recorder_failed,
    .finished = recorder_finished,
};

/* W3/W4/M6: the only change ever sent is +FLAGS.SILENT (\Seen). */
static void assert_only_marks_seen(const char *sent)
{
	static const char *const forbidden[] = {"CLOSE",  "EXPUNGE", "COPY", "MOVE",
	                                        "APPEND", "DELETE",  "BODY["};
	g_autoptr(GRegex) store = g_regex_new("^A[0-9]+ UID STORE [0-9:,]+ \\+FLAGS\\.SILENT "
	                                      "\\(\\\\Seen\\)$",
	                                      0, 0, NULL);
	g_auto(GStrv) lines = g_strsplit(sent, "\r\n", -1);

	for (size_t i = 0; lines[i] != NULL; i++) {
		g_autofree char *upper = g_ascii_strup(lines[i], -1);

		for (size_t j = 0; j < G_N_ELEMENTS(forbidden); j++) {
			if (strstr(upper, forbidden[j]) != NULL) {
				g_error("client sent a forbidden command: %s", lines[i]);
			}
		}
		if (strstr(upper, "STORE") != NULL && !g_regex_match(store, lines[i], 0, NULL)) {
			g_error("client sent a STORE other than +FLAGS.SILENT (\\Seen): %s",
			        lines[i]);
		}
		g_assert_cmpuint(strlen(lines[i]) + 2, <, 8000); /* P5 */
	}
}

static void assert_no_secrets(const char *trace)
{
	g_assert_null(strstr(trace, PASSWORD));
	g_assert_null(strstr(trace, "s3cret"));
	g_assert_null(strstr(trace, PLAIN_IR));
	g_assert_null(strstr(trace, XOAUTH2_IR));
}

static const uint32_t uids_1237[] = {7, 2, 1, 3, 2};

static struct imap_action *action_new(const struct transcript *t, struct harness *h)
{
	recorder_init(&h->rec);
	transcript_wire_init(&h->wire, &h->rec, t->security, t->auth);

	struct imap_action_config config = {
	    .account = &h->wire.account,
	    .password = PASSWORD,
	    .folder = t->folder != NULL ? t->folder : "INBOX",
	    .uidvalidity = t->uidvalidity,
	    .uids = t->uids != NULL ? t->uids : uids_1237,
	    .n_uids = t->uids != NULL ? t->n_uids : G_N_ELEMENTS(uids_1237),
	};
	return imap_action_create(h->wire.client, &config, &ops, h);
}

static void action_free(struct harness *h, struct imap_action *a)
{
	imap_action_destroy(a);
	transcript_wire_clear(&h->wire);
	recorder_clear(&h->rec);
}

static void run_transcript(const struct transcript *t, bool byte_by_byte)
{
	struct harness h;
	struct imap_action *a = action_new(t, &h);

	for (const struct step *s = t->steps; s->server != NULL; s++) {
		if (!transcript_wire_step(&h.wire, &h.rec, s->server)) {
			transcript_feed(transcript_client_feed, h.wire.client, s->server,
			                byte_by_byte);
		}
		transcript_check_step(&h.rec, t->name, byte_by_byte, t->steps, s);
	}
	transcript_check_outcome(&h.rec, t->name, t->outcome);
	g_assert_cmpint(imap_action_is_running(a), ==, t->outcome == NULL);
	if (t->outcome != NULL && g_str_has_prefix(t->outcome, "failed") &&
	    strstr(h.rec.outcome, "nothing was changed") != NULL) {
		g_assert_null(strstr(h.rec.all_sent->str, "STORE"));
	}
	assert_only_marks_seen(h.rec.all_sent->str);
	assert_no_secrets(h.rec.trace->str);
	action_free(&h, a);
}

static void test_transcript(gconstpointer data)
{
	run_transcript(data, false);
	run_transcript(data, true);
}

#define DOVECOT_GREETING                                                                           \
	"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "              \
	"AUTH=PLAIN] Dovecot ready.\r\n"
#define DOVECOT_LOGGED_IN                                                                          \
	"A1 OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE UNSELECT UIDPLUS CONDSTORE] Logged "   \
	"in\r\n"
#define ID_COMMAND "A2 ID (\"name\" \"imapwatch\" \"version\" \"" IMAPWATCH_VERSION "\")\r\n"
#define SELECT_DATA(uidvalidity)                                                                   \
	"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"                              \
	"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags "         \
	"permitted.\r\n"                                                                           \
	"* 9 EXISTS\r\n* 0 RECENT\r\n"                                                             \
	"* OK [UIDVALIDITY " uidvalidity "] UIDs valid\r\n"                                        \
	"* OK [UIDNEXT 10] Predicted next UID\r\n"

/* A server that takes the SASL-IR login at once. */
#define SHORT_LOGIN                                                                                \
	{                                                                                          \
		"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n",                           \
		    "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"                                       \
	}

/* Dovecot: SASL-IR, ID, UNSELECT; a folder name that needs modified UTF-7
 * and quoting. */
static const struct step dovecot_steps[] = {
    {DOVECOT_GREETING, "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {DOVECOT_LOGGED_IN, ID_COMMAND},
    {"* ID (\"name\" \"Dovecot\")\r\nA2 OK ID completed.\r\n",
     "A3 SELECT \"Archiv/Entw&APw-rfe 2025\"\r\n"},
    {SELECT_DATA("1700000001") "A3 OK [READ-WRITE] Select completed.\r\n",
     "A4 UID STORE 1:3,7 +FLAGS.SILENT (\\Seen)\r\n"},
    {"* 4 FETCH (UID 4 FLAGS (\\Seen))\r\nA4 OK Store completed.\r\n", "A5 UNSELECT\r\n"},
    {"A5 OK Unselect completed.\r\n", "A6 LOGOUT\r\n"},
    {"* BYE Logging out\r\nA6 OK Logout completed.\r\n", ""},
    {NULL, NULL},
};

static const struct transcript dovecot = {
    .name = "dovecot-unselect",
    .folder = "Archiv/Entwürfe 2025",
    .uidvalidity = 1700000001,
    .steps = dovecot_steps,
    .outcome = "finished",
};

/* No UNSELECT, no ID, no AUTH=PLAIN: LOGIN, then LOGOUT straight after the
 * STORE; the server closes before its tagged OK. */
static const struct step plain_steps[] = {
    {"* OK server ready\r\n", "A1 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 IDLE AUTH=DIGEST-MD5\r\nA1 OK Completed\r\n",
     "A2 LOGIN alice \"s3cret pass\"\r\n"},
    {"A2 OK User logged in\r\n", "A3 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 IDLE\r\nA3 OK Completed\r\n", "A4 SELECT INBOX\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 77] Ok\r\nA4 OK [READ-WRITE] Completed\r\n",
     "A5 UID STORE 1:3,7 +FLAGS.SILENT (\\Seen)\r\n"},
    {"A5 OK Completed\r\n", "A6 LOGOUT\r\n"},
    {"* BYE bye\r\n", ""},
    {"<CLOSE>", ""},
    {NULL, NULL},
};

static const struct transcript plain = {
    .name = "login-no-unselect",
    .uidvalidity = 77,
    .steps = plain_steps,
    .outcome = "finished",
};

/* M3/W4: the folder was recreated since the UIDs were seen. */
static const struct step uidvalidity_steps[] = {
    {DOVECOT_GREETING, "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {DOVECOT_LOGGED_IN, ID_COMMAND},
    {"A2 OK ID completed.\r\n", "A3 SELECT INBOX\r\n"},
    {SELECT_DATA("1700000002") "A3 OK [READ-WRITE] Select completed.\r\n", ""},
    {NULL, NULL},
};

static const struct transcript uidvalidity = {
    .name = "uidvalidity-changed",
    .uidvalidity = 1700000001,
    .steps = uidvalidity_steps,
    .outcome = "failed:permanent:folder changed since the message was seen (UIDVALIDITY "
               "1700000001, now 1700000002); nothing was changed",
};

/* S5: a UIDVALIDITY sent before SELECT does not count; the SELECT that
 * sends none is refused. */
static const struct step no_uidvalidity_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n* OK [UIDVALIDITY 5] x\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"* OK [UIDVALIDITY 5] x\r\nA1 OK [CAPABILITY IMAP4rev1 UNSELECT] in\r\n",
     "A2 SELECT INBOX\r\n"},
    {"* 2 EXISTS\r\nA2 OK [READ-WRITE] done\r\n", ""},
    {NULL, NULL},
};

static const struct transcript no_uidvalidity = {
    .name = "no-uidvalidity",
    .uidvalidity = 5,
    .steps = no_uidvalidity_steps,
    .outcome = "failed:permanent:server sent no UIDVALIDITY for folder 'INBOX'",
};

/* W5: [READ-ONLY] on SELECT (e.g. a shared folder). */
static const struct step read_only_steps[] = {
    {DOVECOT_GREETING, "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {DOVECOT_LOGGED_IN, ID_COMMAND},
    {"A2 OK ID completed.\r\n", "A3 SELECT INBOX\r\n"},
    {SELECT_DATA("1700000001") "A3 OK [READ-ONLY] Select completed.\r\n", ""},
    {NULL, NULL},
};

static const struct transcript read_only = {
    .name = "read-only",
    .uidvalidity = 1700000001,
    .steps = read_only_steps,
    .outcome = "failed:permanent:folder is read-only; nothing was changed",
};

/* W5: \Seen missing from PERMANENTFLAGS. */
static const struct step no_seen_steps[] = {
    SHORT_LOGIN,
    {"A1 OK [CAPABILITY IMAP4rev1 UNSELECT] in\r\n", "A2 SELECT INBOX\r\n"},
    {"* OK [PERMANENTFLAGS (\\Flagged \\Deleted)] Limited\r\n* OK [UIDVALIDITY 5] x\r\n"
     "A2 OK [READ-WRITE] done\r\n",
     ""},
    {NULL, NULL},
};

static const struct transcript no_seen = {
    .name = "permanentflags-without-seen",
    .uidvalidity = 5,
    .steps = no_seen_steps,
    .outcome = "failed:permanent:folder is read-only for the \\Seen flag",
};

static const struct step select_no_steps[] = {
    SHORT_LOGIN,
    {"A1 OK [CAPABILITY IMAP4rev1 UNSELECT] in\r\n", "A2 SELECT INBOX\r\n"},
    {"A2 NO [NONEXISTENT] Mailbox doesn't exist: INBOX\r\n", ""},
    {NULL, NULL},
};

static const struct transcript select_no = {
    .name = "select-no",
    .uidvalidity = 5,
    .steps = select_no_steps,
    .outcome = "failed:permanent:cannot open folder 'INBOX': it does not exist on the server; "
               "nothing was changed",
};

static const struct step store_no_steps[] = {
    SHORT_LOGIN,
    {"A1 OK [CAPABILITY IMAP4rev1 UNSELECT] in\r\n", "A2 SELECT INBOX\r\n"},
    {"* OK [UIDVALIDITY 5] x\r\nA2 OK [READ-WRITE] done\r\n",
     "A3 UID STORE 1:3,7 +FLAGS.SILENT (\\Seen)\r\n"},
    {"A3 NO [OVERQUOTA] Quota exceeded\r\n", ""},
    {NULL, NULL},
};

static const struct transcript store_no = {
    .name = "store-no",
    .uidvalidity = 5,
    .steps = store_no_steps,
    .outcome = "failed:resource:server refused to mark messages as read in folder 'INBOX': "
               "Quota exceeded",
};

/* M3: UIDVALIDITY changes under a running STORE: stop at once. */
static const struct step uidvalidity_mid_steps[] = {
    SHORT_LOGIN,
    {"A1 OK [CAPABILITY IMAP4rev1 UNSELECT] in\r\n", "A2 SELECT INBOX\r\n"},
    {"* OK [UIDVALIDITY 5] x\r\nA2 OK [READ-WRITE] done\r\n",
     "A3 UID STORE 1:3,7 +FLAGS.SILENT (\\Seen)\r\n"},
    {"* OK [UIDVALIDITY 5] same\r\n", ""},
    {"* OK [UIDVALIDITY 6] changed\r\nA3 OK done\r\n", ""},
    {NULL, NULL},
};

static const struct transcript uidvalidity_mid = {
    .name = "uidvalidity-changed-during-store",
    .uidvalidity = 5,
    .steps = uidvalidity_mid_steps,
    .outcome = "failed:permanent:UIDVALIDITY of folder 'INBOX' changed during the session",
};

/* The connection drops while a STORE is outstanding. */
static const struct step store_lost_steps[] = {
    SHORT_LOGIN,
    {"A1 OK [CAPABILITY IMAP4rev1] in\r\n", "A2 SELECT INBOX\r\n"},
    {"* OK [UIDVALIDITY 5] x\r\nA2 OK [READ-WRITE] done\r\n",
     "A3 UID STORE 1:3,7 +FLAGS.SILENT (\\Seen)\r\n"},
    {"* BYE [UNAVAILABLE] shutting down\r\n", ""},
    {"<CLOSE>", ""},
    {NULL, NULL},
};

static const struct transcript store_lost = {
    .name = "closed-during-store",
    .uidvalidity = 5,
    .steps = store_lost_steps,
    .outcome = "failed:resource:server closed the connection: shutting down; some messages may "
               "have been marked as read",
};

/* STARTTLS, then the whole job over TLS (S4: capabilities again). */
static const struct step starttls_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n", "A1 STARTTLS\r\n"},
    {"A1 OK Begin TLS negotiation now.\r\n", ""},
    {"<TLS>", "A2 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\nA2 OK Pre-login capabilities\r\n",
     "A3 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A3 OK [CAPABILITY IMAP4rev1 UNSELECT] Logged in\r\n", "A4 SELECT INBOX\r\n"},
    {"* OK [UIDVALIDITY 9] x\r\nA4 OK [READ-WRITE] done\r\n",
     "A5 UID STORE 1:3,7 +FLAGS.SILENT (\\Seen)\r\n"},
    {"A5 OK done\r\n", "A6 UNSELECT\r\n"},
    {"A6 NO not now\r\n", "A7 LOGOUT\r\n"},
    {"<CLOSE>", ""},
    {NULL, NULL},
};

static const struct transcript starttls = {
    .name = "starttls",
    .security = CONFIG_SECURITY_STARTTLS,
    .uidvalidity = 9,
    .steps = starttls_steps,
    .outcome = "finished",
};

/* S1: STARTTLS hidden from the capabilities (stripping). */
static const struct step starttls_stripped_steps[] = {
    {"* OK ready\r\n", "A1 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA1 OK\r\n", ""},
    {NULL, NULL},
};

static const struct transcript starttls_stripped = {
    .name = "starttls-stripped",
    .security = CONFIG_SECURITY_STARTTLS,
    .uidvalidity = 9,
    .steps = starttls_stripped_steps,
    .outcome = "failed:permanent:server does not offer STARTTLS",
};

/* S1: STARTTLS answered with NO. */
static const struct step starttls_refused_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", "A1 STARTTLS\r\n"},
    {"A1 NO not today\r\n", ""},
    {NULL, NULL},
};

static const struct transcript starttls_refused = {
    .name = "starttls-refused",
    .security = CONFIG_SECURITY_STARTTLS,
    .uidvalidity = 9,
    .steps = starttls_refused_steps,
    .outcome = "failed:permanent:server refused STARTTLS",
};

/* S3: a fake tagged OK for the later login injected after "OK Begin TLS". */
static const struct step injection_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", "A1 STARTTLS\r\n"},
    {"A1 OK Begin TLS\r\nA3 OK [CAPABILITY IMAP4rev1] Logged in\r\n", ""},
    {NULL, NULL},
};

static const struct transcript injection = {
    .name = "starttls-injection",
    .security = CONFIG_SECURITY_STARTTLS,
    .uidvalidity = 9,
    .steps = injection_steps,
    .outcome = "failed:permanent:server sent data after accepting STARTTLS",
};

/* S3: even a partial line after the OK is an injection. */
static const struct step injection_partial_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", "A1 STARTTLS\r\n"},
    {"A1 OK Begin TLS\r\n* CAP", ""},
    {NULL, NULL},
};

static const struct transcript injection_partial = {
    .name = "starttls-injection-partial",
    .security = CONFIG_SECURITY_STARTTLS,
    .uidvalidity = 9,
    .steps = injection_partial_steps,
    .outcome = "failed:permanent:server sent data after accepting STARTTLS",
};

/* S2/T11: PREAUTH on the plaintext connection. */
static const struct step preauth_steps[] = {
    {"* PREAUTH [CAPABILITY IMAP4rev1 UNSELECT] welcome\r\n", ""},
    {NULL, NULL},
};

static const struct transcript preauth = {
    .name = "preauth-before-tls",
    .security = CONFIG_SECURITY_STARTTLS,
    .uidvalidity = 9,
    .steps = preauth_steps,
    .outcome = "failed:permanent:server greeted with PREAUTH before TLS",
};

static const struct step auth_failed_steps[] = {
    {DOVECOT_GREETING, "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", ""},
    {NULL, NULL},
};

static const struct transcript auth_failed = {
    .name = "auth-failed",
    .uidvalidity = 9,
    .steps = auth_failed_steps,
    .outcome = "failed:credentials:authentication failed for user 'alice': Authentication "
               "failed.; nothing was changed",
};

/* A4: XOAUTH2 without SASL-IR; the error challenge is answered with an
 * empty line. */
static const struct step xoauth2_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] hi\r\n", "A1 AUTHENTICATE XOAUTH2\r\n"},
    {"+ \r\n", XOAUTH2_IR "\r\n"},
    {"+ eyJzdGF0dXMiOiI0MDEifQ==\r\n", "\r\n"},
    {"A1 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n", ""},
    {NULL, NULL},
};

static const struct transcript xoauth2 = {
    .name = "xoauth2-failed",
    .auth = CONFIG_AUTH_XOAUTH2,
    .uidvalidity = 9,
    .steps = xoauth2_steps,
    .outcome = "failed:credentials:authentication failed for user 'alice': Invalid credentials",
};

/* A1: LOGINDISABLED and no usable mechanism: never LOGIN. */
static const struct step logindisabled_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] ready\r\n", ""},
    {NULL, NULL},
};

static const struct transcript logindisabled = {
    .name = "logindisabled",
    .uidvalidity = 9,
    .steps = logindisabled_steps,
    .outcome = "failed:permanent:server disables LOGIN",
};

/* --- long UID sets ------------------------------------------------------- */

/* Expands "1:3,5" into uids (test inputs are small and well-formed). */
static void parse_set(const char *set, GArray *uids)
{
	g_auto(GStrv) parts = g_strsplit(set, ",", -1);

	for (size_t i = 0; parts[i] != NULL; i++) {
		g_auto(GStrv) range = g_strsplit(parts[i], ":", 2);
		guint64 lo;
		guint64 hi;

		g_assert_true(g_ascii_string_to_unsigned(range[0], 10, 1, G_MAXUINT32, &lo, NULL));
		hi = lo;
		if (range[1] != NULL) {
			g_assert_true(
			    g_ascii_string_to_unsigned(range[1], 10, 1, G_MAXUINT32, &hi, NULL));
		}
		g_assert_cmpuint(lo, <=, hi);
		for (guint64 u = lo; u <= hi; u++) {
			uint32_t v = (uint32_t)u;
			g_array_append_val(uids, v);
		}
	}
}

/* P5: 6000 scattered UIDs (plus a run) need several STORE commands, each
 * line under 8000 octets; together they name every UID exactly once. */
static void run_split(bool byte_by_byte)
{
	g_autoptr(GArray) input = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	g_autoptr(GArray) stored = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	g_autoptr(GRegex) store = g_regex_new(
	    "^(A[0-9]+) UID STORE ([0-9:,]+) \\+FLAGS\\.SILENT \\(\\\\Seen\\)\r\n$", 0, 0, NULL);
	struct harness h;
	unsigned commands = 0;

	for (uint32_t u = 4000000000u; u < 4000000000u + 12000; u += 2) {
		g_array_append_val(input, u);
	}
	for (uint32_t u = 10; u <= 20; u++) {
		g_array_append_val(input, u);
	}
	struct transcript t = {
	    .name = "split",
	    .uidvalidity = 5,
	    .uids = (const uint32_t *)(void *)input->data,
	    .n_uids = input->len,
	};

	struct imap_action *a = action_new(&t, &h);
	transcript_feed(transcript_client_feed, h.wire.client,
	                "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n", byte_by_byte);
	transcript_feed(transcript_client_feed, h.wire.client,
	                "A1 OK [CAPABILITY IMAP4rev1 UNSELECT] in\r\n", byte_by_byte);
	g_string_truncate(h.rec.sent, 0);
	transcript_feed(transcript_client_feed, h.wire.client,
	                "* OK [UIDVALIDITY 5] x\r\nA2 OK [READ-WRITE] done\r\n", byte_by_byte);
	while (g_str_has_prefix(h.rec.sent->str, "A") && strstr(h.rec.sent->str, " UID STORE ")) {
		g_autoptr(GMatchInfo) match = NULL;

		g_assert_cmpuint(h.rec.sent->len, <, 8000);
		g_assert_true(g_regex_match(store, h.rec.sent->str, 0, &match));
		g_autofree char *tag = g_match_info_fetch(match, 1);
		g_autofree char *set = g_match_info_fetch(match, 2);
		g_autofree char *reply = g_strdup_printf("%s OK done\r\n", tag);

		parse_set(set, stored);
		commands++;
		g_string_truncate(h.rec.sent, 0);
		transcript_feed(transcript_client_feed, h.wire.client, reply, byte_by_byte);
	}
	g_assert_cmpuint(commands, >=, 3);
	g_autofree char *unselect = g_strdup_printf("A%u UNSELECT\r\n", 3 + commands);
	g_assert_cmpstr(h.rec.sent->str, ==, unselect);
	g_assert_cmpuint(stored->len, ==, input->len);
	for (size_t i = 1; i < stored->len; i++) {
		/* In order, no duplicates: the chunks follow the sorted set. */
		g_assert_cmpuint(g_array_index(stored, uint32_t, i - 1), <,
		                 g_array_index(stored, uint32_t, i));
	}
	g_assert_cmpuint(g_array_index(stored, uint32_t, 0), ==, 10);
	g_assert_cmpuint(g_array_index(stored, uint32_t, stored->len - 1), ==, 4000000000u + 11998);
	assert_only_marks_seen(h.rec.all_sent->str);
	action_free(&h, a);
}

static void test_split(void)
{
	run_split(false);
	run_split(true);
}

int main(int argc, char **argv)
{
	static const struct transcript *const all[] = {
	    &dovecot,          &plain,      &uidvalidity,       &no_uidvalidity,
	    &read_only,        &no_seen,    &select_no,         &store_no,
	    &uidvalidity_mid,  &store_lost, &starttls,          &starttls_stripped,
	    &starttls_refused, &injection,  &injection_partial, &preauth,
	    &auth_failed,      &xoauth2,    &logindisabled,
	};

	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
		g_autofree char *path = g_strdup_printf("/imap-action/%s", all[i]->name);
		g_test_add_data_func(path, all[i], test_transcript);
	}
	g_test_add_func("/imap-action/split-long-uid-set", test_split);
	return g_test_run();
}
