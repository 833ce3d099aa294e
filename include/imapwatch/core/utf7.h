/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_UTF7_H
#define IMAPWATCH_UTF7_H

/*
 * Modified UTF-7 for IMAP mailbox names (RFC 3501 §5.1.3, RFC 9051 App. A.1,
 * docs/PROTOCOL.md P10): printable US-ASCII except '&' stands for itself, "&-" is
 * '&', other characters are UTF-16 in modified base64 (',' for '/') between
 * '&' and '-'. Pure, allocation via GLib.
 */

#include <glib.h>

/* UTF-8 → modified UTF-7. Returns a new string, or NULL if utf8 is not valid
 * UTF-8. Caller frees with g_free. */
char *utf7_imap_encode(const char *utf8);

/* Modified UTF-7 → UTF-8. Returns a new string, or NULL if the input is not
 * well-formed (bad base64, unterminated shift, non-minimal or empty shift
 * "&" + "-" other than "&-", encoded printable ASCII, unpaired surrogates,
 * 8-bit bytes, non-zero padding bits). Also rejected: raw controls and DEL
 * (RFC 3501 lets only printable ASCII stand for itself), two adjacent shifts
 * that should have been one, and an encoded U+0000. Strict so that a name
 * has exactly one spelling; callers show the raw name when this fails.
 * Caller frees with g_free. */
char *utf7_imap_decode(const char *mutf7);

#endif
