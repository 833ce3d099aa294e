/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_PARSER_H
#define IMAPWATCH_IMAP_PARSER_H

/*
 * Incremental IMAP response parser (pure: never reads a socket).
 *
 * Bytes are fed in chunks of any size; the parser returns one complete
 * response at a time. It is resumable at any byte: feeding "* 1 EXI" and then
 * "STS\r\n" gives the same result as feeding the whole line at once. Limits
 * (line length, literal size, nesting depth, argument count) are given at
 * creation; exceeding one is a parse error that names the limit, never an
 * abort and never unbounded memory.
 *
 * Grammar handled (RFC 9051 §9, RFC 3501 §9): tagged, untagged ("*") and
 * continuation ("+") responses; atoms (including "BODY[HEADER.FIELDS (A B)]<0>"
 * style section atoms, which may contain spaces and parentheses inside the
 * brackets), quoted strings with \" and \\ escapes, literals {n} and literal8
 * ~{n} (bytes may include NUL), NIL, nested parenthesised lists, and the
 * status responses OK/NO/BAD/BYE/PREAUTH with an optional [response code] and
 * free text. Status text is taken raw, so "{5}" at the end of a status line is
 * text, not a literal (P1, P2, P3, P9).
 *
 * Leniency, where real servers deviate or where it cannot change the meaning
 * of a valid stream: a bare LF ends a line like CRLF; empty lines between
 * responses are skipped; a status line may end right after its status word
 * or its "[code]" (Gmail); runs of spaces and a space before the end of a
 * line are accepted (Exchange's STATUS); atoms may hold 8-bit bytes, '\',
 * '%', '*' and ']'; "{n+}" is accepted from the server; in a quoted string a
 * backslash before anything but '"' or '\' is kept as sent. Errors: a CR not
 * followed by LF, NUL outside a literal, control characters in atoms,
 * unbalanced parentheses or brackets, unterminated quoted strings, malformed
 * literal counts, an invalid tag, a tagged status other than OK/NO/BAD.
 */

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_arg_type {
	IMAP_ARG_ATOM,    /* includes numbers, flags (\Seen), section atoms */
	IMAP_ARG_STRING,  /* quoted string, unescaped */
	IMAP_ARG_LITERAL, /* {n} or ~{n}; may contain NUL bytes */
	IMAP_ARG_NIL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	/* ATOM, STRING, LITERAL: the bytes, always NUL-terminated; len excludes
	 * the terminator. NIL and LIST: str is NULL, len is 0. */
	char *str;
	size_t len;
	/* LIST: the elements. Others: 0 and NULL. */
	size_t n_children;
	struct imap_arg *children;
};

enum imap_response_kind {
	IMAP_RESPONSE_UNTAGGED,     /* "* ..." */
	IMAP_RESPONSE_TAGGED,       /* "A1 OK ..." */
	IMAP_RESPONSE_CONTINUATION, /* "+ ..." */
};

enum imap_status {
	IMAP_STATUS_NONE, /* untagged data such as "* 3 EXISTS", "* CAPABILITY" */
	IMAP_STATUS_OK,
	IMAP_STATUS_NO,
	IMAP_STATUS_BAD,
	IMAP_STATUS_BYE,
	IMAP_STATUS_PREAUTH,
};

struct imap_response {
	enum imap_response_kind kind;
	char *tag; /* TAGGED only, else NULL */

	/* Status responses (tagged, or untagged OK/NO/BAD/BYE/PREAUTH). */
	enum imap_status status;
	/* Response code name upper-cased ("UIDVALIDITY", "CAPABILITY",
	 * "ALERT", ...) or NULL when there is no "[...]". A '[' with no
	 * matching ']' on the line, or "[]", is left in text. */
	char *code;
	/* Arguments of the response code after its name, parsed as IMAP
	 * arguments up to the closing ']' (atoms, strings, lists). A code whose
	 * arguments do not parse leaves code_args empty; code_raw always holds
	 * the text between the name and ']'. */
	size_t n_code_args;
	struct imap_arg *code_args;
	char *code_raw;
	/* Human-readable text after the code, or the whole text of a
	 * continuation response. Never NULL (may be ""). */
	char *text;

	/* Untagged data: "* 23 EXISTS" gives has_number = true, number = 23,
	 * keyword = "EXISTS". "* CAPABILITY IMAP4rev1 IDLE" gives
	 * keyword = "CAPABILITY" and args = [IMAP4rev1, IDLE]. keyword is
	 * upper-cased; NULL for status and continuation responses. */
	bool has_number;
	uint32_t number;
	char *keyword;
	size_t n_args;
	struct imap_arg *args;
};

struct imap_parser_limits {
	size_t max_line;     /* bytes of one line, CRLF and literal data excluded */
	size_t max_literal;  /* bytes of one literal */
	size_t max_response; /* bytes of one response as received: CRLFs and
	                      * literal data included; checked when a literal
	                      * is announced, before its data arrives */
	unsigned max_depth;  /* list nesting */
	size_t max_args;     /* arguments in one response, all levels counted */
};

/* Limits that fit imapwatch's own use: 64 KiB lines, 1 MiB literals, 4 MiB
 * responses, nesting 16, 100000 arguments. */
extern const struct imap_parser_limits imap_parser_default_limits;

enum imap_parse_result {
	IMAP_PARSE_NEED_MORE, /* all input consumed, no complete response yet */
	IMAP_PARSE_RESPONSE,  /* one response is ready: imap_parser_take() */
	IMAP_PARSE_ERROR,     /* malformed or over a limit: imap_parser_error() */
};

struct imap_parser;

/* Never returns NULL. limits may be NULL for the defaults. */
struct imap_parser *imap_parser_create(const struct imap_parser_limits *limits);
/* Accepts NULL. */
void imap_parser_destroy(struct imap_parser *parser);

/*
 * Feeds up to len bytes. *consumed is set to how many bytes were used: when a
 * response completes, parsing stops right after its final CRLF so the caller
 * can take it and feed the rest (this matters for STARTTLS, S3). Returns
 * NEED_MORE when every byte was consumed without completing a response.
 * While a response waits to be taken, feeding consumes nothing and returns
 * RESPONSE again. After ERROR the parser stays in error until
 * imap_parser_reset(); *consumed then counts the bytes up to the offending
 * one, and the connection should be dropped: there is no safe way to find
 * the start of the next response. consumed may be NULL.
 */
enum imap_parse_result imap_parser_feed(struct imap_parser *parser, const char *data, size_t len,
                                        size_t *consumed);

/* The completed response; the caller owns it (free with
 * imap_response_free). Returns NULL if no response is ready. */
struct imap_response *imap_parser_take(struct imap_parser *parser);

/* Changes the longest line accepted from the next byte fed on, never
 * beyond the longest response (a search over a big folder answers in one
 * line). */
void imap_parser_set_max_line(struct imap_parser *parser, size_t max_line);

/* Static description of the last error ("line longer than 65536 bytes",
 * "unterminated quoted string", ...), or NULL when the parser is not in
 * error. Owned by the parser; valid until the next feed/reset. */
const char *imap_parser_error(const struct imap_parser *parser);

/* True when the parser holds part of a response (bytes fed, not complete).
 * After STARTTLS's tagged OK, consumed < len or this being true means
 * plaintext was injected after it (S3). */
bool imap_parser_has_partial(const struct imap_parser *parser);

/* Forgets partial input and any error. */
void imap_parser_reset(struct imap_parser *parser);

/* Accepts NULL. */
void imap_response_free(struct imap_response *response);

/* Helpers for consumers. */
/* True if arg is an atom equal to s, ASCII case-insensitively. */
bool imap_arg_is_atom(const struct imap_arg *arg, const char *s);
/* Atom, string or literal: returns str; NIL: NULL. Lists: NULL. */
const char *imap_arg_as_string(const struct imap_arg *arg);
/* Parses an atom as an unsigned 32/64-bit number; false if not all digits
 * or out of range. */
bool imap_arg_get_u32(const struct imap_arg *arg, uint32_t *out);
bool imap_arg_get_u64(const struct imap_arg *arg, uint64_t *out);

/* Type names exist only so that g_autoptr(imap_parser) works; code spells
 * the struct. */
typedef struct imap_parser imap_parser;
typedef struct imap_response imap_response;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_parser, imap_parser_destroy)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_response, imap_response_free)

#endif
