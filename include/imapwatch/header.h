/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_HEADER_H
#define IMAPWATCH_HEADER_H

/*
 * Message header decoding for display (pure): the raw bytes of
 * BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)] in, clean UTF-8
 * strings out. RFC 2047 encoded words in any charset iconv knows (E1–E3),
 * malformed words shown raw, raw 8-bit UTF-8 accepted (E5), headers unfolded,
 * control characters and bidi overrides removed (E4). Never fails: missing
 * or broken fields give "" (strings) or 0 (date).
 */

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

struct header_fields {
	char *from_name;  /* display name, "" if none */
	char *from_addr;  /* addr-spec "user@example.com", "" if none */
	char *subject;    /* "" if none */
	char *message_id; /* "<...>" as sent, "" if none */
	gint64 date;      /* Date: as Unix seconds, 0 if absent or unparsable */
};

/* Parses the header block raw[0..len) (may contain NUL bytes, which are
 * dropped). Fills every member of out with newly allocated strings; free
 * them with header_fields_clear(). */
void header_fields_parse(const char *raw, size_t len, struct header_fields *out);

/* Frees the members and zeroes the struct. Accepts a zeroed struct. */
void header_fields_clear(struct header_fields *fields);

/* Decodes one unstructured header value (RFC 2047 words, unfolding) and
 * sanitizes it with header_sanitize(). Returns a new string. */
char *header_decode_text(const char *raw);

/* Returns a new valid UTF-8 string made from s: invalid UTF-8 sequences are
 * replaced by U+FFFD, CR/LF/TAB become a single space, other C0/C1 controls
 * and DEL are removed, bidi embedding/override/isolate characters
 * (U+202A–U+202E, U+2066–U+2069) and U+200E/U+200F are removed, runs of
 * spaces collapse to one, leading and trailing spaces are trimmed. */
char *header_sanitize(const char *s);

/* Parses an IMAP INTERNALDATE ("17-Jul-1996 02:44:25 -0700") to Unix
 * seconds. Returns false on malformed input, leaving *out untouched. */
bool header_parse_internaldate(const char *s, gint64 *out);

#endif
