/* SPDX-License-Identifier: MIT */
/*
 * Transcript tests for the session state machine: server bytes in, the exact
 * client bytes expected out, and the watch events that result. Each
 * transcript runs twice: server bytes fed whole and fed one byte at a time.
 */
#include "imapwatch/imap-session.h"

#include "transcript.h"

#include <glib.h>
#include <string.h>

struct transcript {
	const char *name;
	enum config_security security;
	enum config_auth auth;
	const char *password;
	const struct step *steps;
	/* Expected watch events, one JSON object per line. */
	const char *events;
	/* Expected end: NULL = still running; else "failed:<class>:<text>" or
	 * "finished". The text is matched as a substring. */
	const char *outcome;
	/* Expected special use of the folder after the run (NULL: none). */
	const char *special_use;
	/* Mailbox state before the session, as after an earlier run. */
	uint32_t restore_uidvalidity;
	uint32_t restore_watermark;
};

struct harness {
	struct transcript_recorder rec; /* first: the recorder callbacks take the harness */
	GString *events;
	struct imap_session *session;
};

static void h_phase(enum imap_session_phase phase, void *user_data)
{
	(void)phase;
	(void)user_data;
}

static const struct imap_session_ops ops = {
    .send = recorder_send,
    .start_tls = recorder_start_tls,
    .trace = recorder_trace,
    .phase_changed = h_phase,
    .failed = recorder_failed,
    .finished = recorder_finished,
};

static void session_feed(void *session, const char *data, size_t len)
{
	imap_session_feed(session, data, len);
}

static void sink(const struct watch_event *event, void *user_data)
{
	struct harness *h = user_data;
	g_autofree char *json = watch_event_to_json(event);

	g_string_append_printf(h->events, "%s\n", json);
}

/* The commands that would change a mailbox (W1–W3). */
static void assert_never_modifies(const char *sent)
{
	static const char *const forbidden[] = {" SELECT ", " STORE ", " EXPUNGE", " CLOSE",
	                                        " COPY ",   " MOVE ",  " APPEND ", " CREATE ",
	                                        " DELETE ", "BODY[",   "RFC822 ",  "RFC822.TEXT"};
	g_auto(GStrv) lines = g_strsplit(sent, "\r\n", -1);

	for (size_t i = 0; lines[i] != NULL; i++) {
		for (size_t j = 0; j < G_N_ELEMENTS(forbidden); j++) {
			if (strstr(lines[i], forbidden[j]) != NULL) {
				g_error("client sent a forbidden command: %s", lines[i]);
			}
		}
	}
}

static void harness_init(struct harness *h)
{
	*h = (struct harness){.events = g_string_new(NULL)};
	recorder_init(&h->rec);
}

static void harness_finish(struct harness *h, struct mailbox *mailbox)
{
	imap_session_destroy(h->session);
	mailbox_destroy(mailbox);
	g_string_free(h->events, TRUE);
	recorder_clear(&h->rec);
}

static void run_transcript(const struct transcript *t, bool byte_by_byte)
{
	struct harness h;
	harness_init(&h);
	struct mailbox *mailbox = mailbox_create("work", "INBOX", sink, &h);
	struct imap_session_config config = {
	    .account = "work",
	    .security = t->security,
	    .auth = t->auth,
	    .username = "alice",
	    .password = t->password != NULL ? t->password : "s3cret pass",
	    .trace = true,
	};

	if (t->restore_uidvalidity != 0) {
		mailbox_restore(mailbox, t->restore_uidvalidity, t->restore_watermark);
	}
	h.session = imap_session_create(&config, mailbox, &ops, &h);
	for (const struct step *s = t->steps; s->server != NULL; s++) {
		if (strcmp(s->server, "<TLS>") == 0) {
			g_assert_cmpint(h.rec.start_tls_calls, ==, 1);
			imap_session_tls_ready(h.session);
		} else if (strcmp(s->server, "<CLOSE>") == 0) {
			imap_session_transport_closed(h.session, "server closed the connection");
		} else if (strcmp(s->server, "<RESYNC>") == 0) {
			imap_session_resync(h.session);
		} else if (strcmp(s->server, "<REFRESH>") == 0) {
			imap_session_refresh(h.session);
		} else if (strcmp(s->server, "<LOGOUT>") == 0) {
			imap_session_logout(h.session);
		} else {
			transcript_feed(session_feed, h.session, s->server, byte_by_byte);
		}
		transcript_check_step(&h.rec, t->name, byte_by_byte, t->steps, s);
	}
	g_assert_cmpstr(h.events->str, ==, t->events);
	transcript_check_outcome(&h.rec, t->name, t->outcome);
	g_assert_cmpstr(mailbox_get_special_use(mailbox), ==, t->special_use);
	assert_never_modifies(h.rec.all_sent->str);
	/* Secrets never reach the trace (issue: --trace-imap redacts). */
	g_assert_null(strstr(h.rec.trace->str, config.password));
	g_autofree char *b64 = g_base64_encode((const guchar *)"\0alice\0s3cret pass", 18);
	g_assert_null(strstr(h.rec.trace->str, b64));

	harness_finish(&h, mailbox);
}

static void test_transcript(gconstpointer data)
{
	run_transcript(data, false);
	run_transcript(data, true);
}

#define PLAIN_IR "AGFsaWNlAHMzY3JldCBwYXNz" /* base64("\0alice\0s3cret pass") */
#define HDR1                                                                                       \
	"From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>\r\n"                                      \
	"Subject: Hello\r\n"                                                                       \
	"Date: Tue, 25 Nov 2025 10:00:00 +0000\r\n"                                                \
	"Message-ID: <m3@example.org>\r\n\r\n"
#define FETCH_NEW                                                                                  \
	" (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE "         \
	"MESSAGE-ID)])\r\n"

static const struct step dovecot_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
     "AUTH=PLAIN] Dovecot ready.\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE CONDSTORE QRESYNC] Logged in\r\n",
     "A2 ID (\"name\" \"imapwatch\" \"version\" \"" IMAPWATCH_VERSION "\")\r\n"},
    {"* ID (\"name\" \"Dovecot\")\r\nA2 OK ID completed.\r\n", "A3 ENABLE QRESYNC\r\n"},
    {"* ENABLED QRESYNC\r\nA3 OK Enabled.\r\n", "A4 EXAMINE INBOX\r\n"},
    {"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
     "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"
     "* 2 EXISTS\r\n* 0 RECENT\r\n"
     "* OK [UIDVALIDITY 1700000001] UIDs valid\r\n"
     "* OK [UIDNEXT 3] Predicted next UID\r\n"
     "* OK [HIGHESTMODSEQ 5] Highest\r\n"
     "A4 OK [READ-ONLY] Examine completed (0.001 + 0.000 secs).\r\n",
     "A5 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 1 MODSEQ (3) FLAGS (\\Seen))\r\n"
     "* 2 FETCH (UID 2 MODSEQ (4) FLAGS ())\r\n"
     "A5 OK Fetch completed.\r\n",
     "A6 UID FETCH 2" FETCH_NEW},
    {"A6 OK done\r\n", "A7 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* OK Still here\r\n", ""},
    {"* 3 EXISTS\r\n", "DONE\r\n"},
    {"A7 OK Idle completed.\r\n", "A8 UID FETCH 3:*" FETCH_NEW},
    {"* 3 FETCH (UID 3 MODSEQ (7) FLAGS () INTERNALDATE \"25-Nov-2025 10:00:01 +0000\" "
     "RFC822.SIZE 321 BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)] {136}\r\n" HDR1
     ")\r\nA8 OK Fetch completed.\r\n",
     "A9 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 1 FETCH (UID 1 MODSEQ (8) FLAGS ())\r\n", ""},
    {"* VANISHED 2\r\n", ""},
    {"* 2 FETCH (UID 3 MODSEQ (9) FLAGS (\\Seen $Important))\r\n", ""},
    {"<REFRESH>", "DONE\r\n"},
    {"A9 OK Idle completed.\r\n", "A10 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"<LOGOUT>", "DONE\r\n"},
    {"A10 OK Idle completed.\r\n", "A11 LOGOUT\r\n"},
    {"* BYE Logging out\r\nA11 OK Logout completed.\r\n", ""},
    {NULL, NULL},
};

static const struct transcript dovecot = {
    .name = "dovecot",
    .security = CONFIG_SECURITY_TLS,
    .steps = dovecot_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n"
              "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":"
              "1700000001,\"uid\":3,\"id\":\"work/INBOX/1700000001/3\",\"message_id\":"
              "\"<m3@example.org>\",\"from_name\":\"Jörg\",\"from_addr\":"
              "\"joerg@example.org\",\"subject\":\"Hello\",\"date\":1764064800,\"flags\":[],"
              "\"seen\":false}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":2}\n"
              "{\"event\":\"changed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":"
              "1700000001,\"uid\":1,\"id\":\"work/INBOX/1700000001/1\",\"flags\":[],\"seen\":"
              "false}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":3}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":"
              "1700000001,\"uid\":2,\"id\":\"work/INBOX/1700000001/2\"}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":2}\n"
              "{\"event\":\"changed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":"
              "1700000001,\"uid\":3,\"id\":\"work/INBOX/1700000001/3\",\"flags\":[\"\\\\Seen\","
              "\"$Important\"],\"seen\":true}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n",
    .outcome = "finished",
};

/* Cyrus-like: no AUTH=PLAIN advertised, so LOGIN; EXISTS before "+" (I1);
 * FETCH without UID resolved through the sequence map (H3); EXPUNGE
 * renumbering (H2); the n:* artefact (M5). */
static const struct step cyrus_steps[] = {
    {"* OK server ready\r\n", "A1 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 IDLE AUTH=DIGEST-MD5\r\nA1 OK Completed\r\n",
     "A2 LOGIN alice \"s3cret pass\"\r\n"},
    {"A2 OK User logged in\r\n", "A3 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 IDLE\r\nA3 OK Completed\r\n", "A4 EXAMINE INBOX\r\n"},
    {"* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 77] Ok\r\n* OK [UIDNEXT 31] Ok\r\n"
     "A4 OK [READ-ONLY] Completed\r\n",
     "A5 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (FLAGS (\\Seen) UID 10)\r\n* 2 FETCH (FLAGS () UID 20)\r\n"
     "* 3 FETCH (FLAGS () UID 30)\r\nA5 OK Completed\r\n",
     "A6 UID FETCH 20,30" FETCH_NEW},
    {"A6 OK done\r\n", "A7 IDLE\r\n"},
    {"* 4 EXISTS\r\n+ idling\r\n", "DONE\r\n"},
    {"A7 OK Completed\r\n", "A8 UID FETCH 31:*" FETCH_NEW},
    /* The new message was expunged meanwhile: only UID 30 comes back. */
    {"* 3 FETCH (UID 30 FLAGS ())\r\nA8 OK Completed\r\n", "A9 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 1 EXPUNGE\r\n", ""},
    {"* 1 FETCH (FLAGS (\\Seen))\r\n", ""},
    {"* 3 EXPUNGE\r\n", ""},
    {"<CLOSE>", ""},
    {NULL, NULL},
};

static const struct transcript cyrus = {
    .name = "cyrus",
    .security = CONFIG_SECURITY_TLS,
    .steps = cyrus_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":2}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":"
              "77,\"uid\":10,\"id\":\"work/INBOX/77/10\"}\n"
              "{\"event\":\"changed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":"
              "77,\"uid\":20,\"id\":\"work/INBOX/77/20\",\"flags\":[\"\\\\Seen\"],\"seen\":true}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n",
    .outcome = "failed:transient:server closed the connection",
};

/* Reconnect after an earlier run: messages expunged and flagged while away
 * are reported, messages above the watermark are new, BYE text is kept. */
static const struct step resume_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE] ready\r\n", "A1 AUTHENTICATE PLAIN\r\n"},
    {"+ \r\n", PLAIN_IR "\r\n"},
    {"A1 OK done\r\n", "A2 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 IDLE\r\nA2 OK done\r\n", "A3 EXAMINE INBOX\r\n"},
    {"* 2 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\nA3 OK done\r\n", "A4 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 7 FLAGS ())\r\n* 2 FETCH (UID 9 FLAGS (\\Seen))\r\nA4 OK done\r\n",
     "A5 UID FETCH 9:*" FETCH_NEW},
    {"* 2 FETCH (UID 9 FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)] "
     "{18}\r\nSubject: plain\r\n\r\n)\r\nA5 OK done\r\n",
     "A6 UID FETCH 7" FETCH_NEW},
    {"A6 OK done\r\n", "A7 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* BYE [UNAVAILABLE] Server shutting down\r\n", ""},
    {"<CLOSE>", ""},
    {NULL, NULL},
};

static const struct transcript resume = {
    .name = "resume",
    .security = CONFIG_SECURITY_TLS,
    .steps = resume_steps,
    .restore_uidvalidity = 5,
    .restore_watermark = 8,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n"
              "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":5,"
              "\"uid\":9,\"id\":\"work/INBOX/5/9\",\"message_id\":\"\",\"from_name\":\"\","
              "\"from_addr\":\"\",\"subject\":\"plain\",\"date\":0,\"catchup\":true,\"flags\":["
              "\"\\\\Seen\"],"
              "\"seen\":true}\n",
    .outcome = "failed:resource:server closed the connection: Server shutting down",
};

static const struct step starttls_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED AUTH=PLAIN] ready\r\n", "A1 STARTTLS\r\n"},
    {"A1 OK Begin TLS negotiation now.\r\n", ""},
    {"<TLS>", "A2 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN IDLE\r\nA2 OK Pre-login capabilities\r\n",
     "A3 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", ""},
    {NULL, NULL},
};

static const struct transcript starttls_auth_failed = {
    .name = "starttls-auth-failed",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = starttls_steps,
    .events = "",
    .outcome = "failed:permanent:authentication failed for user 'alice': Authentication "
               "failed.",
};

/* S3: bytes injected after "OK Begin TLS" in the same segment. */
static const struct step injection_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", "A1 STARTTLS\r\n"},
    {"A1 OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n", ""},
    {NULL, NULL},
};

static const struct transcript starttls_injection = {
    .name = "starttls-injection",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = injection_steps,
    .events = "",
    .outcome = "failed:permanent:server sent data after accepting STARTTLS",
};

/* S1: STARTTLS not offered, or refused: never log in in plaintext. */
static const struct step no_starttls_steps[] = {
    {"* OK ready\r\n", "A1 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA1 OK\r\n", ""},
    {NULL, NULL},
};

static const struct transcript no_starttls = {
    .name = "no-starttls",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = no_starttls_steps,
    .events = "",
    .outcome = "failed:permanent:server does not offer STARTTLS",
};

/* S1: "+" to STARTTLS is no OK either; waiting would only stall. */
static const struct step starttls_continuation_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n", "A1 STARTTLS\r\n"},
    {"+ go ahead\r\n", ""},
    {NULL, NULL},
};

static const struct transcript starttls_continuation = {
    .name = "starttls-continuation",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = starttls_continuation_steps,
    .events = "",
    .outcome = "failed:permanent:server answered STARTTLS with a continuation request",
};

static const struct step starttls_refused_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", "A1 STARTTLS\r\n"},
    {"A1 BAD not now\r\n", ""},
    {NULL, NULL},
};

static const struct transcript starttls_refused = {
    .name = "starttls-refused",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = starttls_refused_steps,
    .events = "",
    .outcome = "failed:permanent:server refused STARTTLS",
};

/* S2/T11: PREAUTH on a connection that still needs STARTTLS. */
static const struct step preauth_steps[] = {
    {"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] welcome\r\n", ""},
    {NULL, NULL},
};

static const struct transcript preauth = {
    .name = "preauth-before-tls",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = preauth_steps,
    .events = "",
    .outcome = "failed:permanent:server greeted with PREAUTH before TLS",
};

/* S5: message data before the selection is ignored; LOGINDISABLED with no
 * AUTH=PLAIN gives up rather than sending LOGIN. */
static const struct step logindisabled_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] ready\r\n* 5 EXISTS\r\n"
     "* 1 FETCH (UID 1 FLAGS ())\r\n",
     ""},
    {NULL, NULL},
};

static const struct transcript logindisabled = {
    .name = "logindisabled",
    .security = CONFIG_SECURITY_TLS,
    .steps = logindisabled_steps,
    .events = "",
    .outcome = "failed:permanent:server disables LOGIN",
};

/* No IDLE: poll with NOOP (L7, C2); a folder that does not exist is an
 * error for the user. */
static const struct step poll_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1] in\r\n", "A2 EXAMINE INBOX\r\n"},
    {"* 0 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA2 OK done\r\n", ""},
    {"<REFRESH>", "A3 NOOP\r\n"},
    {"* 1 EXISTS\r\nA3 OK done\r\n", "A4 UID FETCH 1:*" FETCH_NEW},
    {"* 1 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: hi\r\n\r\n)\r\n"
     "A4 OK done\r\n",
     ""},
    {"<LOGOUT>", "A5 LOGOUT\r\n"},
    {"* BYE bye\r\n", ""},
    {"<CLOSE>", ""},
    {NULL, NULL},
};

static const struct transcript poll = {
    .name = "poll-without-idle",
    .security = CONFIG_SECURITY_TLS,
    .steps = poll_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n"
              "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":3,"
              "\"uid\":4,\"id\":\"work/INBOX/3/4\",\"message_id\":\"\",\"from_name\":\"\","
              "\"from_addr\":\"\",\"subject\":\"hi\",\"date\":0,\"flags\":[],\"seen\":false}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n",
    .outcome = "finished",
};

static const struct step nonexistent_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 IDLE] in\r\n", "A2 EXAMINE INBOX\r\n"},
    {"A2 NO [NONEXISTENT] Mailbox doesn't exist: INBOX\r\n", ""},
    {NULL, NULL},
};

static const struct transcript nonexistent = {
    .name = "nonexistent-folder",
    .security = CONFIG_SECURITY_TLS,
    .steps = nonexistent_steps,
    .events = "",
    .outcome = "failed:permanent:cannot open folder 'INBOX': it does not exist on the server",
};

/* A malformed line is a parse error: the connection is dropped, not us. */
static const struct step garbage_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 IDLE] in\r\n", "A2 EXAMINE INBOX\r\n"},
    {"* 1 FETCH (UID 1 FLAGS (\\Seen)\r\n", ""},
    {NULL, NULL},
};

static const struct transcript garbage = {
    .name = "garbage",
    .security = CONFIG_SECURITY_TLS,
    .steps = garbage_steps,
    .events = "",
    .outcome = "failed:transient:cannot parse the server's response",
};

/* A count the sequence map cannot hold is a protocol violation, not an
 * allocation of 48 GB. */
static const struct step exists_limit_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 IDLE] in\r\n", "A2 EXAMINE INBOX\r\n"},
    {"* 0 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA2 OK done\r\n", "A3 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 10000000 EXISTS\r\n", "DONE\r\n"},
    {"* 4000000000 EXISTS\r\n", ""},
    {NULL, NULL},
};

static const struct transcript exists_limit = {
    .name = "exists-limit",
    .security = CONFIG_SECURITY_TLS,
    .steps = exists_limit_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n",
    .outcome = "failed:transient:server announced 4000000000 messages in folder 'INBOX', more "
               "than the 10000000 imapwatch accepts",
};

/* Check (resync) with QRESYNC: the second selection names the previous
 * UIDVALIDITY and HIGHESTMODSEQ, learns expunges from VANISHED (EARLIER)
 * and the UID list, flag changes from FETCH, and lists no flags (N8). */
static const struct step qresync_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 ENABLE IDLE CONDSTORE QRESYNC ESEARCH] in\r\n",
     "A2 ENABLE QRESYNC\r\n"},
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 EXAMINE INBOX\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [HIGHESTMODSEQ 10] x\r\nA3 OK\r\n",
     "A4 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (4))\r\n* 2 FETCH (UID 2 FLAGS () MODSEQ (5))\r\n"
     "* 3 FETCH (UID 3 FLAGS () MODSEQ (6))\r\nA4 OK\r\n",
     "A5 UID FETCH 2:3" FETCH_NEW},
    {"A5 OK\r\n", "A6 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"<RESYNC>", "DONE\r\n"},
    {"A6 OK\r\n", "A7 EXAMINE INBOX (QRESYNC (7 10))\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* VANISHED (EARLIER) 2\r\n"
     "* 2 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (12))\r\n* OK [HIGHESTMODSEQ 13] x\r\nA7 OK\r\n",
     "A8 UID SEARCH RETURN (ALL) ALL\r\n"},
    {"* ESEARCH (TAG \"A8\") UID ALL 1,3:4\r\nA8 OK\r\n", "A9 UID FETCH 4:*" FETCH_NEW},
    {"* 3 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: hi\r\n\r\n)\r\n"
     "A9 OK\r\n",
     "A10 IDLE\r\n"},
    {NULL, NULL},
};

static const struct transcript qresync = {
    .name = "qresync-resync",
    .security = CONFIG_SECURITY_TLS,
    .steps = qresync_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":2}\n"
              "{\"event\":\"changed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":3,\"id\":\"work/INBOX/7/3\",\"flags\":[\"\\\\Seen\"],\"seen\":true}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":2,\"id\":\"work/INBOX/7/2\"}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n"
              "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":4,\"id\":\"work/INBOX/7/4\",\"message_id\":\"\",\"from_name\":\"\","
              "\"from_addr\":\"\",\"subject\":\"hi\",\"date\":0,\"flags\":[],\"seen\":false}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n",
};

/* The same with CONDSTORE only: CHANGEDSINCE after the UID list (N7). */
static const struct step condstore_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 ENABLE IDLE CONDSTORE ESEARCH] in\r\n",
     "A2 ENABLE CONDSTORE\r\n"},
    {"* ENABLED CONDSTORE\r\nA2 OK\r\n", "A3 EXAMINE INBOX\r\n"},
    {"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [HIGHESTMODSEQ 10] x\r\nA3 OK\r\n",
     "A4 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (4))\r\n* 2 FETCH (UID 2 FLAGS () MODSEQ (5))\r\n"
     "A4 OK\r\n",
     "A5 UID FETCH 2" FETCH_NEW},
    {"A5 OK\r\n", "A6 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"<RESYNC>", "DONE\r\n"},
    {"A6 OK\r\n", "A7 EXAMINE INBOX\r\n"},
    {"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [HIGHESTMODSEQ 12] x\r\nA7 OK\r\n",
     "A8 UID SEARCH RETURN (ALL) ALL\r\n"},
    {"* ESEARCH (TAG \"A8\") UID ALL 2\r\nA8 OK\r\n",
     "A9 UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 10)\r\n"},
    {"* 1 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (12))\r\nA9 OK\r\n", "A10 IDLE\r\n"},
    {NULL, NULL},
};

static const struct transcript condstore = {
    .name = "condstore-resync",
    .security = CONFIG_SECURITY_TLS,
    .steps = condstore_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n"
              "{\"event\":\"changed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":2,\"id\":\"work/INBOX/7/2\",\"flags\":[\"\\\\Seen\"],\"seen\":true}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":1,\"id\":\"work/INBOX/7/1\"}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n",
};

/* Another client deleted and recreated the folder while we idle: Dovecot
 * complains with an untagged NO, the folder is selected again and has a new
 * UIDVALIDITY, which voids the QRESYNC parameters (N8). Its messages are the
 * new baseline: one reset with the counts, no "new" and no "removed" for
 * them (M3, N2); what arrives afterwards is news under the new UIDVALIDITY. */
static const struct step reset_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 ENABLE IDLE CONDSTORE QRESYNC ESEARCH] in\r\n",
     "A2 ENABLE QRESYNC\r\n"},
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 EXAMINE INBOX\r\n"},
    {"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [HIGHESTMODSEQ 10] x\r\nA3 OK\r\n",
     "A4 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (4))\r\n* 2 FETCH (UID 2 FLAGS () MODSEQ (5))\r\n"
     "A4 OK\r\n",
     "A5 UID FETCH 2" FETCH_NEW},
    {"A5 OK\r\n", "A6 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* NO Mailbox INBOX: Internal error occurred\r\n", "DONE\r\n"},
    {"A6 OK\r\n", "A7 EXAMINE INBOX (QRESYNC (7 10))\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 9] x\r\n* OK [UIDNEXT 4] x\r\n* OK [HIGHESTMODSEQ 3] x\r\n"
     "A7 OK\r\n",
     "A8 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 1 FLAGS () MODSEQ (1))\r\n* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (2))\r\n"
     "* 3 FETCH (UID 3 FLAGS () MODSEQ (3))\r\nA8 OK\r\n",
     "A9 UID FETCH 1,3" FETCH_NEW},
    {"A9 OK\r\n", "A10 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 4 EXISTS\r\n", "DONE\r\n"},
    {"A10 OK\r\n", "A11 UID FETCH 4:*" FETCH_NEW},
    {"* 4 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: hi\r\n\r\n)\r\n"
     "A11 OK\r\n",
     "A12 IDLE\r\n"},
    {NULL, NULL},
};

static const struct transcript reset = {
    .name = "uidvalidity-reset",
    .security = CONFIG_SECURITY_TLS,
    .steps = reset_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n"
              "{\"event\":\"reset\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":9,"
              "\"previous_uidvalidity\":7,\"count\":3,\"unseen\":2}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":2}\n"
              "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":9,"
              "\"uid\":4,\"id\":\"work/INBOX/9/4\",\"message_id\":\"\",\"from_name\":\"\","
              "\"from_addr\":\"\",\"subject\":\"hi\",\"date\":0,\"flags\":[],\"seen\":false}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":3}\n",
};

/* The folder was recreated while imapwatch was not running: the stored
 * UIDVALIDITY is the old one. Its stored watermark means nothing now, so
 * the messages above it are not a catch-up flood but the new baseline. */
static const struct step reset_restart_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 IDLE] in\r\n", "A2 EXAMINE INBOX\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 6] x\r\n* OK [UIDNEXT 4] x\r\nA2 OK done\r\n",
     "A3 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n* 2 FETCH (UID 2 FLAGS ())\r\n"
     "* 3 FETCH (UID 3 FLAGS ())\r\nA3 OK done\r\n",
     "A4 UID FETCH 2:3" FETCH_NEW},
    {"A4 OK done\r\n", "A5 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {NULL, NULL},
};

static const struct transcript reset_restart = {
    .name = "uidvalidity-reset-after-restart",
    .security = CONFIG_SECURITY_TLS,
    .steps = reset_restart_steps,
    .restore_uidvalidity = 5,
    .restore_watermark = 1,
    .events = "{\"event\":\"reset\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":6,"
              "\"previous_uidvalidity\":5,\"count\":3,\"unseen\":2}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":2}\n",
};

/* --- limits with generated input --------------------------------------- */

static void feed_str(struct harness *h, const char *data)
{
	imap_session_feed(h->session, data, strlen(data));
}

/* A session idling on a folder of count messages, all seen. */
static struct mailbox *limits_start(struct harness *h, unsigned count)
{
	struct mailbox *mailbox = mailbox_create("work", "INBOX", sink, h);
	struct imap_session_config config = {
	    .account = "work",
	    .security = CONFIG_SECURITY_TLS,
	    .username = "alice",
	    .password = "s3cret pass",
	};

	harness_init(h);
	h->session = imap_session_create(&config, mailbox, &ops, h);
	feed_str(h, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n"
	            "A1 OK [CAPABILITY IMAP4rev1 IDLE] in\r\n");
	g_autofree char *examine =
	    g_strdup_printf("* %u EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA2 OK done\r\n", count);
	feed_str(h, examine);
	if (count > 0) {
		g_assert_true(
		    g_str_has_suffix(h->rec.sent->str, "A3 UID FETCH 1:* (UID FLAGS)\r\n"));
		/* One FETCH a message: more than IMAP_LOGIN_UNTAGGED_LIMIT
		 * responses for one command when the folder is large. */
		g_autoptr(GString) listing = g_string_new(NULL);
		for (unsigned i = 1; i <= count; i++) {
			g_string_append_printf(listing, "* %u FETCH (UID %u FLAGS (\\Seen))\r\n", i,
			                       i);
		}
		g_string_append(listing, "A3 OK done\r\n");
		imap_session_feed(h->session, listing->str, listing->len);
	}
	g_assert_null(h->rec.outcome);
	g_assert_true(g_str_has_suffix(h->rec.sent->str, " IDLE\r\n"));
	feed_str(h, "+ idling\r\n");
	g_assert_cmpint(imap_session_get_phase(h->session), ==, IMAP_SESSION_PHASE_IDLE);
	return mailbox;
}

/* Keepalives one beyond the limit close the connection; the limit itself is
 * accepted. */
static void flood_check(unsigned count, size_t limit)
{
	struct harness h;
	struct mailbox *mailbox = limits_start(&h, count);
	static const char line[] = "* OK still here\r\n";
	g_autoptr(GString) flood = g_string_new(NULL);

	for (size_t i = 0; i < limit; i++) {
		g_string_append(flood, line);
	}
	imap_session_feed(h.session, flood->str, flood->len);
	g_assert_null(h.rec.outcome);
	feed_str(&h, line);
	g_autofree char *expected = g_strdup_printf(
	    "failed:transient:server sent more than %zu responses without completing a command",
	    limit);
	g_assert_nonnull(h.rec.outcome);
	g_assert_true(g_str_has_prefix(h.rec.outcome, expected));
	harness_finish(&h, mailbox);
}

static void test_untagged_flood(void)
{
	flood_check(0, IMAP_LOGIN_UNTAGGED_LIMIT);
}

static void test_untagged_limit_follows_exists(void)
{
	/* The listing of a large folder is not a flood; the limit grows with
	 * the folder. */
	unsigned count = IMAP_LOGIN_UNTAGGED_LIMIT + 50000;

	flood_check(count,
	            IMAP_LOGIN_UNTAGGED_LIMIT + (size_t)count * IMAP_SESSION_UNTAGGED_PER_MESSAGE);
}

/* The tag of the last command the client sent ("A5 UID FETCH ..." → "A5"). */
static char *last_tag(const struct harness *h)
{
	g_auto(GStrv) lines = g_strsplit(h->rec.sent->str, "\r\n", -1);
	guint n = g_strv_length(lines);

	g_assert_cmpuint(n, >=, 2);
	return g_strndup(lines[n - 2], strcspn(lines[n - 2], " "));
}

/* More new messages than one burst: reported in bursts, each fetch starting
 * above the last one reported. */
static void test_new_in_bursts(void)
{
	struct harness h;
	struct mailbox *mailbox = limits_start(&h, 1);
	const unsigned total = MAILBOX_MAX_PENDING + 500;

	g_autofree char *idle_tag = last_tag(&h);
	g_autofree char *exists = g_strdup_printf("* %u EXISTS\r\n", total + 1);
	feed_str(&h, exists);
	g_assert_true(g_str_has_suffix(h.rec.sent->str, "DONE\r\n"));
	g_string_truncate(h.rec.sent, 0);
	g_autofree char *idle_done = g_strdup_printf("%s OK done\r\n", idle_tag);
	feed_str(&h, idle_done);
	g_assert_true(g_str_has_prefix(strchr(h.rec.sent->str, ' '), " UID FETCH 2:* "));

	for (unsigned round = 0; round < 2; round++) {
		g_autofree char *tag = last_tag(&h);
		g_autoptr(GString) reply = g_string_new(NULL);

		for (unsigned uid = total + 1; uid >= 2; uid--) {
			g_string_append_printf(reply,
			                       "* %u FETCH (UID %u FLAGS () BODY[HEADER.FIELDS "
			                       "(SUBJECT)] {14}\r\nSubject: x\r\n\r\n)\r\n",
			                       uid, uid);
		}
		g_string_append_printf(reply, "%s OK done\r\n", tag);
		g_string_truncate(h.rec.sent, 0);
		imap_session_feed(h.session, reply->str, reply->len);
		g_assert_null(h.rec.outcome);
		if (round == 0) {
			g_autofree char *next =
			    g_strdup_printf(" UID FETCH %u:* ", MAILBOX_MAX_PENDING + 2);
			g_assert_true(g_str_has_prefix(strchr(h.rec.sent->str, ' '), next));
		} else {
			g_assert_true(g_str_has_suffix(h.rec.sent->str, " IDLE\r\n"));
		}
	}
	g_assert_cmpuint(mailbox_get_watermark(mailbox), ==, total + 1);
	harness_finish(&h, mailbox);
}

/* SPECIAL-USE (RFC 6154): LIST tells what the folder is for. */
static const struct step special_use_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 IDLE SPECIAL-USE] in\r\n", "A2 LIST \"\" INBOX\r\n"},
    {"* LIST (\\HasNoChildren \\Junk) \"/\" Other\r\n* LIST (\\HasNoChildren \\Junk) \"/\" "
     "INBOX\r\n"
     "A2 OK\r\n",
     "A3 EXAMINE INBOX\r\n"},
    {"* 0 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\nA3 OK\r\n", "A4 IDLE\r\n"},
    {NULL, NULL},
};

static const struct transcript special_use = {
    .name = "special-use",
    .security = CONFIG_SECURITY_TLS,
    .steps = special_use_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n",
    .special_use = "\\Junk",
};

int main(int argc, char **argv)
{
	static const struct transcript *const all[] = {
	    &special_use,
	    &qresync,
	    &condstore,
	    &reset,
	    &reset_restart,
	    &dovecot,
	    &cyrus,
	    &resume,
	    &starttls_auth_failed,
	    &starttls_injection,
	    &no_starttls,
	    &starttls_refused,
	    &starttls_continuation,
	    &exists_limit,
	    &preauth,
	    &logindisabled,
	    &poll,
	    &nonexistent,
	    &garbage,
	};

	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
		g_autofree char *path = g_strdup_printf("/session/%s", all[i]->name);
		g_test_add_data_func(path, all[i], test_transcript);
	}
	g_test_add_func("/session/limits/untagged-flood", test_untagged_flood);
	g_test_add_func("/session/limits/untagged-limit-follows-exists",
	                test_untagged_limit_follows_exists);
	g_test_add_func("/session/limits/new-in-bursts", test_new_in_bursts);
	return g_test_run();
}
