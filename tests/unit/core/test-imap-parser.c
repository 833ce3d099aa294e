/* SPDX-License-Identifier: MIT */
/*
 * The grammar, case by case (imap-parser-harness.h), and mutated cases. A
 * real session is tested in test-imap-parser-transcript.c, the API around
 * responses in test-imap-parser-api.c.
 */
#include "imap-parser-harness.h"

#include <string.h>

static void test_case(gconstpointer data)
{
	const struct parser_case *tc = data;

	check_every_chunking(tc, tc->input, case_len(tc), tc->expected);
}

/* ---- Cases ---- */

static const struct imap_parser_limits small_limits = {
    .max_line = 16,
    .max_literal = 4,
    .max_response = 40,
    .max_depth = 2,
    .max_args = 5,
};

static const struct imap_parser_limits code_limits = {
    .max_line = 100,
    .max_literal = 10,
    .max_response = 200,
    .max_depth = 2,
    .max_args = 5,
};

#define FETCH_HEADER "From: ab@b.example\r\nSubject: hi there!\r\n\r\n"

static const struct parser_case cases[] = {
    /* Untagged data. */
    {"exists", "* 23 EXISTS\r\n", 0, "* #23 EXISTS\n", NULL},
    {"exists-lower", "* 3 exists\r\n", 0, "* #3 EXISTS\n", NULL},
    {"number-max", "* 4294967295 EXPUNGE\r\n", 0, "* #4294967295 EXPUNGE\n", NULL},
    {"fetch-literal",
     "* 5 FETCH (UID 7 FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
     "RFC822.SIZE 44 BODY[HEADER.FIELDS (FROM SUBJECT)] {42}\r\n" FETCH_HEADER ")\r\n",
     0,
     "* #5 FETCH (UID 7 FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
     "RFC822.SIZE 44 BODY[HEADER.FIELDS\\x20(FROM\\x20SUBJECT)] "
     "{42}\"From: ab@b.example\\r\\nSubject: hi there!\\r\\n\\r\\n\")\n",
     NULL},
    {"capability", "* CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN\r\n", 0,
     "* CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN\n", NULL},
    {"flags", "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n", 0,
     "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\n", NULL},
    {"list", "* LIST (\\HasNoChildren) \"/\" INBOX\r\n", 0,
     "* LIST (\\HasNoChildren) \"/\" INBOX\n", NULL},
    {"list-nil-delimiter", "* LIST (\\Noselect) NIL \"\"\r\n", 0, "* LIST (\\Noselect) NIL \"\"\n",
     NULL},
    {"list-literal-name", "* LIST () \"/\" {5}\r\nIN)BO\r\n", 0, "* LIST () \"/\" {5}\"IN)BO\"\n",
     NULL},
    {"list-utf8", "* LIST () \"/\" \"Entw\xc3\xbcrfe\"\r\n", 0,
     "* LIST () \"/\" \"Entw\\xc3\\xbcrfe\"\n", NULL},
    {"list-gmail-brackets", "* LIST (\\HasChildren) \"/\" [Gmail]/Sent\r\n", 0,
     "* LIST (\\HasChildren) \"/\" [Gmail]/Sent\n", NULL},
    {"search", "* SEARCH 1 2\r\n", 0, "* SEARCH 1 2\n", NULL},
    {"search-empty", "* SEARCH\r\n", 0, "* SEARCH\n", NULL},
    {"search-spaces", "* SEARCH  1   2 \r\n", 0, "* SEARCH 1 2\n", NULL},
    {"esearch", "* ESEARCH (TAG \"A1\") UID ALL 1:3\r\n", 0, "* ESEARCH (TAG \"A1\") UID ALL 1:3\n",
     NULL},
    {"vanished", "* VANISHED (EARLIER) 1:3,5\r\n", 0, "* VANISHED (EARLIER) 1:3,5\n", NULL},
    {"enabled", "* ENABLED QRESYNC\r\n", 0, "* ENABLED QRESYNC\n", NULL},
    {"id", "* ID (\"name\" \"Dovecot\")\r\n", 0, "* ID (\"name\" \"Dovecot\")\n", NULL},
    {"id-nil", "* ID nil\r\n", 0, "* ID NIL\n", NULL},
    {"status", "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n", 0,
     "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\n", NULL},
    {"status-trailing-space", "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292) \r\n", 0,
     "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\n", NULL},
    {"nil-any-case", "* 1 FETCH (ENVELOPE (nil NiL \"NIL\" NILS))\r\n", 0,
     "* #1 FETCH (ENVELOPE (NIL NIL \"NIL\" NILS))\n", NULL},
    {"quoted-escapes", "* LIST () \"\\\\\" \"a \\\"b\\\" c\"\r\n", 0,
     "* LIST () \"\\\\\" \"a \\\"b\\\" c\"\n", NULL},
    {"quoted-odd-backslash", "* X \"C:\\dir\"\r\n", 0, "* X \"C:\\\\dir\"\n", NULL},
    {"quoted-empty-literal-empty", "* X \"\" {0}\r\n\r\n", 0, "* X \"\" {0}\"\"\n", NULL},
    {"section-atoms", "* 1 FETCH (BODY[HEADER.FIELDS (A B)]<0> {0}\r\n BINARY[1] ~{3}\r\na\0b)\r\n",
     68, "* #1 FETCH (BODY[HEADER.FIELDS\\x20(A\\x20B)]<0> {0}\"\" BINARY[1] {3}\"a\\0b\")\n",
     NULL},
    {"section-quoted-bracket", "* 1 FETCH (BODY[HEADER.FIELDS (\"X]\")] NIL)\r\n", 0,
     "* #1 FETCH (BODY[HEADER.FIELDS\\x20(\"X]\")] NIL)\n", NULL},
    {"literal-plus", "* 1 FETCH (BODY[] {3+}\r\nabc)\r\n", 0, "* #1 FETCH (BODY[] {3}\"abc\")\n",
     NULL},
    {"literal-holds-literal", "* 1 FETCH (BODY[] {7}\r\nx {3}\r\n)\r\n", 0,
     "* #1 FETCH (BODY[] {7}\"x {3}\\r\\n\")\n", NULL},
    {"two-literals", "* 2 FETCH (A {1}\r\nx B {2}\r\nyz)\r\n", 0,
     "* #2 FETCH (A {1}\"x\" B {2}\"yz\")\n", NULL},
    {"bodystructure",
     "* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL "
     "\"7BIT\" 3 1)(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 5 -1) \"ALTERNATIVE\"))\r\n",
     0,
     "* #1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL "
     "\"7BIT\" 3 1) (\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 5 -1) \"ALTERNATIVE\"))\n",
     NULL},
    {"atom-8bit", "* FLAGS (\\Seen caf\xc3\xa9 $Junk)\r\n", 0,
     "* FLAGS (\\Seen caf\\xc3\\xa9 $Junk)\n", NULL},
    {"empty-lists", "* X () (())\r\n", 0, "* X () (())\n", NULL},
    {"lf-only", "* 1 EXISTS\n* 2 FETCH (BODY[] {2}\nab)\n", 0,
     "* #1 EXISTS\n* #2 FETCH (BODY[] {2}\"ab\")\n", NULL},
    {"empty-lines-skipped", "\r\n\n* 1 EXISTS\r\n", 0, "* #1 EXISTS\n", NULL},

    /* Status responses. */
    {"greeting", "* OK [CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN] Dovecot ready.\r\n", 0,
     "* OK [CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN raw:\"IMAP4rev1 IDLE AUTH=PLAIN\"] "
     "text:\"Dovecot ready.\"\n",
     NULL},
    {"tagged-ok-code", "a1 ok [uidvalidity 3857529045] UIDs valid\r\n", 0,
     "a1 OK [UIDVALIDITY 3857529045 raw:\"3857529045\"] text:\"UIDs valid\"\n", NULL},
    {"tagged-no", "A2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", 0,
     "A2 NO [AUTHENTICATIONFAILED raw:\"\"] text:\"Authentication failed.\"\n", NULL},
    {"tagged-bad", "A3 BAD Error in IMAP command\r\n", 0, "A3 BAD text:\"Error in IMAP command\"\n",
     NULL},
    {"tagged-bare", "A4 OK\r\n", 0, "A4 OK text:\"\"\n", NULL},
    {"tag-with-bracket", "x]1 OK done\r\n", 0, "x]1 OK text:\"done\"\n", NULL},
    {"untagged-no", "* NO [ALERT] disk full\r\n", 0, "* NO [ALERT raw:\"\"] text:\"disk full\"\n",
     NULL},
    {"bye", "* BYE Logging out\r\n", 0, "* BYE text:\"Logging out\"\n", NULL},
    {"bye-alert", "* BYE [ALERT] Shutting down\r\n", 0,
     "* BYE [ALERT raw:\"\"] text:\"Shutting down\"\n", NULL},
    {"preauth", "* PREAUTH [CAPABILITY IMAP4rev1] Logged in as x\r\n", 0,
     "* PREAUTH [CAPABILITY IMAP4rev1 raw:\"IMAP4rev1\"] text:\"Logged in as x\"\n", NULL},
    {"gmail-code-no-text", "* OK [HIGHESTMODSEQ 123]\r\n", 0,
     "* OK [HIGHESTMODSEQ 123 raw:\"123\"] text:\"\"\n", NULL},
    {"ok-bare", "* OK\r\n", 0, "* OK text:\"\"\n", NULL},
    {"code-list-args", "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n", 0,
     "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*) raw:\"(\\\\Deleted \\\\Seen \\\\*)\"] "
     "text:\"Limited\"\n",
     NULL},
    {"code-args-unparsable", "* NO [BADCHARSET (\"UTF-8\"] bad\r\n", 0,
     "* NO [BADCHARSET raw:\"(\\\"UTF-8\\\"\"] text:\"bad\"\n", NULL},
    {"code-nested-brackets", "* NO [REFERRAL imap://u@[::1]/INBOX] go\r\n", 0,
     "* NO [REFERRAL imap://u@[::1]/INBOX raw:\"imap://u@[::1]/INBOX\"] text:\"go\"\n", NULL},
    {"code-unclosed-is-text", "* OK [ALERT oops\r\n", 0, "* OK text:\"[ALERT oops\"\n", NULL},
    {"code-empty-is-text", "* OK [] x\r\n", 0, "* OK text:\"[] x\"\n", NULL},
    {"status-text-literal-is-text", "A1 OK done {5}\r\n* OK {5}\r\n", 0,
     "A1 OK text:\"done {5}\"\n* OK text:\"{5}\"\n", NULL},
    {"status-text-raw", "* OK a (b \"c {3}\r\n", 0, "* OK text:\"a (b \\\"c {3}\"\n", NULL},

    /* Continuations. */
    {"continuation", "+ idling\r\n", 0, "+ text:\"idling\"\n", NULL},
    {"continuation-space", "+ \r\n", 0, "+ text:\"\"\n", NULL},
    {"continuation-bare", "+\r\n", 0, "+ text:\"\"\n", NULL},
    {"continuation-base64", "+ dGVzdA==\r\n", 0, "+ text:\"dGVzdA==\"\n", NULL},
    {"continuation-literal-is-text", "+ {5}\r\n", 0, "+ text:\"{5}\"\n", NULL},
    {"continuation-code-is-text", "+ [ALERT] x\r\n", 0, "+ text:\"[ALERT] x\"\n", NULL},

    /* Several responses, and partial input at the end. */
    {"stream", "* 1 EXISTS\r\n* 2 EXISTS\r\nA1 OK done\r\n", 0,
     "* #1 EXISTS\n* #2 EXISTS\nA1 OK text:\"done\"\n", NULL},
    {"partial-line", "+ ok\r\nA1 O", 0, "+ text:\"ok\"\nPARTIAL\n", NULL},
    {"partial-cr", "* 1 EXISTS\r", 0, "PARTIAL\n", NULL},
    {"partial-literal", "* 1 FETCH (BODY[] {5}\r\nab", 0, "PARTIAL\n", NULL},

    /* Malformed. */
    {"unterminated-list", "* 1 FETCH (UID 1\r\n", 0, "ERROR: unterminated list\n", NULL},
    {"unbalanced-close", "* 1 FETCH UID 1)\r\n", 0, "ERROR: unbalanced ')'\n", NULL},
    {"garbage-tag", "(foo OK\r\n", 0, "ERROR: invalid tag\n", NULL},
    {"tag-plus-in-middle", "A+1 OK x\r\n", 0, "ERROR: invalid tag\n", NULL},
    {"tag-only", "A1\r\n", 0, "ERROR: missing status in tagged response\n", NULL},
    {"tagged-bye", "A1 BYE x\r\n", 0, "ERROR: tagged response is not OK, NO or BAD\n", NULL},
    {"tagged-data", "A1 FETCH x\r\n", 0, "ERROR: tagged response is not OK, NO or BAD\n", NULL},
    {"star-no-space", "*OK\r\n", 0, "ERROR: missing space after '*'\n", NULL},
    {"star-alone", "* \r\n", 0, "ERROR: missing response keyword\n", NULL},
    {"status-no-space", "* OK[ALERT] x\r\n", 0, "ERROR: invalid response keyword\n", NULL},
    {"number-too-big", "* 4294967296 EXISTS\r\n", 0, "ERROR: message number out of range\n", NULL},
    {"number-bad", "* 12a EXISTS\r\n", 0, "ERROR: invalid message number\n", NULL},
    {"number-no-keyword", "* 12\r\n", 0, "ERROR: invalid message number\n", NULL},
    {"keyword-ctl", "* SE\x01RCH\r\n", 0, "ERROR: invalid response keyword\n", NULL},
    {"unterminated-quote", "* LIST () \"/\" \"INBOX\r\n", 0, "ERROR: unterminated quoted string\n",
     NULL},
    {"quote-hides-literal", "* LIST () \"/\" \"x {2}\r\nab\"\r\n", 0,
     "ERROR: unterminated quoted string\n", NULL},
    {"escaped-quote-hides-literal", "* LIST () \"/\" \"x\\\" {2}\r\nab\"\r\n", 0,
     "ERROR: unterminated quoted string\n", NULL},
    {"literal-count-letters", "* 1 FETCH (BODY[] {abc}\r\n", 0, "ERROR: malformed literal\n", NULL},
    {"literal-count-empty", "* 1 FETCH (BODY[] {}\r\nx)\r\n", 0, "ERROR: malformed literal\n",
     NULL},
    {"literal-unclosed", "* 1 FETCH (BODY[] {5\r\n", 0, "ERROR: malformed literal\n", NULL},
    {"literal-not-at-end", "* 1 FETCH (BODY[] {1} x)\r\n", 0, "ERROR: malformed literal\n", NULL},
    {"literal-count-overflow", "* 1 FETCH (BODY[] {99999999999999999999999}\r\nx", 0,
     "ERROR: literal longer than 1048576 bytes\n", NULL},
    {"literal-after-atom", "* 1 FETCH (X{3}\r\nabc)\r\n", 0, "ERROR: invalid character in atom\n",
     NULL},
    {"literal-after-section-open", "* 1 FETCH (BODY[{3}\r\nabc])\r\n", 0,
     "ERROR: unterminated '[' in atom\n", NULL},
    {"unterminated-section", "* 1 FETCH (BODY[HEADER\r\n", 0, "ERROR: unterminated '[' in atom\n",
     NULL},
    {"quote-in-atom", "* 1 FETCH (A\"b\")\r\n", 0, "ERROR: invalid character in atom\n", NULL},
    {"ctl-in-atom", "* 1 FETCH (AB\x01)\r\n", 0, "ERROR: invalid character in atom\n", NULL},
    {"ctl-in-section", "* 1 FETCH (A[\x02])\r\n", 0, "ERROR: control character in atom\n", NULL},
    {"ctl-argument", "* 1 FETCH (A \x01)\r\n", 0, "ERROR: invalid character at start of argument\n",
     NULL},
    {"no-space-after-string", "* 1 FETCH (\"a\"b)\r\n", 0,
     "ERROR: missing space between arguments\n", NULL},
    {"nul-in-line", "* 1 EX\0ISTS\r\n", 13, "ERROR: NUL byte outside a literal\n", NULL},
    {"nul-after-literal", "* 1 FETCH (A {1}\r\n\0\0)\r\n", 23,
     "ERROR: NUL byte outside a literal\n", NULL},
    {"cr-without-lf", "* 1 EXISTS\rX\r\n", 0, "ERROR: CR not followed by LF\n", NULL},
    {"error-after-good", "* 1 EXISTS\r\n* 2 FETCH (\r\n* 3 EXISTS\r\n", 0,
     "* #1 EXISTS\nERROR: unterminated list\n", NULL},

    /* Limits, at and over each (small_limits). */
    {"max-line-at", "* SEARCH 1 2 3 4\r\n", 0, "* SEARCH 1 2 3 4\n", &small_limits},
    {"max-line-over", "* SEARCH 1 2 3 45\r\n", 0, "ERROR: line longer than 16 bytes\n",
     &small_limits},
    {"max-line-over-no-crlf", "* SEARCH 1 2 3 4 5 6 7 8 9", 0, "ERROR: line longer than 16 bytes\n",
     &small_limits},
    {"max-line-literal-excluded", "* X Y Z WWWW {4}\r\nabcd 12345678901234\r\n", 0,
     "* X Y Z WWWW {4}\"abcd\" 12345678901234\n", &small_limits},
    {"max-literal-holds-crlf", "* X {4}\r\n\r\n\r\n)\r\n", 0, "ERROR: unbalanced ')'\n",
     &small_limits},
    {"max-literal-at", "* X {4}\r\nabcd\r\n", 0, "* X {4}\"abcd\"\n", &small_limits},
    {"max-literal-over", "* X {5}\r\nabcde\r\n", 0, "ERROR: literal longer than 4 bytes\n",
     &small_limits},
    {"max-response-at", "* XYZW {4}\r\nabcd Y {4}\r\nefgh Z {2}\r\nij\r\n", 0,
     "* XYZW {4}\"abcd\" Y {4}\"efgh\" Z {2}\"ij\"\n", &small_limits},
    {"max-response-over-at-crlf", "* XYZW {4}\r\nabcd Y {4}\r\nefgh Z {2}\r\nij \r\n", 0,
     "ERROR: response longer than 40 bytes\n", &small_limits},
    {"max-response-over-in-line", "* XYZW {4}\r\nabcd Y {4}\r\nefgh Z {2}\r\nijk\r\n", 0,
     "ERROR: response longer than 40 bytes\n", &small_limits},
    {"max-response-over-by-literal", "* XYZWVUT {4}\r\nabcd Y {4}\r\nefgh Z {4}\r\nijkl\r\n", 0,
     "ERROR: response longer than 40 bytes\n", &small_limits},
    {"max-depth-at", "* X ((a))\r\n", 0, "* X ((a))\n", &small_limits},
    {"max-depth-over", "* X (((a)))\r\n", 0, "ERROR: lists nested deeper than 2 levels\n",
     &small_limits},
    {"max-args-at", "* X (a b) c d\r\n", 0, "* X (a b) c d\n", &small_limits},
    {"max-args-over", "* X (a b) c d e\r\n", 0, "ERROR: more than 5 arguments\n", &small_limits},
    /* Over-limit response code arguments only lose code_args. */
    {"code-args-over-max-args", "* OK [X a b c d e f] t\r\n", 0,
     "* OK [X raw:\"a b c d e f\"] text:\"t\"\n", &code_limits},
    {"code-args-over-max-depth", "* OK [X (((a)))] t\r\n", 0,
     "* OK [X raw:\"(((a)))\"] text:\"t\"\n", &code_limits},
};

/*
 * Mutated cases: whatever the bytes, no crash, and feeding whole, byte by
 * byte and in random chunks agree. The seed is fixed so failures repeat.
 */
static void test_mutations(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(20240611);
	static const char interesting[] = "(){}[]\"\\ \r\n\0~+*0123456789NIL";

	for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
		size_t len = case_len(&cases[c]);

		for (int round = 0; round < 20; round++) {
			g_autofree char *input = g_memdup2(cases[c].input, len + 1);
			g_autofree char *whole = NULL;
			g_autofree char *bytewise = NULL;
			g_autofree char *random = NULL;
			g_autofree size_t *cuts = g_new(size_t, len + 1);
			size_t n_cuts = 0;
			int edits = g_rand_int_range(rand, 1, 4);

			for (int e = 0; e < edits && len > 0; e++) {
				size_t at = (size_t)g_rand_int_range(rand, 0, (gint32)len);

				input[at] = g_rand_boolean(rand)
				                ? (char)g_rand_int_range(rand, 0, 256)
				                : interesting[g_rand_int_range(
				                      rand, 0, (gint32)sizeof(interesting) - 1)];
			}
			whole = run_chunks(&cases[c], input, len, NULL, 0);
			for (size_t i = 1; i < len; i++) {
				cuts[i - 1] = i;
			}
			bytewise = run_chunks(&cases[c], input, len, cuts, len > 0 ? len - 1 : 0);
			g_assert_cmpstr(bytewise, ==, whole);
			for (size_t i = 1; i < len; i++) {
				if (g_rand_int_range(rand, 0, 4) == 0) {
					cuts[n_cuts++] = i;
				}
			}
			random = run_chunks(&cases[c], input, len, cuts, n_cuts);
			g_assert_cmpstr(random, ==, whole);
		}
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path = g_strdup_printf("/imap-parser/case/%s", cases[i].name);

		g_test_add_data_func(path, &cases[i], test_case);
	}
	g_test_add_func("/imap-parser/mutations", test_mutations);
	return g_test_run();
}
