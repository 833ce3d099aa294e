/* SPDX-License-Identifier: MIT */
/*
 * Modified UTF-7 (mailbox names). The input, up to its first NUL, is tried
 * both as a name from the server and as a name from the config file:
 * - decode(x) is NULL or valid UTF-8, and when it succeeds x was in the one
 *   canonical form, so encode(decode(x)) == x;
 * - encode(x) succeeds exactly when x is valid UTF-8, gives printable
 *   ASCII only, and decode(encode(x)) == x.
 */
#include "fuzz.h"

#include "imapwatch/core/utf7.h"

#include <string.h>

static bool is_printable_ascii(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e) {
			return false;
		}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();

	g_autofree char *x = g_strndup((const char *)data, size);
	g_autofree char *decoded = utf7_imap_decode(x);
	if (decoded != NULL) {
		FUZZ_CHECK_MSG(g_utf8_validate(decoded, -1, NULL), "decode('%s') is not UTF-8", x);
		g_autofree char *again = utf7_imap_encode(decoded);
		FUZZ_CHECK_MSG(again != NULL && strcmp(again, x) == 0,
		               "'%s' decodes but is not canonical: encodes back as '%s'", x,
		               again != NULL ? again : "(null)");
	}

	g_autofree char *encoded = utf7_imap_encode(x);
	if (!g_utf8_validate(x, -1, NULL)) {
		FUZZ_CHECK_MSG(encoded == NULL, "invalid UTF-8 was encoded as '%s'", encoded);
		return 0;
	}
	FUZZ_CHECK_MSG(encoded != NULL, "valid UTF-8 '%s' not encoded", x);
	FUZZ_CHECK_MSG(is_printable_ascii(encoded), "encoded form '%s' is not printable ASCII",
	               encoded);
	g_autofree char *back = utf7_imap_decode(encoded);
	FUZZ_CHECK_MSG(back != NULL && strcmp(back, x) == 0,
	               "'%s' encodes as '%s', which decodes as '%s'", x, encoded,
	               back != NULL ? back : "(null)");
	return 0;
}
