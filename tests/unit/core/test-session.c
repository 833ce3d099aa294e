/* SPDX-License-Identifier: MIT */
/*
 * Transcript tests for the session state machine watching a folder (the
 * transcripts and their harness: session-harness.h): login, selection,
 * IDLE and polling, new, changed and removed messages, a restored state,
 * special use, and the ways a session ends. The STARTTLS and login
 * failures, resynchronisation and the limits have their own programs.
 */
#include "session-harness.h"

#define HDR1                                                                                       \
	"From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>\r\n"                                      \
	"Subject: Hello\r\n"                                                                       \
	"Date: Tue, 25 Nov 2025 10:00:00 +0000\r\n"                                                \
	"Message-ID: <m3@example.org>\r\n\r\n"

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
/* No IDLE: poll with NOOP (L7, C2); a folder that does not exist is an
 * error for the user. */
static const struct step poll_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1] in\r\n", "A2 EXAMINE INBOX\r\n"},
    {"* 0 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA2 OK done\r\n", ""},
    /* Polling an empty folder selects it again (H8); NOOP otherwise. */
    {"<REFRESH>", "A3 EXAMINE INBOX\r\n"},
    {"* 0 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA3 OK done\r\n", ""},
    {"<REFRESH>", "A4 EXAMINE INBOX\r\n"},
    {"* 1 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA4 OK done\r\n", "A5 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 4 FLAGS ())\r\nA5 OK done\r\n", "A6 UID FETCH 1:*" FETCH_NEW},
    {"* 1 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: hi\r\n\r\n)\r\n"
     "A6 OK done\r\n",
     ""},
    {"<REFRESH>", "A7 NOOP\r\n"},
    {"A7 OK done\r\n", ""},
    {"<LOGOUT>", "A8 LOGOUT\r\n"},
    {"* BYE bye\r\n", ""},
    {"<CLOSE>", ""},
    {NULL, NULL},
};

static const struct transcript poll = {
    .name = "poll-without-idle",
    .security = CONFIG_SECURITY_TLS,
    .steps = poll_steps,
    /* Selected again, the folder's count comes before the new message's
     * header is fetched. */
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n"
              "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":3,"
              "\"uid\":4,\"id\":\"work/INBOX/3/4\",\"message_id\":\"\",\"from_name\":\"\","
              "\"from_addr\":\"\",\"subject\":\"hi\",\"date\":0,\"flags\":[],\"seen\":false}\n",
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

/* Gmail (as its capabilities and replies go): CONDSTORE without QRESYNC,
 * [HIGHESTMODSEQ] without text (P9), labels as folders: a new message's
 * X-GM-MSGID is fetched with it, so a message under several labels pops up
 * once (N5). */
static const struct step gmail_steps[] = {
    {"* OK Gimap ready for requests from 192.0.2.1 a1mb123\r\n", "A1 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 "
     "XYZZY SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER\r\n"
     "A1 OK Thats all she wrote! a1mb123\r\n",
     "A2 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"* CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 "
     "UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED "
     "LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584\r\n"
     "A2 OK alice@gmail.com authenticated (Success)\r\n",
     "A3 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 "
     "UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED "
     "LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584\r\nA3 OK Success\r\n",
     "A4 ID (\"name\" \"imapwatch\" \"version\" \"" IMAPWATCH_VERSION "\")\r\n"},
    {"* ID (\"name\" \"GImap\" \"vendor\" \"Google, Inc.\")\r\nA4 OK Success\r\n",
     "A5 ENABLE CONDSTORE\r\n"},
    {"* ENABLED CONDSTORE\r\nA5 OK Success\r\n", "A6 LIST \"\" INBOX\r\n"},
    {"* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\nA6 OK Success\r\n", "A7 EXAMINE INBOX\r\n"},
    {"* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing)\r\n"
     "* OK [PERMANENTFLAGS ()] Flags permitted.\r\n"
     "* OK [UIDVALIDITY 3] UIDs valid.\r\n* 1 EXISTS\r\n* 0 RECENT\r\n"
     "* OK [UIDNEXT 8] Predicted next UID.\r\n* OK [HIGHESTMODSEQ 912]\r\n"
     "A7 OK [READ-ONLY] INBOX selected. (Success)\r\n",
     "A8 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 7 MODSEQ (900) FLAGS (\\Seen))\r\nA8 OK Success\r\n", "A9 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 2 EXISTS\r\n", "DONE\r\n"},
    {"A9 OK Success\r\n",
     "A10 UID FETCH 8:* (UID FLAGS INTERNALDATE RFC822.SIZE X-GM-MSGID BODY.PEEK[HEADER.FIELDS "
     "(FROM SUBJECT DATE MESSAGE-ID)])\r\n"},
    {"* 2 FETCH (X-GM-MSGID 1278455344230334865 UID 8 MODSEQ (913) FLAGS () INTERNALDATE "
     "\"25-Nov-2025 10:00:01 +0000\" RFC822.SIZE 321 BODY[HEADER.FIELDS (FROM SUBJECT DATE "
     "MESSAGE-ID)] {136}\r\n" HDR1 ")\r\nA10 OK Success\r\n",
     "A11 IDLE\r\n"},
    {NULL, NULL},
};

static const struct transcript gmail = {
    .name = "gmail",
    .security = CONFIG_SECURITY_TLS,
    .steps = gmail_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n"
              "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":3,"
              "\"uid\":8,\"id\":\"work/INBOX/3/8\",\"message_id\":\"<m3@example.org>\","
              "\"from_name\":\"Jörg\",\"from_addr\":\"joerg@example.org\",\"subject\":"
              "\"Hello\",\"date\":1764064800,\"gm_msgid\":\"1278455344230334865\",\"flags\":[],"
              "\"seen\":false}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n",
};

/* Cyrus, when another client deletes the selected folder and creates it
 * again: every message is reported gone with a VANISHED range wider than
 * what the folder held (N9: taken for what it held), the dead selection
 * keeps answering OK, and only selecting it again shows the new folder
 * (H8): a reset. */
static const struct step cyrus_recreated_steps[] = {
    {"* OK server ready\r\n", "A1 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN SASL-IR ENABLE QRESYNC CONDSTORE\r\n"
     "A1 OK Completed\r\n",
     "A2 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A2 OK [CAPABILITY IMAP4rev1 IDLE ENABLE QRESYNC CONDSTORE] Success\r\n",
     "A3 ENABLE QRESYNC\r\n"},
    {"* ENABLED QRESYNC\r\nA3 OK Completed\r\n", "A4 EXAMINE INBOX\r\n"},
    {"* 5 EXISTS\r\n* OK [UIDVALIDITY 77] Ok\r\n* OK [UIDNEXT 8] Ok\r\n"
     "* OK [HIGHESTMODSEQ 20] Ok\r\nA4 OK [READ-ONLY] Completed\r\n",
     "A5 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 1 MODSEQ (3) FLAGS (\\Seen))\r\n* 2 FETCH (UID 2 MODSEQ (4) FLAGS "
     "(\\Seen))\r\n* 3 FETCH (UID 3 MODSEQ (5) FLAGS (\\Seen))\r\n* 4 FETCH (UID 6 MODSEQ "
     "(6) FLAGS (\\Seen))\r\n* 5 FETCH (UID 7 MODSEQ (7) FLAGS (\\Seen))\r\n"
     "A5 OK Completed\r\n",
     "A6 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* VANISHED 1:7\r\n", "DONE\r\n"},
    {"A6 OK Completed\r\n", "A7 EXAMINE INBOX\r\n"},
    {"* 1 EXISTS\r\n* OK [UIDVALIDITY 78] Ok\r\n* OK [UIDNEXT 2] Ok\r\n"
     "* OK [HIGHESTMODSEQ 2] Ok\r\nA7 OK [READ-ONLY] Completed\r\n",
     "A8 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 1 MODSEQ (2) FLAGS ())\r\nA8 OK Completed\r\n", "A9 UID FETCH 1" FETCH_NEW},
    {"A9 OK done\r\n", "A10 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {NULL, NULL},
};

static const struct transcript cyrus_recreated = {
    .name = "cyrus-recreated-folder",
    .security = CONFIG_SECURITY_TLS,
    .steps = cyrus_recreated_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":77,"
              "\"uid\":1,\"id\":\"work/INBOX/77/1\"}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":77,"
              "\"uid\":2,\"id\":\"work/INBOX/77/2\"}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":77,"
              "\"uid\":3,\"id\":\"work/INBOX/77/3\"}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":77,"
              "\"uid\":6,\"id\":\"work/INBOX/77/6\"}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":77,"
              "\"uid\":7,\"id\":\"work/INBOX/77/7\"}\n"
              "{\"event\":\"reset\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":78,"
              "\"previous_uidvalidity\":77,\"count\":1,\"unseen\":1}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n",
};

int main(int argc, char **argv)
{
	static const struct transcript *const all[] = {
	    &special_use, &dovecot, &cyrus, &resume,          &poll,
	    &nonexistent, &garbage, &gmail, &cyrus_recreated,
	};

	g_test_init(&argc, &argv, NULL);
	session_add_transcripts(all, G_N_ELEMENTS(all));
	return g_test_run();
}
