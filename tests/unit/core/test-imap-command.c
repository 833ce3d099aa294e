/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/imap-command.h"
#include "imapwatch/core/imap-parser.h"

#include <string.h>

struct astring_case {
	const char *input;
	bool needs_quoting;
	const char *expected; /* NULL: refused */
};

static const struct astring_case astring_cases[] = {
    {"INBOX", false, "INBOX"},
    {"user@example.org", false, "user@example.org"},
    {"a]b", false, "a]b"}, /* ']' is an ASTRING-CHAR */
    {"Sent/2024", false, "Sent/2024"},
    {"", true, "\"\""},
    {"NIL", true, "\"NIL\""},
    {"nil", true, "\"nil\""},
    {"NILS", false, "NILS"},
    {"two words", true, "\"two words\""},
    {"a(b", true, "\"a(b\""},
    {"a)b", true, "\"a)b\""},
    {"a{b", true, "\"a{b\""},
    {"50%", true, "\"50%\""},
    {"a*", true, "\"a*\""},
    {"say \"hi\"", true, "\"say \\\"hi\\\"\""},
    {"back\\slash", true, "\"back\\\\slash\""},
    {"pa ss\"\\", true, "\"pa ss\\\"\\\\\""},
    {"line\r\nbreak", true, NULL},
    {"cr\r", true, NULL},
    {"lf\n", true, NULL},
    {"tab\t", true, NULL},
    {"del\x7f", true, NULL},
    {"Entw\xc3\xbcrfe", true, NULL},
};

static void test_astring(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(astring_cases); i++) {
		const struct astring_case *tc = &astring_cases[i];
		g_autoptr(GString) out = g_string_new("X ");

		g_test_message("astring case %zu", i);
		g_assert_cmpint(imap_command_needs_quoting(tc->input), ==, tc->needs_quoting);
		if (tc->expected == NULL) {
			g_assert_false(imap_command_append_astring(out, tc->input));
			g_assert_cmpstr(out->str, ==, "X ");
		} else {
			g_assert_true(imap_command_append_astring(out, tc->input));
			g_assert_cmpstr(out->str + 2, ==, tc->expected);
		}
	}
	g_assert_true(imap_command_needs_quoting(NULL));
}

/* What we quote, a parser reads back as the same bytes. */
static void test_astring_round_trip(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(astring_cases); i++) {
		const struct astring_case *tc = &astring_cases[i];
		g_autoptr(GString) line = g_string_new("* X ");
		g_autoptr(imap_parser) parser = imap_parser_create(NULL);
		g_autoptr(imap_response) response = NULL;

		if (tc->expected == NULL) {
			continue;
		}
		g_assert_true(imap_command_append_astring(line, tc->input));
		g_string_append(line, "\r\n");
		g_assert_cmpint(imap_parser_feed(parser, line->str, line->len, NULL), ==,
		                IMAP_PARSE_RESPONSE);
		response = imap_parser_take(parser);
		g_assert_cmpuint(response->n_args, ==, 1);
		g_assert_cmpint(response->args[0].type, ==,
		                tc->needs_quoting ? IMAP_ARG_STRING : IMAP_ARG_ATOM);
		g_assert_cmpstr(imap_arg_as_string(&response->args[0]), ==, tc->input);
	}
}

struct uid_set_case {
	uint32_t uids[12];
	size_t n;
	const char *expected;
};

static const struct uid_set_case uid_set_cases[] = {
    {{0}, 0, ""},
    {{5}, 1, "5"},
    {{1, 2, 3, 5, 7, 8, 9}, 7, "1:3,5,7:9"},
    {{9, 7, 8, 5, 3, 1, 2}, 7, "1:3,5,7:9"},
    {{4, 4, 4}, 3, "4"},
    {{1, 3, 3, 2, 1}, 5, "1:3"},
    {{2, 4, 6}, 3, "2,4,6"},
    {{10, 11}, 2, "10:11"},
    {{4294967294u, 4294967295u, 1}, 3, "1,4294967294:4294967295"},
    {{4294967295u, 4294967295u}, 2, "4294967295"},
    {{100, 1, 101, 2, 102, 50}, 6, "1:2,50,100:102"},
};

static void test_uid_set(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(uid_set_cases); i++) {
		const struct uid_set_case *tc = &uid_set_cases[i];
		g_autoptr(GString) out = g_string_new("UID FETCH ");
		uint32_t before[12];

		memcpy(before, tc->uids, sizeof(before));
		imap_command_append_uid_set(out, tc->uids, tc->n);
		g_assert_cmpstr(out->str + strlen("UID FETCH "), ==, tc->expected);
		/* The caller's array is not sorted in place. */
		g_assert_cmpmem(before, sizeof(before), tc->uids, sizeof(tc->uids));
	}
}

static void test_uid_set_large(void)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree uint32_t *uids = g_new(uint32_t, 10000);

	/* 1..5000 then 6001..11000, reversed. */
	for (size_t i = 0; i < 10000; i++) {
		uint32_t uid = i < 5000 ? (uint32_t)(i + 1) : (uint32_t)(i + 1001);

		uids[9999 - i] = uid;
	}
	imap_command_append_uid_set(out, uids, 10000);
	g_assert_cmpstr(out->str, ==, "1:5000,6001:11000");
}

static void check_plain(const char *authzid, const char *user, const char *password,
                        const char *expected, size_t expected_len)
{
	g_autofree char *encoded = imap_command_base64_plain(authzid, user, password);
	g_autofree guchar *decoded = NULL;
	gsize len = 0;

	g_assert_nonnull(encoded);
	decoded = g_base64_decode(encoded, &len);
	g_assert_cmpmem(decoded, len, expected, expected_len);
}

static void test_base64_plain(void)
{
	g_autofree char *encoded = imap_command_base64_plain(NULL, "tim", "tanstaaftanstaaf");

	/* RFC 4616 §4 example: "\0tim\0tanstaaftanstaaf". */
	g_assert_cmpstr(encoded, ==, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
	check_plain("Ursel", "Kurt", "xipj3plmq", "Ursel\0Kurt\0xipj3plmq", 20);
	check_plain("", "u", "p", "\0u\0p", 4);
	check_plain(NULL, "us\xc3\xa9r", "p\xc3\xa4ss", "\0us\xc3\xa9r\0p\xc3\xa4ss", 12);
	g_assert_null(imap_command_base64_plain(NULL, "", "p"));
	g_assert_null(imap_command_base64_plain(NULL, "u", ""));
	g_assert_null(imap_command_base64_plain(NULL, NULL, "p"));
	g_assert_null(imap_command_base64_plain(NULL, "u", NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap-command/astring", test_astring);
	g_test_add_func("/imap-command/astring-round-trip", test_astring_round_trip);
	g_test_add_func("/imap-command/uid-set", test_uid_set);
	g_test_add_func("/imap-command/uid-set-large", test_uid_set_large);
	g_test_add_func("/imap-command/base64-plain", test_base64_plain);
	return g_test_run();
}
