/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_OAUTH_H
#define IMAPWATCH_OAUTH_H

/*
 * OAuth 2.0 access tokens (pure): what a token command prints, and what a
 * server says when it refuses one (A3–A5 in docs/PROTOCOL.md).
 *
 * A token command prints either the bare token on its first line (gcloud,
 * pass, most scripts) or a JSON object with "access_token" and optionally
 * "expires_in" (seconds from now) or "expires_at" (Unix seconds, or an ISO
 * 8601 date) — what OAuth token endpoints return and helpers such as oama
 * or mailctl pass on. Nothing of the token ever goes into an error text.
 */

#include <glib.h>
#include <stdbool.h>

struct oauth_token {
	char *access_token; /* wiped by oauth_token_clear() */
	gint64 expires_at;  /* Unix seconds; 0 when the command did not say */
};

/* Longest output of a token command that is parsed (JSON or line). */
#define OAUTH_OUTPUT_MAX (64 * 1024)
/* Deepest nesting of JSON objects and arrays that is walked. */
#define OAUTH_JSON_DEPTH_MAX 16

/*
 * Reads a token command's output, now being the current Unix time. True
 * with *out filled (free with oauth_token_clear()); false with *error (free
 * with g_free()) saying what is wrong, without quoting the output: no
 * token, an empty first line, JSON without a string "access_token", a token
 * with characters a bearer token cannot hold (RFC 6750 §2.1), a date that
 * cannot be read.
 */
bool oauth_token_parse(const char *output, gsize len, gint64 now, struct oauth_token *out,
                       char **error);
/* Wipes and frees the token; *token is all zero afterwards. */
void oauth_token_clear(struct oauth_token *token);

/*
 * A server's refusal of a token, as XOAUTH2 sends it in a continuation
 * ("+ " base64 of {"status":"401","schemes":"Bearer","scope":"…"}) or
 * OAUTHBEARER likewise (RFC 7628 §3.2.2): "status 401, scope …" for the
 * log and the account's state detail, or NULL if it is not such JSON. The
 * text is the server's: sanitise before showing it (E4).
 */
char *oauth_error_describe(const char *base64);

#endif
