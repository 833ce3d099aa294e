/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/utf7.h"

/* Pairs that must map onto each other in both directions. */
static const struct {
	const char *utf8;
	const char *mutf7;
} utf7_pairs[] = {
    {"", ""},
    {"INBOX", "INBOX"},
    /* RFC 3501 §5.1.3 example. */
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
    {"&", "&-"},
    {"&&", "&-&-"},
    {"Ordner & Dateien", "Ordner &- Dateien"},
    {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
    {"\xc3\xa4", "&AOQ-"},
    {"\xc3\xa4\xc3\xb6", "&AOQA9g-"},
    {"\xc3\xbf", "&AP8-"},
    /* U+1F600 as the surrogate pair D83D DE00. */
    {"\xf0\x9f\x98\x80", "&2D3eAA-"},
    {"a\xf0\x9f\x98\x80"
     "b",
     "a&2D3eAA-b"},
    /* A shift followed directly by "&-". */
    {"\xc3\xa4&", "&AOQ-&-"},
    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e & \xe4\xb8\xad\xe6\x96\x87", "&ZeVnLIqe- &- &Ti1lhw-"},
    /* Controls and DEL are not printable, so they are base64-encoded. */
    {"\x01", "&AAE-"},
    {"a\tb", "a&AAk-b"},
    {"\x7f", "&AH8-"},
    {"\xc2\x80", "&AIA-"},
    {"\xef\xbf\xbf", "&,,8-"},
    {"\xf4\x8f\xbf\xbf", "&2,,f,w-"},
    {"~/.-_+,;[]{}()!#$%^*=\\|\"'`<>?@", "~/.-_+,;[]{}()!#$%^*=\\|\"'`<>?@"},
};

static const char *const utf7_bad_mutf7[] = {
    /* unterminated shift */
    "&",
    "abc&",
    "&AOQ",
    "&AOQA9g",
    /* bad base64 */
    "&AO!-",
    "&AOQ=-",
    "&AO/Q-",
    "&AO Q-",
    /* non-minimal: adjacent shifts, superfluous sextet */
    "&AOQ-&APY-",
    "&AOQA-",
    "&A-",
    /* encoded printable ASCII, including '&' and U+0000 */
    "&AGE-",
    "&ACY-",
    "&AAA-",
    "&AOQAYQ-",
    /* unpaired surrogates */
    "&2D0-",
    "&3gA-",
    "&2D3YPQ-",
    "&2D0A5A-",
    "a&3gDYPQ-",
    /* 8-bit bytes */
    "caf\xc3\xa9",
    "\xff",
    /* raw controls and DEL */
    "a\tb",
    "a\x7f",
    /* non-zero padding bits */
    "&AOR-",
    "&AOQA9h-",
};

static const char *const utf7_bad_utf8[] = {
    "\xff",
    "caf\xe9",
    "\xc3",
    "\xc0\xaf",         /* overlong '/' */
    "\xed\xa0\xbd",     /* encoded surrogate */
    "\xf4\x90\x80\x80", /* above U+10FFFF */
    "ok\xe2\x82",       /* truncated sequence */
};

static void test_utf7_encode(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(utf7_pairs); i++) {
		g_autofree char *got = utf7_imap_encode(utf7_pairs[i].utf8);
		g_assert_cmpstr(got, ==, utf7_pairs[i].mutf7);
	}
}

static void test_utf7_decode(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(utf7_pairs); i++) {
		g_autofree char *got = utf7_imap_decode(utf7_pairs[i].mutf7);
		g_assert_cmpstr(got, ==, utf7_pairs[i].utf8);
	}
}

static void test_utf7_decode_malformed(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(utf7_bad_mutf7); i++) {
		g_autofree char *got = utf7_imap_decode(utf7_bad_mutf7[i]);
		if (got != NULL) {
			g_test_message("accepted '%s' as '%s'", utf7_bad_mutf7[i], got);
		}
		g_assert_null(got);
	}
	g_assert_null(utf7_imap_decode(NULL));
}

static void test_utf7_encode_invalid(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(utf7_bad_utf8); i++) {
		g_autofree char *got = utf7_imap_encode(utf7_bad_utf8[i]);
		g_assert_null(got);
	}
	g_assert_null(utf7_imap_encode(NULL));
}

/* Every code point class (ASCII, '&', BMP, supplementary) in every position
 * and combination survives encode → decode, and the encoder's output is
 * itself accepted by the strict decoder. */
static void test_utf7_round_trip(void)
{
	static const gunichar pieces[] = {
	    'a', '&', '-', ' ', 0x01, 0xe4, 0x7f, 0x3042, 0xfffd, 0x1f600, 0x10ffff, 0x10000,
	};
	for (gsize i = 0; i < G_N_ELEMENTS(pieces); i++) {
		for (gsize j = 0; j < G_N_ELEMENTS(pieces); j++) {
			for (gsize k = 0; k < G_N_ELEMENTS(pieces); k++) {
				g_autoptr(GString) in = g_string_new(NULL);
				g_string_append_unichar(in, pieces[i]);
				g_string_append_unichar(in, pieces[j]);
				g_string_append_unichar(in, pieces[k]);
				g_autofree char *enc = utf7_imap_encode(in->str);
				g_assert_nonnull(enc);
				g_autofree char *dec = utf7_imap_decode(enc);
				g_assert_cmpstr(dec, ==, in->str);
			}
		}
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/utf7/encode", test_utf7_encode);
	g_test_add_func("/utf7/decode", test_utf7_decode);
	g_test_add_func("/utf7/decode-malformed", test_utf7_decode_malformed);
	g_test_add_func("/utf7/encode-invalid", test_utf7_encode_invalid);
	g_test_add_func("/utf7/round-trip", test_utf7_round_trip);
	return g_test_run();
}
