/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/header.h"

#include <string.h>

/* Expected strings are written in UTF-8 directly; raw input bytes that are
 * not valid UTF-8 are written as escapes. */
#define REPLACEMENT "\xef\xbf\xbd"

static const struct {
	const char *in;
	const char *out;
} decode_cases[] = {
    {"", ""},
    {"   ", ""},
    {"plain subject", "plain subject"},
    /* E1: B and Q, any case, charsets iconv knows */
    {"=?ISO-2022-JP?B?GyRCMnE1RCROJCpDTiRpJDsbKEI=?=", "会議のお知らせ"},
    {"Re: =?iso-2022-jp?b?GyRCMnE1RCROJCpDTiRpJDsbKEI=?= (2)", "Re: 会議のお知らせ (2)"},
    {"=?iso-8859-1?q?Gr=FC=DFe_aus_M=FCnchen?=", "Grüße aus München"},
    {"=?ISO-8859-1?Q?K=E4se?= und =?ISO-8859-15?Q?=A4uro?=", "Käse und €uro"},
    {"=?UtF-8?b?w6k=?=", "é"},
    {"=?utf-8?q?=c3=a9?=", "é"},
    {"=?windows-1252?q?=80_5?=", "€ 5"},
    {"=?koi8-r?b?8NLJ18XU?=", "Привет"},
    {"=?gb2312?b?xOO6ww==?=", "你好"},
    {"=?ks_c_5601-1987?B?x9Gx2w==?=", "한글"},
    {"=?utf-8*en?q?hello?=", "hello"},
    {"=?utf-8?q?a_b__c?=", "a b c"},
    {"=?utf-8?q?\?=", ""},
    /* unpadded base64 is tolerated */
    {"=?UTF-8?B?w6k?=", "é"},
    /* longer than 75 characters is tolerated on input */
    {"=?utf-8?q?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?=",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    /* E2: space between words dropped, between word and text kept */
    {"=?utf-8?q?a?= =?utf-8?q?b?=", "ab"},
    {"=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab"},
    {"=?utf-8?q?a?= \t =?iso-8859-1?q?=E9?=", "aé"},
    {"=?utf-8?q?a?= b =?utf-8?q?c?=", "a b c"},
    {"x =?utf-8?q?a?= y", "x a y"},
    {"=?utf-8?q?a_?= b", "a b"},
    /* glued words: tolerated when the token is made only of words */
    {"=?utf-8?q?a?==?utf-8?q?b?=", "ab"},
    /* a multi-byte character split across two words in the same charset
     * is joined; with a different charset the broken half is U+FFFD */
    {"=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=", "€"},
    {"=?UTF-8?B?4oI=?= =?utf-8?B?rA==?=", "€"},
    {"=?utf-8?q?=E2=82?= =?iso-8859-1?q?=AC?=", REPLACEMENT "¬"},
    {"=?utf-8?q?=E2=82?= x", REPLACEMENT " x"},
    {"=?utf-8?q?a=FFb?=", "a" REPLACEMENT "b"},
    /* E3: malformed words are shown raw */
    {"=?utf-8?q?abc", "=?utf-8?q?abc"},
    {"=?utf-8?q?abc?", "=?utf-8?q?abc?"},
    {"=?bogus-charset?Q?x?=", "=?bogus-charset?Q?x?="},
    {"=?utf-8?q?a?= =?bogus?q?b?= =?utf-8?q?c?=", "a =?bogus?q?b?= c"},
    /* charset names that are not names are never given to iconv */
    {"=?utf-8//TRANSLIT?q?a?=", "=?utf-8//TRANSLIT?q?a?="},
    {"=?../../x?q?a?=", "=?../../x?q?a?="},
    {"=?utf-8?x?abc?=", "=?utf-8?x?abc?="},
    {"=??q?abc?=", "=??q?abc?="},
    {"=?*en?q?abc?=", "=?*en?q?abc?="},
    {"=?utf-8?b?!!!?=", "=?utf-8?b?!!!?="},
    {"=?utf-8?b?w?=", "=?utf-8?b?w?="},
    {"=?utf-8?b?w6k===?=", "=?utf-8?b?w6k===?="},
    {"=?utf-8?b?w6k=w6k=?=", "=?utf-8?b?w6k=w6k=?="},
    {"=?utf-8?q?a=ZZ?=", "=?utf-8?q?a=ZZ?="},
    {"=?utf-8?q?a=?=", "=?utf-8?q?a=?="},
    {"=?utf-8?q?a b?=", "=?utf-8?q?a b?="},
    {"x=?utf-8?q?a?=", "x=?utf-8?q?a?="},
    {"=?utf-8?q?a?=x", "=?utf-8?q?a?=x"},
    {"(=?utf-8?q?a?=)", "(=?utf-8?q?a?=)"},
    {"=?utf-8?q?caf\xc3\xa9?=", "=?utf-8?q?café?="},
    /* E5: raw 8-bit text; not UTF-8 is read as windows-1252 */
    {"caf\xc3\xa9", "café"},
    {"caf\xe9", "café"},
    {"\x93quoted\x94", "“quoted”"},
    {"Gr\xfc\xdf"
     "e caf\xc3\xa9",
     "Grüße café"},
    {"a\x81"
     "b",
     "a" REPLACEMENT "b"},
    /* E4: controls, bidi and line breaks */
    {"Hello\r\n\tworld", "Hello world"},
    {"Hello\r\n world", "Hello world"},
    {"a\x01"
     "b\x7f c\x1b[31m",
     "ab c[31m"},
    {"invoice \xe2\x80\xae"
     "fdp.exe",
     "invoice fdp.exe"},
    {"=?utf-8?q?abc=E2=80=AEdef?=", "abcdef"},
    {"=?utf-8?q?line1=0D=0ALine2?=", "line1 Line2"},
    {"=?utf-8?q?a=00b?=", "ab"},
    {"=?iso-8859-1?q?a=85b?=", "ab"},
    {"=?utf-8?q?a=09=09b?=", "a b"},
};

static void test_header_decode_text(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(decode_cases); i++) {
		g_autofree char *got = header_decode_text(decode_cases[i].in);
		g_test_message("case %" G_GSIZE_FORMAT ": '%s'", i, decode_cases[i].in);
		g_assert_cmpstr(got, ==, decode_cases[i].out);
	}
	g_autofree char *null = header_decode_text(NULL);
	g_assert_cmpstr(null, ==, "");
}

static const struct {
	const char *in;
	const char *out;
} sanitize_cases[] = {
    {"", ""},
    {"  a  b  ", "a b"},
    {"a\r\nb\tc", "a b c"},
    {"a \x01 b", "a b"},
    {"a\x1b", "a"},
    {"\x7f", ""},
    {"\xff", REPLACEMENT},
    {"a\xc3", "a" REPLACEMENT},
    {"\xc0\xaf", REPLACEMENT REPLACEMENT},
    {"\xed\xa0\x80", REPLACEMENT REPLACEMENT REPLACEMENT},
    {"\xf4\x90\x80\x80", REPLACEMENT REPLACEMENT REPLACEMENT REPLACEMENT},
    {REPLACEMENT, REPLACEMENT},
    {"\xe2\x80\xae evil", "evil"},
    {"\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad", ""},
    {"\xe2\x81\xa6x\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", "x"},
    {"\xe2\x80\x8e\xe2\x80\x8f", ""},
    {"a\xc2\x85"
     "b\xc2\x9f",
     "ab"},
    /* not in the removal list: kept */
    {"a\xe2\x80\x8d"
     "b",
     "a\xe2\x80\x8d"
     "b"},
    {"\xc2\xa0", "\xc2\xa0"},
    {"日本 語", "日本 語"},
    {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
};

static void test_header_sanitize(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(sanitize_cases); i++) {
		g_autofree char *got = header_sanitize(sanitize_cases[i].in);
		g_assert_cmpstr(got, ==, sanitize_cases[i].out);
	}
	g_autofree char *null = header_sanitize(NULL);
	g_assert_cmpstr(null, ==, "");
}

/* Server noise at the end of a reply's text goes; elsewhere it stays. */
static const struct {
	const char *in;
	const char *out;
} reply_cases[] = {
    {"Logged out (0.001 + 0.000 secs).", "Logged out."},
    {"Server shutting down (0.001 + 0.000 + 0.002 secs)", "Server shutting down"},
    {"Busy (12.5 secs)", "Busy"},
    {"Internal error occurred. Refer to server log for more information. "
     "[2026-12-07 10:11:12]",
     "Internal error occurred. Refer to server log for more information."},
    {"[ALERT] Too many simultaneous connections. (Failure)",
     "[ALERT] Too many simultaneous connections."},
    {"folder 'Money (0.5 secs)' gone", "folder 'Money (0.5 secs)' gone"},
    {"Invalid credentials\r\n\x1b[31m(Failure)", "Invalid credentials [31m"},
    {"", ""},
};

static void test_header_sanitize_reply(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(reply_cases); i++) {
		g_autofree char *got = header_sanitize_reply(reply_cases[i].in);
		g_assert_cmpstr(got, ==, reply_cases[i].out);
	}
	g_autofree char *null = header_sanitize_reply(NULL);
	g_assert_cmpstr(null, ==, "");
}

static const struct {
	const char *from;
	const char *name;
	const char *addr;
} from_cases[] = {
    {"John Doe <john@example.com>", "John Doe", "john@example.com"},
    {"\"Doe, John\" <john@example.com>", "Doe, John", "john@example.com"},
    {"\"John \\\"JD\\\" Doe\" <jd@example.com>", "John \"JD\" Doe", "jd@example.com"},
    {"=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <jm@example.de>", "Jörg Müller", "jm@example.de"},
    {"=?ISO-8859-1?Q?J=F6rg?= =?ISO-8859-1?Q?_M=FCller?= <jm@example.de>", "Jörg Müller",
     "jm@example.de"},
    /* quoted encoded words are decoded too: common, and display only */
    {"\"=?utf-8?q?J=C3=B6rg?=\" <j@example.de>", "Jörg", "j@example.de"},
    /* E3: never decoded inside the addr-spec */
    {"<=?utf-8?q?a?=@example.com>", "", "=?utf-8?q?a?=@example.com"},
    {"=?utf-8?q?a?=@example.com", "", "=?utf-8?q?a?=@example.com"},
    {"john@example.com", "", "john@example.com"},
    {"<john@example.com>", "", "john@example.com"},
    {"< john@example.com >", "", "john@example.com"},
    {"john@example.com (John Doe)", "John Doe", "john@example.com"},
    {"john@example.com (=?utf-8?q?J=C3=B6rg?=)", "Jörg", "john@example.com"},
    {"John (the man) Doe <j@example.com>", "John Doe", "j@example.com"},
    {"Friends: alice@example.com, Bob <bob@example.com>;", "", "alice@example.com"},
    {"undisclosed-recipients:;, Carol <carol@example.com>", "Carol", "carol@example.com"},
    {"alice@example.com, Bob <bob@example.com>", "", "alice@example.com"},
    {"Mail Delivery Subsystem", "Mail Delivery Subsystem", ""},
    {"<@relay.example.net:user@example.com>", "", "user@example.com"},
    {"Jörg <j@example.de>", "Jörg", "j@example.de"},
    {"J\xf6rg <j@example.de>", "Jörg", "j@example.de"},
    {"\"Very Long Name\"\r\n <long@example.com>", "Very Long Name", "long@example.com"},
    {"Name <a@example.com", "Name", "a@example.com"},
    {"\xe2\x80\xae"
     "evil\x07 <x@example.com>",
     "evil", "x@example.com"},
    {"Mallory <mallory@example.com\x01>", "Mallory", "mallory@example.com"},
    {"\"unterminated <u@example.com>", "unterminated <u@example.com>", ""},
    {"", "", ""},
    {"   ", "", ""},
};

static void test_header_from(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(from_cases); i++) {
		g_autofree char *raw = g_strdup_printf("From: %s\r\n", from_cases[i].from);
		struct header_fields f = {0};
		header_fields_parse(raw, strlen(raw), &f);
		g_test_message("case %" G_GSIZE_FORMAT ": '%s'", i, from_cases[i].from);
		g_assert_cmpstr(f.from_name, ==, from_cases[i].name);
		g_assert_cmpstr(f.from_addr, ==, from_cases[i].addr);
		header_fields_clear(&f);
	}
}

static const struct {
	const char *raw;
	gsize len; /* 0: strlen(raw) */
	const char *from_name;
	const char *from_addr;
	const char *subject;
	const char *message_id;
	gint64 date;
} block_cases[] = {
    {"From: \"=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\" <taro@example.jp>\r\n"
     "Subject: =?ISO-2022-JP?B?GyRCMnE1RCROJCpDTiRpJDsbKEI=?=\r\n"
     "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
     "Message-ID: <1234@example.jp>\r\n"
     "\r\n",
     0, "日本語", "taro@example.jp", "会議のお知らせ", "<1234@example.jp>", 1057049557},
    /* names are case-insensitive; LF-only lines; no final newline */
    {"SUBJECT: upper\nfrom: a@example.com\nmessage-id:<x@y>\ndAtE: 1 Jul 2003 10:52:37 GMT", 0, "",
     "a@example.com", "upper", "<x@y>", 1057056757},
    /* duplicates: the first one wins, also over its continuation */
    {"Subject: first\r\n continued\r\nSubject: second\r\n more\r\n", 0, "", "", "first continued",
     "", 0},
    /* a continuation of another field does not leak into ours */
    {"X-Other: a\r\n Subject: fake\r\nSubject: real\r\n", 0, "", "", "real", "", 0},
    /* folded encoded words, obsolete "Subject :" */
    {"Subject :\r\n =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n =?utf-8?q?_aus_Berlin?=\r\n", 0, "", "",
     "Grüße aus Berlin", "", 0},
    /* NUL bytes are dropped, also inside the field name */
    {"Subj\0ect: a\0b\r\nFrom: x\0@example.com\r\n", 37, "", "x@example.com", "ab", "", 0},
    /* the block ends at the first empty line */
    {"\r\nSubject: after\r\n", 0, "", "", "", "", 0},
    {"Date: Mon, 2 Jun 2003 10:00:00 +0000\r\n\r\nSubject: body\r\n", 0, "", "", "", "",
     1054548000},
    /* lines without a colon and continuation lines before any field */
    {" stray\r\ngarbage line\r\nSubject: ok\r\n", 0, "", "", "ok", "", 0},
    /* obsolete zones and missing seconds */
    {"Date: Tue, 1 Jul 2003 10:52 EST\r\n", 0, "", "", "", "", 1057074720},
    {"Date: Tue, 1 Jul 2003 10:52:37 -0700 (PDT)\r\n", 0, "", "", "", "", 1057081957},
    {"Date:\r\n Tue, 1 Jul 2003\r\n 10:52:37 +0000\r\n", 0, "", "", "", "", 1057056757},
    {"Date: garbage\r\n", 0, "", "", "", "", 0},
    {"Date: 30 Feb 2003 10:00:00 +0000\r\n", 0, "", "", "", "", 0},
    {"Date: \r\n", 0, "", "", "", "", 0},
    /* Message-ID: trimmed, comments and folding dropped */
    {"Message-ID:   <abc@example.com>  \r\n", 0, "", "", "", "<abc@example.com>", 0},
    {"Message-ID: <a@b> (comment)\r\n", 0, "", "", "", "<a@b>", 0},
    {"Message-ID:\r\n <folded@example.com>\r\n", 0, "", "", "", "<folded@example.com>", 0},
    {"Message-ID: no-brackets@example.com\r\n", 0, "", "", "", "no-brackets@example.com", 0},
    {"Message-ID: <a\x01"
     "b@c>\r\n",
     0, "", "", "", "<ab@c>", 0},
    {"", 0, "", "", "", "", 0},
};

static void test_header_fields_parse(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(block_cases); i++) {
		gsize len = block_cases[i].len ? block_cases[i].len : strlen(block_cases[i].raw);
		struct header_fields f = {0};
		g_test_message("case %" G_GSIZE_FORMAT, i);
		header_fields_parse(block_cases[i].raw, len, &f);
		g_assert_cmpstr(f.from_name, ==, block_cases[i].from_name);
		g_assert_cmpstr(f.from_addr, ==, block_cases[i].from_addr);
		g_assert_cmpstr(f.subject, ==, block_cases[i].subject);
		g_assert_cmpstr(f.message_id, ==, block_cases[i].message_id);
		g_assert_cmpint(f.date, ==, block_cases[i].date);
		header_fields_clear(&f);
		g_assert_null(f.subject);
		header_fields_clear(&f);
	}
	struct header_fields f = {0};
	header_fields_parse(NULL, 0, &f);
	g_assert_cmpstr(f.subject, ==, "");
	header_fields_clear(&f);
	header_fields_clear(NULL);
}

static const struct {
	const char *in;
	bool ok;
	gint64 t;
} internaldate_cases[] = {
    {"17-Jul-1996 02:44:25 -0700", true, 837596665},
    {" 7-Jul-1996 02:44:25 -0700", true, 836732665},
    {"07-Jul-1996 02:44:25 -0700", true, 836732665},
    {"7-Jul-1996 02:44:25 -0700", true, 836732665},
    {"17-jul-1996 09:44:25 +0000", true, 837596665},
    {"01-Jan-1970 00:00:00 +0000", true, 0},
    {"01-Jan-1970 01:00:00 +0100", true, 0},
    {"31-Dec-1969 23:59:59 +0000", true, -1},
    {"29-Feb-2000 12:00:00 +0000", true, 951825600},
    {"30-Jun-2012 23:59:60 +0000", true, 1341100800},
    {"", false, 0},
    {"garbage", false, 0},
    {"30-Feb-2001 00:00:00 +0000", false, 0},
    {"17-Foo-1996 02:44:25 -0700", false, 0},
    {"17-Jul-1996 24:00:00 +0000", false, 0},
    {"17-Jul-1996 02:60:00 +0000", false, 0},
    {"17-Jul-1996 02:44:25", false, 0},
    {"17-Jul-1996 02:44:25 0700", false, 0},
    {"17-Jul-1996 02:44:25 -07", false, 0},
    {"17-Jul-1996 02:44:25 -0760", false, 0},
    {"17-Jul-1996 02:44:25 -0700 ", false, 0},
    {"17-Jul-96 02:44:25 -0700", false, 0},
    {"117-Jul-1996 02:44:25 -0700", false, 0},
    {"17-Jul-1996 2:44:25 -0700", false, 0},
    {"  7-Jul-1996 02:44:25 -0700", false, 0},
    {"00-Jul-1996 02:44:25 -0700", false, 0},
    {"17-Jul-0000 02:44:25 -0700", false, 0},
    {"\"17-Jul-1996 02:44:25 -0700\"", false, 0},
};

static void test_header_internaldate(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(internaldate_cases); i++) {
		gint64 t = 42;
		bool ok = header_parse_internaldate(internaldate_cases[i].in, &t);
		g_test_message("case '%s'", internaldate_cases[i].in);
		g_assert_cmpint(ok, ==, internaldate_cases[i].ok);
		g_assert_cmpint(t, ==, internaldate_cases[i].ok ? internaldate_cases[i].t : 42);
	}
	gint64 t = 42;
	g_assert_false(header_parse_internaldate(NULL, &t));
	g_assert_cmpint(t, ==, 42);
}

static void assert_fields_valid(const struct header_fields *f)
{
	g_assert_true(g_utf8_validate(f->from_name, -1, NULL));
	g_assert_true(g_utf8_validate(f->from_addr, -1, NULL));
	g_assert_true(g_utf8_validate(f->subject, -1, NULL));
	g_assert_true(g_utf8_validate(f->message_id, -1, NULL));
}

/* Every prefix of a nasty block, and random bytes drawn from the characters
 * the parser cares about: no crash, always valid UTF-8 out. */
static void test_header_robust(void)
{
	static const char nasty[] =
	    "From: \"a\\\"(b\" (c (d) \\) <e@f>, =?utf-8?b?w6k?= <=?x?q?y?=@z>\r\n"
	    "Subject: =?utf-8?q?=E2=82?= =?ISO-2022-JP?B?GyRCMnE1?= \xff\x1b$B\r\n"
	    " =?utf-8?q?=?= =?=?==?\?=\r\n"
	    "Date: 31 Dec 9999 23:59:59 -9999\r\n"
	    "Message-ID: <<>>\r\n";
	static const char alphabet[] = "=?_:;,<>()\"\\@ \t\r\nqQbB8uft-abc\x80\xe2\xff\x1b";

	for (gsize n = 0; n <= sizeof(nasty) - 1; n++) {
		struct header_fields f = {0};
		header_fields_parse(nasty, n, &f);
		assert_fields_valid(&f);
		header_fields_clear(&f);
	}

	GRand *rand = g_rand_new_with_seed(1);
	for (int round = 0; round < 2000; round++) {
		char buf[96];
		gsize n = (gsize)g_rand_int_range(rand, 0, sizeof(buf));
		for (gsize i = 0; i < n; i++) {
			buf[i] = alphabet[g_rand_int_range(rand, 0, sizeof(alphabet) - 1)];
		}
		g_autofree char *block =
		    g_strdup_printf("%s: %.*s\r\n", round % 2 ? "Subject" : "From", (int)n, buf);
		struct header_fields f = {0};
		header_fields_parse(block, strlen(block), &f);
		assert_fields_valid(&f);
		header_fields_clear(&f);
		gint64 t;
		buf[n] = '\0';
		header_parse_internaldate(buf, &t);
	}
	g_rand_free(rand);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/header/decode-text", test_header_decode_text);
	g_test_add_func("/header/sanitize", test_header_sanitize);
	g_test_add_func("/header/sanitize-reply", test_header_sanitize_reply);
	g_test_add_func("/header/from", test_header_from);
	g_test_add_func("/header/fields-parse", test_header_fields_parse);
	g_test_add_func("/header/internaldate", test_header_internaldate);
	g_test_add_func("/header/robust", test_header_robust);
	return g_test_run();
}
