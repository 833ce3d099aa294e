/* SPDX-License-Identifier: MIT */
/*
 * Header decoding for display. The input is used three ways: as a raw
 * header block for header_fields_parse(), and as one NUL-terminated value
 * for header_decode_text() and header_sanitize() (and, for coverage,
 * header_parse_internaldate()). Whatever the bytes, the text that reaches
 * a notification must be valid UTF-8 without C0/C1 controls or bidi
 * overrides, trimmed, with no runs of spaces; from_addr must be one word
 * (no space or tab); header_sanitize() must be idempotent.
 */
#include "fuzz.h"

#include "imapwatch/core/header.h"

#include <string.h>

/* What header_sanitize() documents for its result. */
static void check_display(const char *what, const char *s)
{
	size_t len;

	FUZZ_CHECK_MSG(s != NULL, "%s is NULL", what);
	FUZZ_CHECK_MSG(fuzz_text_is_display_safe(s), "%s is not clean: %s", what, s);
	len = strlen(s);
	FUZZ_CHECK_MSG(len == 0 || (s[0] != ' ' && s[len - 1] != ' '), "%s is not trimmed: '%s'",
	               what, s);
	FUZZ_CHECK_MSG(strstr(s, "  ") == NULL, "%s has a run of spaces: '%s'", what, s);

	g_autofree char *again = header_sanitize(s);
	FUZZ_CHECK_MSG(strcmp(again, s) == 0, "%s: sanitizing again changed '%s' to '%s'", what, s,
	               again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct header_fields fields = {0};
	g_autofree char *value = NULL;
	gint64 date = 0;

	fuzz_init();

	header_fields_parse((const char *)data, size, &fields);
	check_display("from_name", fields.from_name);
	check_display("from_addr", fields.from_addr);
	check_display("subject", fields.subject);
	check_display("message_id", fields.message_id);
	FUZZ_CHECK_MSG(strpbrk(fields.from_addr, " \t") == NULL, "from_addr has a space: '%s'",
	               fields.from_addr);
	header_fields_clear(&fields);
	FUZZ_CHECK(fields.from_name == NULL && fields.subject == NULL);

	/* As a single value; an embedded NUL ends it, as it would in C. */
	value = g_strndup((const char *)data, size);
	g_autofree char *decoded = header_decode_text(value);
	check_display("decoded text", decoded);
	g_autofree char *sanitized = header_sanitize(value);
	check_display("sanitized text", sanitized);
	header_parse_internaldate(value, &date);
	return 0;
}
