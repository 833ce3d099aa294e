/* SPDX-License-Identifier: MIT */
/*
 * Session transcripts (session-harness.h) of a folder selected again:
 * incremental resynchronisation with QRESYNC (compact mode) and with
 * CONDSTORE, a resumption after a restart, and a new UIDVALIDITY, found live
 * or after a restart.
 */
#include "session-harness.h"

/* Check (resync) with QRESYNC and ESEARCH: compact mode (N11). The first
 * selection fills the UID sets by search; the second names the previous
 * UIDVALIDITY and HIGHESTMODSEQ (N8), takes the flag changes from FETCH,
 * finds what went by the UID list, checks the unseen set by its count, and
 * reports the changes when the selection completes. */
static const struct step qresync_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 ENABLE IDLE CONDSTORE QRESYNC ESEARCH] in\r\n",
     "A2 ENABLE QRESYNC\r\n"},
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 EXAMINE INBOX\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [HIGHESTMODSEQ 10] x\r\nA3 OK\r\n",
     "A4 UID SEARCH RETURN (ALL) ALL\r\n"},
    {"* ESEARCH (TAG \"A4\") UID ALL 1:3\r\nA4 OK\r\n", "A5 UID SEARCH RETURN (ALL) UNSEEN\r\n"},
    {"* ESEARCH (TAG \"A5\") UID ALL 2:3\r\nA5 OK\r\n", "A6 UID FETCH 2:3" FETCH_NEW},
    {"A6 OK\r\n", "A7 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"<RESYNC>", "DONE\r\n"},
    {"A7 OK\r\n", "A8 EXAMINE INBOX (QRESYNC (7 10))\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* VANISHED (EARLIER) 2\r\n"
     "* 2 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (12))\r\n* OK [HIGHESTMODSEQ 13] x\r\nA8 OK\r\n",
     "A9 UID SEARCH RETURN (ALL) UID 1:3\r\n"},
    {"* ESEARCH (TAG \"A9\") UID ALL 1,3\r\nA9 OK\r\n",
     "A10 UID SEARCH RETURN (COUNT) UID 1:3 UNSEEN\r\n"},
    {"* ESEARCH (TAG \"A10\") UID COUNT 0\r\nA10 OK\r\n", "A11 UID FETCH 4:*" FETCH_NEW},
    {"* 3 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: hi\r\n\r\n)\r\n"
     "A11 OK\r\n",
     "A12 IDLE\r\n"},
    /* Unasked FETCH while idling: a change, and the mod-sequence it
     * brings; our own fetch of details repeats flags without a change. */
    {"+ idling\r\n* 1 FETCH (UID 1 FLAGS (\\Seen \\Flagged) MODSEQ (14))\r\n", ""},
    {"* 1 VANISHED 4\r\n", ""},
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
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":1}\n"
              "{\"event\":\"changed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":1,\"id\":\"work/INBOX/7/1\",\"flags\":[\"\\\\Seen\",\"\\\\Flagged\"],"
              "\"seen\":true}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":4,\"id\":\"work/INBOX/7/4\"}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n",
};

/* After a restart with the sets saved: the selection resumes from the
 * saved mod-sequence, and a count that disagrees with the saved unseen set
 * (a change the server did not report, or a set saved wrong) brings the
 * whole set (N11). */
static const struct step resume_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 ENABLE IDLE CONDSTORE QRESYNC ESEARCH] in\r\n",
     "A2 ENABLE QRESYNC\r\n"},
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 EXAMINE INBOX (QRESYNC (7 20))\r\n"},
    {"* 5 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [HIGHESTMODSEQ 25] x\r\n"
     "* 4 FETCH (UID 9 FLAGS () MODSEQ (22))\r\nA3 OK\r\n",
     "A4 UID SEARCH RETURN (ALL) UID 1:9\r\n"},
    {"* ESEARCH (TAG \"A4\") UID ALL 1:3,9\r\nA4 OK\r\n",
     "A5 UID SEARCH RETURN (COUNT) UID 1:9 UNSEEN\r\n"},
    {"* ESEARCH (TAG \"A5\") UID COUNT 3\r\nA5 OK\r\n",
     "A6 UID SEARCH RETURN (ALL) UID 1:9 UNSEEN\r\n"},
    {"* ESEARCH (TAG \"A6\") UID ALL 2:3,9\r\nA6 OK\r\n", "A7 UID FETCH 10:*" FETCH_NEW},
    {"* 5 FETCH (UID 10 FLAGS () BODY[HEADER.FIELDS (SUBJECT)] {15}\r\nSubject: hi\r\n\r\n)\r\n"
     "A7 OK\r\n",
     "A8 UID FETCH 2:3,9" FETCH_NEW},
    {NULL, NULL},
};

static const struct transcript resume = {
    .name = "qresync-resume-after-restart",
    .security = CONFIG_SECURITY_TLS,
    .steps = resume_steps,
    .restore_uidvalidity = 7,
    .restore_watermark = 9,
    .restore_modseq = 20,
    .restore_all = "1:3,5,9",
    .restore_unseen = "3",
    .events = "{\"event\":\"changed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":9,\"id\":\"work/INBOX/7/9\",\"flags\":[],\"seen\":false}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":5,\"id\":\"work/INBOX/7/5\"}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":3}\n"
              "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":10,\"id\":\"work/INBOX/7/10\",\"message_id\":\"\",\"from_name\":\"\","
              "\"from_addr\":\"\",\"subject\":\"hi\",\"date\":0,\"catchup\":true,"
              "\"flags\":[],\"seen\":false}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":4}\n",
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
     "A4 UID SEARCH RETURN (ALL) ALL\r\n"},
    {"* ESEARCH (TAG \"A4\") UID ALL 1:2\r\nA4 OK\r\n", "A5 UID SEARCH RETURN (ALL) UNSEEN\r\n"},
    {"* ESEARCH (TAG \"A5\") UID ALL 2\r\nA5 OK\r\n", "A6 UID FETCH 2" FETCH_NEW},
    {"A6 OK\r\n", "A7 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* NO Mailbox INBOX: Internal error occurred\r\n", "DONE\r\n"},
    {"A7 OK\r\n", "A8 EXAMINE INBOX (QRESYNC (7 10))\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 9] x\r\n* OK [UIDNEXT 4] x\r\n* OK [HIGHESTMODSEQ 3] x\r\n"
     "A8 OK\r\n",
     "A9 UID SEARCH RETURN (ALL) ALL\r\n"},
    {"* ESEARCH (TAG \"A9\") UID ALL 1:3\r\nA9 OK\r\n", "A10 UID SEARCH RETURN (ALL) UNSEEN\r\n"},
    {"* ESEARCH (TAG \"A10\") UID ALL 1,3\r\nA10 OK\r\n", "A11 UID FETCH 1,3" FETCH_NEW},
    {"A11 OK\r\n", "A12 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 4 EXISTS\r\n", "DONE\r\n"},
    {"A12 OK\r\n", "A13 UID FETCH 4:*" FETCH_NEW},
    {"* 4 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: hi\r\n\r\n)\r\n"
     "A13 OK\r\n",
     "A14 IDLE\r\n"},
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

/* After a restart on a server with CONDSTORE and ESEARCH but no QRESYNC
 * (Gmail): the saved sets become a map whose \Seen flags are known, so the
 * selection resumes with CHANGEDSINCE from the saved mod-sequence (N1, N7):
 * 3 read elsewhere, 4 flagged (a change after the saved mod-sequence, its
 * \Seen as before), 2 gone, 6 new while away; no listing of every flag. */
static const struct step condstore_resume_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 ENABLE IDLE CONDSTORE ESEARCH] in\r\n",
     "A2 ENABLE CONDSTORE\r\n"},
    {"* ENABLED CONDSTORE\r\nA2 OK\r\n", "A3 EXAMINE INBOX\r\n"},
    {"* 4 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [HIGHESTMODSEQ 30] x\r\nA3 OK\r\n",
     "A4 UID SEARCH RETURN (ALL) ALL\r\n"},
    {"* ESEARCH (TAG \"A4\") UID ALL 1,3:4,6\r\nA4 OK\r\n",
     "A5 UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 20)\r\n"},
    {"* 2 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (25))\r\n"
     "* 3 FETCH (UID 4 FLAGS (\\Flagged) MODSEQ (26))\r\n"
     "* 4 FETCH (UID 6 FLAGS () MODSEQ (29))\r\nA5 OK\r\n",
     "A6 UID FETCH 6:*" FETCH_NEW},
    {"* 4 FETCH (UID 6 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: hi\r\n\r\n)\r\n"
     "A6 OK\r\n",
     "A7 UID FETCH 4" FETCH_NEW},
    {"* 3 FETCH (UID 4 FLAGS (\\Flagged) BODY[HEADER.FIELDS (FROM SUBJECT)] {16}\r\n"
     "Subject: old\r\n\r\n)\r\nA7 OK\r\n",
     "A8 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {NULL, NULL},
};

static const struct transcript condstore_resume = {
    .name = "condstore-resume-after-restart",
    .security = CONFIG_SECURITY_TLS,
    .steps = condstore_resume_steps,
    .restore_uidvalidity = 7,
    .restore_watermark = 5,
    .restore_modseq = 20,
    .restore_all = "1:4",
    .restore_unseen = "3:4",
    .events = "{\"event\":\"changed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":3,\"id\":\"work/INBOX/7/3\",\"flags\":[\"\\\\Seen\"],\"seen\":true}\n"
              "{\"event\":\"changed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":4,\"id\":\"work/INBOX/7/4\",\"flags\":[\"\\\\Flagged\"],\"seen\":false}\n"
              "{\"event\":\"removed\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":2,\"id\":\"work/INBOX/7/2\"}\n"
              "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":2}\n"
              "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":6,\"id\":\"work/INBOX/7/6\",\"message_id\":\"\",\"from_name\":\"\","
              "\"from_addr\":\"\",\"subject\":\"hi\",\"date\":0,\"catchup\":true,\"flags\":[],"
              "\"seen\":false}\n",
};

/* A burst bigger than one round of MAILBOX_MAX_PENDING (1000): the UIDs
 * above the watermark come from a search, and the headers in rounds that
 * each name only messages not fetched before (N3), not "UID FETCH w:*"
 * again and again. Fewer messages answered than asked, some gone under
 * way: the next round starts from what is left. */
static const struct step burst_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 ENABLE IDLE CONDSTORE QRESYNC ESEARCH] in\r\n",
     "A2 ENABLE QRESYNC\r\n"},
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 EXAMINE INBOX\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [HIGHESTMODSEQ 10] x\r\nA3 OK\r\n",
     "A4 UID SEARCH RETURN (ALL) ALL\r\n"},
    {"* ESEARCH (TAG \"A4\") UID ALL 1:3\r\nA4 OK\r\n", "A5 UID SEARCH RETURN (ALL) UNSEEN\r\n"},
    {"* ESEARCH (TAG \"A5\") UID ALL\r\nA5 OK\r\n", "A6 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 1503 EXISTS\r\n", "DONE\r\n"},
    {"A6 OK\r\n", "A7 UID SEARCH RETURN (ALL) UID 4:*\r\n"},
    {"* ESEARCH (TAG \"A7\") UID ALL 4:1500,2001:2006\r\nA7 OK\r\n",
     "A8 UID FETCH 4:1003" FETCH_NEW},
    {"* 4 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: a4\r\n\r\n)\r\n"
     "* 5 FETCH (UID 5 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: a5\r\n\r\n)\r\n"
     "A8 OK\r\n",
     "A9 UID SEARCH RETURN (ALL) UID 6:*\r\n"},
    {"* VANISHED 7:1500,2001:2004\r\n* ESEARCH (TAG \"A9\") UID ALL 6,2005:2006\r\nA9 OK\r\n",
     "A10 UID FETCH 6,2005:2006" FETCH_NEW},
    {"* 6 FETCH (UID 6 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: a6\r\n\r\n)\r\n"
     "* 7 FETCH (UID 2005 FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\n"
     "Subject: a7\r\n\r\n)\r\n"
     "* 8 FETCH (UID 2006 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: "
     "a8\r\n\r\n)\r\n"
     "A10 OK\r\n",
     "A11 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {NULL, NULL},
};

#define BURST_UNSEEN(n)                                                                            \
	"{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":" #n "}\n"
#define BURST_NEW(uid, subject, flags, seen)                                                       \
	"{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"          \
	"\"uid\":" #uid ",\"id\":\"work/INBOX/7/" #uid                                             \
	"\",\"message_id\":\"\",\"from_name\":\"\","                                               \
	"\"from_addr\":\"\",\"subject\":\"" subject "\",\"date\":0,\"flags\":[" flags              \
	"],\"seen\":" seen "}\n"

static const char burst_events[] = BURST_UNSEEN(0) /* the baseline */
    BURST_NEW(4, "a4", "", "false")                /* round one */
    BURST_NEW(5, "a5", "", "false")                /* answered short */
    BURST_UNSEEN(2)                                /* its count */
    BURST_NEW(6, "a6", "", "false")                /* round two */
    BURST_NEW(2005, "a7", "\"\\\\Seen\"", "true")  /* read elsewhere already */
    BURST_NEW(2006, "a8", "", "false")             /* the last one */
    BURST_UNSEEN(4);                               /* the count after it */

static const struct transcript burst = {
    .name = "burst-in-rounds",
    .security = CONFIG_SECURITY_TLS,
    .steps = burst_steps,
    .events = burst_events,
};

/* An unasked FETCH of flags of a later message of the burst (RFC 7162
 * allows one for any message announced) comes during a round: it is not
 * reported with the round, or the watermark would pass every message
 * between (N3); it comes in its own round. */
static const struct step burst_unasked_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 ENABLE IDLE CONDSTORE QRESYNC ESEARCH] in\r\n",
     "A2 ENABLE QRESYNC\r\n"},
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 EXAMINE INBOX\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [HIGHESTMODSEQ 10] x\r\nA3 OK\r\n",
     "A4 UID SEARCH RETURN (ALL) ALL\r\n"},
    {"* ESEARCH (TAG \"A4\") UID ALL 1:3\r\nA4 OK\r\n", "A5 UID SEARCH RETURN (ALL) UNSEEN\r\n"},
    {"* ESEARCH (TAG \"A5\") UID ALL\r\nA5 OK\r\n", "A6 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 1503 EXISTS\r\n", "DONE\r\n"},
    {"A6 OK\r\n", "A7 UID SEARCH RETURN (ALL) UID 4:*\r\n"},
    {"* ESEARCH (TAG \"A7\") UID ALL 4:1500,2001:2006\r\nA7 OK\r\n",
     "A8 UID FETCH 4:1003" FETCH_NEW},
    {"* 1503 FETCH (UID 2006 FLAGS (\\Seen) MODSEQ (20))\r\n"
     "* 4 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: a4\r\n\r\n)\r\n"
     "A8 OK\r\n",
     "A9 UID SEARCH RETURN (ALL) UID 5:*\r\n"},
    {NULL, NULL},
};

static const struct transcript burst_unasked = {
    .name = "burst-unasked-fetch",
    .security = CONFIG_SECURITY_TLS,
    .steps = burst_unasked_steps,
    .events = BURST_UNSEEN(0) BURST_NEW(4, "a4", "", "false") BURST_UNSEEN(1),
};

/* A message reported as new since the last selection comes back in the
 * QRESYNC resync (its mod-sequence is newer than the one resumed from)
 * with the flags it was reported with: no change. One whose flags did
 * change meanwhile is one. */
static const struct step new_since_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 ENABLE IDLE CONDSTORE QRESYNC ESEARCH] in\r\n",
     "A2 ENABLE QRESYNC\r\n"},
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 EXAMINE INBOX\r\n"},
    {"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [HIGHESTMODSEQ 10] x\r\nA3 OK\r\n",
     "A4 UID SEARCH RETURN (ALL) ALL\r\n"},
    {"* ESEARCH (TAG \"A4\") UID ALL 1\r\nA4 OK\r\n", "A5 UID SEARCH RETURN (ALL) UNSEEN\r\n"},
    {"* ESEARCH (TAG \"A5\") UID ALL\r\nA5 OK\r\n", "A6 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 3 EXISTS\r\n", "DONE\r\n"},
    {"A6 OK\r\n", "A7 UID FETCH 2:*" FETCH_NEW},
    {"* 2 FETCH (UID 2 FLAGS () MODSEQ (11) BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\n"
     "Subject: a2\r\n\r\n)\r\n"
     "* 3 FETCH (UID 3 FLAGS () MODSEQ (12) BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\n"
     "Subject: a3\r\n\r\n)\r\nA7 OK\r\n",
     "A8 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"<RESYNC>", "DONE\r\n"},
    {"A8 OK\r\n", "A9 EXAMINE INBOX (QRESYNC (7 10))\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* 2 FETCH (UID 2 FLAGS () MODSEQ (11))\r\n"
     "* 3 FETCH (UID 3 FLAGS ($Important) MODSEQ (13))\r\n* OK [HIGHESTMODSEQ 13] x\r\n"
     "A9 OK\r\n",
     "A10 UID SEARCH RETURN (ALL) UID 1:3\r\n"},
    {"* ESEARCH (TAG \"A10\") UID ALL 1:3\r\nA10 OK\r\n",
     "A11 UID SEARCH RETURN (COUNT) UID 1:3 UNSEEN\r\n"},
    {"* ESEARCH (TAG \"A11\") UID COUNT 2\r\nA11 OK\r\n", "A12 IDLE\r\n"},
    {NULL, NULL},
};

static const struct transcript new_since = {
    .name = "qresync-new-since-is-no-change",
    .security = CONFIG_SECURITY_TLS,
    .steps = new_since_steps,
    .events =
        "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n" BURST_NEW(
            2, "a2", "", "false")
            BURST_NEW(3, "a3", "", "false") "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":"
                                            "\"INBOX\",\"count\":2}\n"
                                            "{\"event\":\"changed\",\"account\":\"work\","
                                            "\"folder\":\"INBOX\",\"uidvalidity\":7,"
                                            "\"uid\":3,\"id\":\"work/INBOX/7/"
                                            "3\",\"flags\":[\"$Important\"],\"seen\":false}\n",
};

int main(int argc, char **argv)
{
	static const struct transcript *const all[] = {
	    &qresync, &new_since,     &resume, &condstore,     &condstore_resume,
	    &reset,   &reset_restart, &burst,  &burst_unasked,
	};

	g_test_init(&argc, &argv, NULL);
	session_add_transcripts(all, G_N_ELEMENTS(all));
	return g_test_run();
}
