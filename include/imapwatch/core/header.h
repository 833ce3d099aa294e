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
 *
 * Decisions beyond the RFCs:
 * - Adjacent encoded words in the same charset are joined before charset
 *   conversion, so a multi-byte character split across two words decodes
 *   to that character; a half character left over becomes U+FFFD.
 * - A token made only of encoded words glued together ("=?..?==?..?=") is
 *   decoded; a word glued to other text is shown raw (E3).
 * - Base64 without '=' padding is accepted; any other bad base64 or Q
 *   escape makes the word malformed, shown raw.
 * - Words in a charset iconv does not know are shown raw.
 * - Raw 8-bit text that is not UTF-8 is read as windows-1252.
 * - Encoded words inside a quoted display name are decoded (common, and
 *   display only); never inside an addr-spec.
 *
 * Uses GMime for charset aliases and Date: parsing; g_mime_init() is
 * called internally, once (g_once), on first use, so callers need no
 * setup; nothing may call g_mime_shutdown() while this module is in use.
 * Safe to call from any thread.
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
 * them with header_fields_clear(). Field names are case-insensitive, the
 * first of duplicate fields wins, an empty line ends the block. From: gives
 * the first mailbox, also inside a group; without any address its text
 * becomes from_name. Strings are not truncated. */
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

/* A server's reply text (the reason of a NO, BAD or BYE, quoted in a
 * failure) made fit for people: header_sanitize(), then server noise at its
 * end taken away with the blanks before it — Dovecot's timing of a command
 * ("(0.001 + 0.000 secs)"), the time stamp of its internal errors, Gmail's
 * "(Failure)" — keeping a full stop after it. Only at the end: a folder's
 * name quoted earlier may hold anything. Returns a new string. */
char *header_sanitize_reply(const char *s);

/* Parses an IMAP INTERNALDATE ("17-Jul-1996 02:44:25 -0700") to Unix
 * seconds. Returns false on malformed input, leaving *out untouched. */
bool header_parse_internaldate(const char *s, gint64 *out);

#endif
