/* SPDX-License-Identifier: MIT */
/*
 * A real session through the parser, fed whole, split in two at every
 * offset and byte by byte (imap-parser-harness.h).
 */
#include "imap-parser-harness.h"

#include <string.h>

/* A Dovecot 2.3 session watching INBOX: login, ID, ENABLE, EXAMINE, IDLE
 * with a keepalive and a new message, FETCH of its header, LOGOUT. */
static const char dovecot_session[] =
    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
    "AUTH=PLAIN] Dovecot (Debian) ready.\r\n"
    "A1 OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE CONDSTORE QRESYNC ESEARCH MOVE] "
    "Logged in\r\n"
    "* ID (\"name\" \"Dovecot\")\r\n"
    "A2 OK ID completed (0.001 + 0.000 secs).\r\n"
    "* ENABLED QRESYNC\r\n"
    "A3 OK Enabled.\r\n"
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"
    "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"
    "* 3 EXISTS\r\n"
    "* 0 RECENT\r\n"
    "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
    "* OK [UIDNEXT 4] Predicted next UID\r\n"
    "* OK [HIGHESTMODSEQ 7] Highest\r\n"
    "A4 OK [READ-ONLY] Examine completed (0.002 + 0.000 + 0.001 secs).\r\n"
    "+ idling\r\n"
    "* OK Still here\r\n"
    "* 4 EXISTS\r\n"
    "A5 OK Idle completed (0.001 + 120.001 + 120.000 secs).\r\n"
    "* 4 FETCH (UID 4 MODSEQ (8) FLAGS () RFC822.SIZE 1234 "
    "BODY[HEADER.FIELDS (FROM SUBJECT)] {51}\r\n"
    "From: Alice <alice@example.org>\r\nSubject: Hello\r\n\r\n)\r\n"
    "A6 OK Fetch completed (0.001 + 0.000 secs).\r\n"
    "* BYE Logging out\r\n"
    "A7 OK Logout completed (0.001 + 0.000 secs).\r\n";

static const char dovecot_expected[] =
    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN "
    "raw:\"IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN\"] "
    "text:\"Dovecot (Debian) ready.\"\n"
    "A1 OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE CONDSTORE QRESYNC ESEARCH MOVE "
    "raw:\"IMAP4rev1 SASL-IR ID ENABLE IDLE CONDSTORE QRESYNC ESEARCH MOVE\"] "
    "text:\"Logged in\"\n"
    "* ID (\"name\" \"Dovecot\")\n"
    "A2 OK text:\"ID completed (0.001 + 0.000 secs).\"\n"
    "* ENABLED QRESYNC\n"
    "A3 OK text:\"Enabled.\"\n"
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\n"
    "* OK [PERMANENTFLAGS () raw:\"()\"] text:\"Read-only mailbox.\"\n"
    "* #3 EXISTS\n"
    "* #0 RECENT\n"
    "* OK [UIDVALIDITY 1700000000 raw:\"1700000000\"] text:\"UIDs valid\"\n"
    "* OK [UIDNEXT 4 raw:\"4\"] text:\"Predicted next UID\"\n"
    "* OK [HIGHESTMODSEQ 7 raw:\"7\"] text:\"Highest\"\n"
    "A4 OK [READ-ONLY raw:\"\"] text:\"Examine completed (0.002 + 0.000 + 0.001 secs).\"\n"
    "+ text:\"idling\"\n"
    "* OK text:\"Still here\"\n"
    "* #4 EXISTS\n"
    "A5 OK text:\"Idle completed (0.001 + 120.001 + 120.000 secs).\"\n"
    "* #4 FETCH (UID 4 MODSEQ (8) FLAGS () RFC822.SIZE 1234 "
    "BODY[HEADER.FIELDS\\x20(FROM\\x20SUBJECT)] "
    "{51}\"From: Alice <alice@example.org>\\r\\nSubject: Hello\\r\\n\\r\\n\")\n"
    "A6 OK text:\"Fetch completed (0.001 + 0.000 secs).\"\n"
    "* BYE text:\"Logging out\"\n"
    "A7 OK text:\"Logout completed (0.001 + 0.000 secs).\"\n";

static void test_dovecot_transcript(void)
{
	const struct parser_case tc = {"dovecot", dovecot_session, 0, dovecot_expected, NULL};

	check_every_chunking(&tc, tc.input, strlen(tc.input), tc.expected);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap-parser/dovecot-transcript", test_dovecot_transcript);
	return g_test_run();
}
