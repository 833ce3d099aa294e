/* SPDX-License-Identifier: MIT */
/*
 * Session transcripts (session-harness.h) of the big providers' habits, as
 * their documentation or their users' public bug reports show them; each
 * transcript names where its quirk comes from. Server texts are the
 * providers' own where a report quotes them; what no report shows (message
 * data, tags, counts) is ours. Each one checks that no message is announced
 * twice or missed, and that the session ends the way that lets the account
 * go on: watching, or failed with the class that decides the retry (A6).
 * The whole daemon meets the same quirks in
 * tests/integration/test_providers.py.
 */
#include "session-harness.h"

#define HDR_NEW                                                                                    \
	"From: Ann <ann@example.org>\r\n"                                                          \
	"Subject: Hello\r\n"                                                                       \
	"Date: Tue, 25 Nov 2025 10:00:00 +0000\r\n"                                                \
	"Message-ID: <m8@example.org>\r\n\r\n"

#define FETCH_NEW_GMAIL                                                                            \
	" (UID FLAGS INTERNALDATE RFC822.SIZE X-GM-MSGID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT "   \
	"DATE MESSAGE-ID)])\r\n"

#define GMAIL_CAPS_PRE                                                                             \
	"IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR "      \
	"AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER"

#define GMAIL_CAPS_POST                                                                            \
	"IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS "            \
	"COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS "    \
	"LITERAL- SPECIAL-USE APPENDLIMIT=35651584"

/* The new message of HDR_NEW, found live (not in a catch-up). */
#define EVENT_NEW(uidvalidity, uid)                                                                \
	"{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\","                            \
	"\"uidvalidity\":" #uidvalidity ",\"uid\":" #uid ",\"id\":\"work/INBOX/" #uidvalidity      \
	"/" #uid "\","                                                                             \
	"\"message_id\":\"<m8@example.org>\",\"from_name\":\"Ann\",\"from_addr\":"                 \
	"\"ann@example.org\",\"subject\":\"Hello\",\"date\":1764064800,\"flags\":[],\"seen\":"     \
	"false}\n"

#define EVENT_UNSEEN(n)                                                                            \
	"{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":" #n "}\n"

/* --- Gmail ------------------------------------------------------------------ */

/*
 * Gmail refuses a login beyond its limit of simultaneous connections per
 * account (15) with
 *   NO [ALERT] Too many simultaneous connections. (Failure)
 * (quoted in zone-eu/wildduck#35, jstedfast/MailKit#377, mordak/runt#1;
 * the limit: Google's help answer 97150 and imapsync/imapsync#61). The
 * [ALERT] code says nothing about the failure's class: the words make it a
 * resource failure (A6, F7), never rejected credentials, which would stop
 * the account until the user acts.
 */
static const struct step gmail_limit_steps[] = {
    {"* OK Gimap ready for requests from 192.0.2.1 a1mb123\r\n", "A1 CAPABILITY\r\n"},
    {"* CAPABILITY " GMAIL_CAPS_PRE "\r\nA1 OK Thats all she wrote! a1mb123\r\n",
     "A2 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A2 NO [ALERT] Too many simultaneous connections. (Failure)\r\n", ""},
    {NULL, NULL},
};

static const struct transcript gmail_limit = {
    .name = "gmail-too-many-connections",
    .security = CONFIG_SECURITY_TLS,
    .steps = gmail_limit_steps,
    .events = "",
    .outcome = "failed:resource:server temporarily refused the login for user 'alice': Too many "
               "simultaneous connections. (Failure)",
};

/*
 * Gmail: CONDSTORE without QRESYNC, [HIGHESTMODSEQ n] without text (P9),
 * and a session ended long before the 29 minutes of RFC 2177 with "* BYE
 * System Error" (FlowCrypt/flowcrypt-android#183). Here it comes in the
 * middle of the fetch of a new message: a BYE is the end of the session,
 * transient, reconnect (P7), and the cut-off fetch reports nothing (N4),
 * so that the reconnect's catch-up reports the message once (the whole
 * daemon: test_providers.py).
 */
static const struct step gmail_bye_steps[] = {
    {"* OK Gimap ready for requests from 192.0.2.1 a1mb123\r\n", "A1 CAPABILITY\r\n"},
    {"* CAPABILITY " GMAIL_CAPS_PRE "\r\nA1 OK Thats all she wrote! a1mb123\r\n",
     "A2 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"* CAPABILITY " GMAIL_CAPS_POST "\r\nA2 OK alice@gmail.com authenticated (Success)\r\n",
     "A3 CAPABILITY\r\n"},
    {"* CAPABILITY " GMAIL_CAPS_POST "\r\nA3 OK Success\r\n",
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
    {"A9 OK Success\r\n", "A10 UID FETCH 8:*" FETCH_NEW_GMAIL},
    {"* 2 FETCH (X-GM-MSGID 1278455344230334865 UID 8 MODSEQ (913) FLAGS () INTERNALDATE "
     "\"25-Nov-2025 10:00:01 +0000\" RFC822.SIZE 321 BODY[HEADER.FIELDS (FROM SUBJECT DATE "
     "MESSAGE-ID)] {116}\r\n" HDR_NEW ")\r\n* BYE System Error\r\n",
     ""},
    {"<CLOSE>", ""},
    {NULL, NULL},
};

static const struct transcript gmail_bye = {
    .name = "gmail-bye-while-fetching",
    .security = CONFIG_SECURITY_TLS,
    .steps = gmail_bye_steps,
    .events = EVENT_UNSEEN(0),
    .outcome = "failed:transient:server closed the connection: System Error",
};

/* --- Microsoft 365 / Outlook.com ---------------------------------------------- */

#define M365_GREETING                                                                              \
	"* OK The Microsoft Exchange IMAP4 service is ready. "                                     \
	"[TQBXADIAUABSADEAMQBDAEEAMAAwADcAMAAuAG4AYQBtAHAAcgBkADEAMQAuAHAAcgBvAGQA]\r\n"

#define M365_CAPS_PRE                                                                              \
	"IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE "  \
	"NAMESPACE LITERAL+"

#define M365_CAPS_POST                                                                             \
	"IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT "                \
	"CLIENTACCESSRULES CLIENTNETWORKPRESENCELOCATION BACKENDAUTHENTICATE CHILDREN IDLE "       \
	"NAMESPACE LITERAL+"

/* Login as Microsoft 365 does it (the capability lists and texts of
 * jstedfast/MailKit#1494 and mscdex/node-imap#523): no CAPABILITY code in
 * the tagged OK, so the client asks; no ENABLE, CONDSTORE or QRESYNC. */
#define M365_LOGIN_STEPS                                                                           \
	{M365_GREETING, "A1 CAPABILITY\r\n"},                                                      \
	    {"* CAPABILITY " M365_CAPS_PRE "\r\nA1 OK CAPABILITY completed.\r\n",                  \
	     "A2 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},                                            \
	    {"A2 OK AUTHENTICATE completed.\r\n", "A3 CAPABILITY\r\n"},                            \
	    {"* CAPABILITY " M365_CAPS_POST "\r\nA3 OK CAPABILITY completed.\r\n",                 \
	     "A4 ID (\"name\" \"imapwatch\" \"version\" \"" IMAPWATCH_VERSION "\")\r\n"},          \
	    {"* ID NIL\r\nA4 OK ID completed.\r\n", "A5 EXAMINE INBOX\r\n"},

/*
 * Microsoft 365 announces new mail before the continuation of IDLE:
 * "* 1521 EXISTS" came before "+ IDLE accepted, awaiting DONE command."
 * (Webklex/php-imap#258; RFC 2177 allows it). The EXISTS is acted on as
 * soon as the "+" comes (I1): DONE at once, one fetch, one event. The
 * selection's replies are those of jstedfast/MailKit#638 (EXISTS and RECENT
 * first, [UNSEEN n]); without CONDSTORE every selection lists all flags
 * (N6).
 */
static const struct step m365_exists_steps[] = {
    M365_LOGIN_STEPS{
        "* 2 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft "
        "$MDNSent)\r\n* OK [PERMANENTFLAGS ()] Permanent flags\r\n"
        "* OK [UNSEEN 2] Is the first unseen message\r\n"
        "* OK [UIDVALIDITY 14] UIDVALIDITY value\r\n"
        "* OK [UIDNEXT 51] The next unique identifier value\r\n"
        "A5 OK [READ-ONLY] EXAMINE completed.\r\n",
        "A6 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 49 FLAGS (\\Seen))\r\n* 2 FETCH (UID 50 FLAGS ())\r\n"
     "A6 OK FETCH completed.\r\n",
     "A7 UID FETCH 50" FETCH_NEW},
    {"* 2 FETCH (UID 50 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {16}\r\nSubject: old\r\n"
     "\r\n)\r\nA7 OK FETCH completed.\r\n",
     "A8 IDLE\r\n"},
    {"* 3 EXISTS\r\n* 1 RECENT\r\n", ""},
    {"+ IDLE accepted, awaiting DONE command.\r\n", "DONE\r\n"},
    {"A8 OK IDLE completed.\r\n", "A9 UID FETCH 51:*" FETCH_NEW},
    {"* 3 FETCH (UID 51 FLAGS () INTERNALDATE \"25-Nov-2025 10:00:01 +0000\" RFC822.SIZE 321 "
     "BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)] {116}\r\n" HDR_NEW
     ")\r\nA9 OK FETCH completed.\r\n",
     "A10 IDLE\r\n"},
    {"+ IDLE accepted, awaiting DONE command.\r\n", ""},
    /* The refresh finds nothing more: no event twice. */
    {"<REFRESH>", "DONE\r\n"},
    {"A10 OK IDLE completed.\r\n", "A11 IDLE\r\n"},
    {"+ IDLE accepted, awaiting DONE command.\r\n", ""},
    {NULL, NULL},
};

static const struct transcript m365_exists = {
    .name = "m365-exists-before-continuation",
    .security = CONFIG_SECURITY_TLS,
    .steps = m365_exists_steps,
    .events = EVENT_UNSEEN(1) EVENT_NEW(14, 51) EVENT_UNSEEN(2),
};

/*
 * Microsoft 365 breaks a session on its side and says so only by refusing
 * what follows the login: "BAD User is authenticated but not connected."
 * (mscdex/node-imap#523 and #689, getmail6/getmail6#214 on EXAMINE,
 * jstedfast/MailKit#1494), then "* BYE Connection closed. 14"
 * (simonrob/email-oauth2-proxy#74). Reported as passing by itself
 * (atc0005/check-mail#183) or after logging in less often: not wrong
 * credentials, not a folder to give up; reconnect with backoff.
 */
static const struct step m365_not_connected_steps[] = {
    M365_LOGIN_STEPS{"A5 BAD User is authenticated but not connected.\r\n", ""},
    {NULL, NULL},
};

static const struct transcript m365_not_connected = {
    .name = "m365-authenticated-but-not-connected",
    .security = CONFIG_SECURITY_TLS,
    .steps = m365_not_connected_steps,
    .events = "",
    .outcome = "failed:transient:",
};

/*
 * Microsoft 365 throttles a busy mailbox: "NO Request is throttled.
 * Suggested Backoff Time: 299961 milliseconds" (imapsync/imapsync#198 and
 * #272, ikvk/imap_tools#135; also as BAD, followed by BYE:
 * simonrob/email-oauth2-proxy#191). "Not now" in words: a resource failure
 * with its long backoff (A6, L5), not a folder in error for good.
 */
static const struct step m365_throttled_steps[] = {
    M365_LOGIN_STEPS{"A5 NO Request is throttled. Suggested Backoff Time: 299961 milliseconds\r\n",
                     ""},
    {NULL, NULL},
};

static const struct transcript m365_throttled = {
    .name = "m365-throttled",
    .security = CONFIG_SECURITY_TLS,
    .steps = m365_throttled_steps,
    .events = "",
    .outcome = "failed:resource:",
};

/* --- Yahoo and AOL ------------------------------------------------------------ */

#define YAHOO_GREETING                                                                             \
	"* OK [CAPABILITY IMAP4rev1 ID NAMESPACE X-ID-ACLID UIDPLUS LITERAL+ CHILDREN "            \
	"XAPPLEPUSHSERVICE XYMHIGHESTMODSEQ AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 AUTH=XYMCOOKIE "    \
	"AUTH=XYMECOOKIE AUTH=XYMCOOKIEB64 AUTH=XYMPKI] IMAP4rev1 imapgate-1.8.1_01.20166 "        \
	"imap1015.mail.gq1.yahoo.com\r\n"

/*
 * Yahoo: no IDLE (jakartaee/mail-api#419, M66B/FairEmail#86; the
 * capability lists of jstedfast/MailKit#221), so the folder is polled with
 * NOOP (C2, L7). No SASL-IR: PLAIN waits for "+" (A2). Yahoo reports
 * [HIGHESTMODSEQ n] on a selection without offering CONDSTORE (its own
 * XYMHIGHESTMODSEQ instead) and refuses CHANGEDSINCE
 * (whiteout-io/imap-client#40): the next selection lists every flag again,
 * and finds nothing to report twice.
 */
static const struct step yahoo_steps[] = {
    {YAHOO_GREETING, "A1 AUTHENTICATE PLAIN\r\n"},
    {"+ \r\n", PLAIN_IR "\r\n"},
    {"A1 OK AUTHENTICATE completed - Mailbox size in bytes is 2624334830\r\n", "A2 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 ID NAMESPACE X-ID-ACLID UIDPLUS LITERAL+ XAPPLEPUSHSERVICE "
     "XYMHIGHESTMODSEQ\r\nA2 OK CAPABILITY completed\r\n",
     "A3 ID (\"name\" \"imapwatch\" \"version\" \"" IMAPWATCH_VERSION "\")\r\n"},
    {"* ID NIL\r\nA3 OK ID completed\r\n", "A4 EXAMINE INBOX\r\n"},
    {"* 1 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1451314312] UIDs valid\r\n"
     "* OK [UIDNEXT 5] Predicted next UID\r\n* FLAGS (\\Answered \\Deleted \\Draft \\Flagged "
     "\\Seen $Forwarded $Junk $NotJunk)\r\n* OK [PERMANENTFLAGS ()] No permanent flags "
     "permitted\r\n* OK [HIGHESTMODSEQ 8234]\r\n"
     "A4 OK [READ-ONLY] EXAMINE completed; now in selected state\r\n",
     "A5 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (FLAGS (\\Seen) UID 4)\r\nA5 OK UID FETCH completed\r\n", ""},
    {"<REFRESH>", "A6 NOOP\r\n"},
    {"* 2 EXISTS\r\nA6 OK NOOP completed\r\n", "A7 UID FETCH 5:*" FETCH_NEW},
    {"* 2 FETCH (UID 5 FLAGS () INTERNALDATE \"25-Nov-2025 10:00:01 +0000\" RFC822.SIZE 321 "
     "BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)] {116}\r\n" HDR_NEW
     ")\r\nA7 OK UID FETCH completed\r\n",
     ""},
    {"<REFRESH>", "A8 NOOP\r\n"},
    {"A8 OK NOOP completed\r\n", ""},
    {"<RESYNC>", "A9 EXAMINE INBOX\r\n"},
    {"* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1451314312] UIDs valid\r\n"
     "* OK [UIDNEXT 6] Predicted next UID\r\n* OK [HIGHESTMODSEQ 8240]\r\n"
     "A9 OK [READ-ONLY] EXAMINE completed; now in selected state\r\n",
     "A10 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (FLAGS (\\Seen) UID 4)\r\n* 2 FETCH (FLAGS () UID 5)\r\n"
     "A10 OK UID FETCH completed\r\n",
     ""},
    {NULL, NULL},
};

static const struct transcript yahoo = {
    .name = "yahoo-polling-without-idle",
    .security = CONFIG_SECURITY_TLS,
    .steps = yahoo_steps,
    .events = EVENT_UNSEEN(0) EVENT_NEW(1451314312, 5) EVENT_UNSEEN(1),
};

/*
 * AOL (Yahoo's servers) ends an IDLE after about 300 seconds
 * (lefcha/imapfilter#311: "after 300 seconds, the enter_idle state
 * fails"; the mail arriving before it is reported again by that client).
 * Here the server ends it with a tagged OK before any DONE, which RFC 2177
 * does not foresee: the session keeps the folder (I9), IDLEs again when
 * its connection says (<REFRESH>; the timing is test_idle_lifetime's),
 * and mail that comes later is reported once.
 */
static const struct step aol_steps[] = {
    {YAHOO_GREETING, "A1 AUTHENTICATE PLAIN\r\n"},
    {"+ \r\n", PLAIN_IR "\r\n"},
    {"A1 OK AUTHENTICATE completed - Mailbox size in bytes is 2624334830\r\n", "A2 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 ID NAMESPACE X-ID-ACLID UIDPLUS LITERAL+ XAPPLEPUSHSERVICE "
     "XYMHIGHESTMODSEQ IDLE\r\nA2 OK CAPABILITY completed\r\n",
     "A3 ID (\"name\" \"imapwatch\" \"version\" \"" IMAPWATCH_VERSION "\")\r\n"},
    {"* ID NIL\r\nA3 OK ID completed\r\n", "A4 EXAMINE INBOX\r\n"},
    {"* 1 EXISTS\r\n* OK [UIDVALIDITY 1451314312] UIDs valid\r\n"
     "* OK [UIDNEXT 5] Predicted next UID\r\nA4 OK [READ-ONLY] EXAMINE completed\r\n",
     "A5 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (FLAGS (\\Seen) UID 4)\r\nA5 OK UID FETCH completed\r\n", "A6 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"A6 OK IDLE completed\r\n", ""},
    {"<REFRESH>", "A7 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 2 EXISTS\r\n", "DONE\r\n"},
    {"A7 OK IDLE completed\r\n", "A8 UID FETCH 5:*" FETCH_NEW},
    {"* 2 FETCH (UID 5 FLAGS () INTERNALDATE \"25-Nov-2025 10:00:01 +0000\" RFC822.SIZE 321 "
     "BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)] {116}\r\n" HDR_NEW
     ")\r\nA8 OK UID FETCH completed\r\n",
     "A9 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {NULL, NULL},
};

static const struct transcript aol = {
    .name = "aol-idle-ended-by-server",
    .security = CONFIG_SECURITY_TLS,
    .steps = aol_steps,
    .events = EVENT_UNSEEN(0) EVENT_NEW(1451314312, 5) EVENT_UNSEEN(1),
};

/* --- iCloud ------------------------------------------------------------------- */

/*
 * iCloud offers CONDSTORE and QRESYNC and answers "ENABLE QRESYNC" with a
 * tagged OK but no untagged ENABLED (nextcloud/mail#3401, whose capability
 * lists these are; jstedfast/MailKit#1871; Foundry376/Mailspring-Sync#91,
 * which turned QRESYNC off for iCloud after malformed VANISHED responses).
 * Only what ENABLED names is on (C3): every selection lists the flags (N6),
 * never EXAMINE with QRESYNC, never CHANGEDSINCE; a Check finds nothing to
 * report twice.
 */
static const struct step icloud_steps[] = {
    {"* OK [CAPABILITY XAPPLEPUSHSERVICE IMAP4 IMAP4rev1 SASL-IR AUTH=ATOKEN AUTH=PLAIN] "
     "(2109B29-d3afe4d5aba6) pv33p00im-iscream021.me.com\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK user alice authenticated\r\n", "A2 CAPABILITY\r\n"},
    {"* CAPABILITY XAPPLEPUSHSERVICE IMAP4 IMAP4rev1 CONDSTORE ENABLE QRESYNC QUOTA NAMESPACE "
     "UIDPLUS CHILDREN BINARY UNSELECT SORT CATENATE URLAUTH LANGUAGE ESEARCH ESORT "
     "THREAD=ORDEREDSUBJECT THREAD=REFERENCES CONTEXT=SEARCH CONTEXT=SORT WITHIN SASL-IR "
     "SEARCHRES METADATA ID XMSEARCH X-SUN-SORT ANNOTATE-EXPERIMENT-1 X-UNAUTHENTICATE "
     "X-SUN-IMAP XUM1 MULTISEARCH IDLE LIST-STATUS\r\nA2 OK Completed\r\n",
     "A3 ID (\"name\" \"imapwatch\" \"version\" \"" IMAPWATCH_VERSION "\")\r\n"},
    {"* ID NIL\r\nA3 OK ID completed\r\n", "A4 ENABLE QRESYNC\r\n"},
    {"A4 OK ENABLE completed\r\n", "A5 EXAMINE INBOX\r\n"},
    {"* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n"
     "* OK [UIDNEXT 11] Predicted next UID\r\n* OK [HIGHESTMODSEQ 200] Highest\r\n"
     "A5 OK [READ-ONLY] EXAMINE completed (took 5 ms)\r\n",
     "A6 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 9 FLAGS (\\Seen))\r\n* 2 FETCH (UID 10 FLAGS (\\Seen))\r\n"
     "A6 OK FETCH completed (took 1 ms)\r\n",
     "A7 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 3 EXISTS\r\n", "DONE\r\n"},
    {"A7 OK IDLE terminated\r\n", "A8 UID FETCH 11:*" FETCH_NEW},
    {"* 3 FETCH (UID 11 FLAGS () INTERNALDATE \"25-Nov-2025 10:00:01 +0000\" RFC822.SIZE 321 "
     "BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)] {116}\r\n" HDR_NEW
     ")\r\nA8 OK FETCH completed (took 2 ms)\r\n",
     "A9 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"<RESYNC>", "DONE\r\n"},
    {"A9 OK IDLE terminated\r\n", "A10 EXAMINE INBOX\r\n"},
    {"* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n"
     "* OK [UIDNEXT 12] Predicted next UID\r\n* OK [HIGHESTMODSEQ 203] Highest\r\n"
     "A10 OK [READ-ONLY] EXAMINE completed (took 5 ms)\r\n",
     "A11 UID FETCH 1:* (UID FLAGS)\r\n"},
    {"* 1 FETCH (UID 9 FLAGS (\\Seen))\r\n* 2 FETCH (UID 10 FLAGS (\\Seen))\r\n"
     "* 3 FETCH (UID 11 FLAGS ())\r\nA11 OK FETCH completed (took 1 ms)\r\n",
     "A12 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {NULL, NULL},
};

static const struct transcript icloud = {
    .name = "icloud-enable-without-enabled",
    .security = CONFIG_SECURITY_TLS,
    .steps = icloud_steps,
    .events = EVENT_UNSEEN(0) EVENT_NEW(1, 11) EVENT_UNSEEN(1),
};

/* --- Fastmail ----------------------------------------------------------------- */

/*
 * Fastmail runs Cyrus IMAP (Fastmail's blog, "IMAP upgrade - new features",
 * 2004): QRESYNC and ESEARCH, so the folder is kept as UID sets (N11), and
 * VANISHED ranges may name UIDs the folder never held (N9: Cyrus sends 1:7
 * for 1, 2, 3, 6 and 7). Here 3:9 while the folder holds 1, 2, 3, 6 and 9:
 * three removed, each once; 4, 5, 7 and 8 cost nothing; the mail after it
 * is new once.
 */
static const struct step fastmail_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE AUTH=PLAIN SASL-IR] imap.fastmail.com "
     "Cyrus IMAP server ready\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE NAMESPACE UIDPLUS UNSELECT CHILDREN "
     "CONDSTORE ESEARCH QRESYNC MOVE IDLE] Success (tls protection)\r\n",
     "A2 ID (\"name\" \"imapwatch\" \"version\" \"" IMAPWATCH_VERSION "\")\r\n"},
    {"* ID (\"name\" \"Cyrus IMAPD\")\r\nA2 OK Completed\r\n", "A3 ENABLE QRESYNC\r\n"},
    {"* ENABLED QRESYNC\r\nA3 OK Completed\r\n", "A4 EXAMINE INBOX\r\n"},
    {"* 5 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1700000003] Ok\r\n"
     "* OK [UIDNEXT 10] Ok\r\n* OK [HIGHESTMODSEQ 40] Ok\r\nA4 OK [READ-ONLY] Completed\r\n",
     "A5 UID SEARCH RETURN (ALL) ALL\r\n"},
    {"* ESEARCH (TAG \"A5\") UID ALL 1:3,6,9\r\nA5 OK Completed\r\n",
     "A6 UID SEARCH RETURN (ALL) UNSEEN\r\n"},
    {"* ESEARCH (TAG \"A6\") UID\r\nA6 OK Completed\r\n", "A7 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* VANISHED 3:9\r\n", ""},
    {"* 3 EXISTS\r\n", "DONE\r\n"},
    {"A7 OK Completed\r\n", "A8 UID FETCH 10:*" FETCH_NEW},
    {"* 3 FETCH (UID 10 MODSEQ (44) FLAGS () INTERNALDATE \"25-Nov-2025 10:00:01 +0000\" "
     "RFC822.SIZE 321 BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)] {116}\r\n" HDR_NEW
     ")\r\nA8 OK Completed\r\n",
     "A9 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {NULL, NULL},
};

#define FASTMAIL_REMOVED(uid)                                                                      \
	"{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":"        \
	"1700000003,\"uid\":" #uid ",\"id\":\"work/INBOX/1700000003/" #uid "\"}\n"

static const struct transcript fastmail = {
    .name = "fastmail-vanished-wider-than-the-folder",
    .security = CONFIG_SECURITY_TLS,
    .steps = fastmail_steps,
    .events = EVENT_UNSEEN(0) FASTMAIL_REMOVED(3) FASTMAIL_REMOVED(6) FASTMAIL_REMOVED(9)
        EVENT_NEW(1700000003, 10) EVENT_UNSEEN(1),
};

int main(int argc, char **argv)
{
	static const struct transcript *const all[] = {
	    &gmail_limit, &gmail_bye, &m365_exists,        &yahoo,          &aol,
	    &icloud,      &fastmail,  &m365_not_connected, &m365_throttled,
	};

	g_test_init(&argc, &argv, NULL);
	session_add_transcripts(all, G_N_ELEMENTS(all));
	return g_test_run();
}
