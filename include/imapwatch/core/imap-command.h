/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_COMMAND_H
#define IMAPWATCH_IMAP_COMMAND_H

/*
 * Pieces of IMAP command lines (pure: no I/O, no logging). Everything here
 * produces text that fits on one command line; literals are not built, so a
 * value that would need one is refused and the caller must not send it.
 */

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s cannot be sent as an atom: it is empty, or holds a byte that
 * is not an ASTRING-CHAR (RFC 9051 §9), or is "NIL" in any case (quoted so
 * that no server can take it for nil). */
bool imap_command_needs_quoting(const char *s);

/*
 * Appends s as an astring: an atom when possible, else a quoted string with
 * '"' and '\\' escaped. Returns false, leaving out unchanged, when s holds a
 * control character (CR, LF, TAB, ...) or an 8-bit byte: that needs a
 * literal, which this builder does not make; the caller must not send the
 * command.
 */
bool imap_command_append_astring(GString *out, const char *s);

/*
 * Appends the UIDs as a sequence set with ranges: {1,2,3,5,7,8,9} gives
 * "1:3,5,7:9". Input may be unsorted and hold duplicates (a sorted copy is
 * made when needed; uids is not modified). n == 0 appends nothing: an empty
 * set is not valid IMAP, so the caller must not send it. Keeping the line
 * short (P5) is the caller's job.
 */
void imap_command_append_uid_set(GString *out, const uint32_t *uids, size_t n);

/*
 * The AUTHENTICATE PLAIN response (RFC 4616): base64 of
 * authzid NUL user NUL password. authzid may be NULL or "" (none). Returns
 * NULL when user or password is NULL or empty (RFC 4616 requires both).
 * The result holds the password: the caller clears it (explicit_bzero) and
 * frees it with g_free. The unencoded message is cleared before returning.
 */
char *imap_command_base64_plain(const char *authzid, const char *user, const char *password);

#endif
