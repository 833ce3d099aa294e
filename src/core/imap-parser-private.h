/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_PARSER_PRIVATE_H
#define IMAPWATCH_IMAP_PARSER_PRIVATE_H

/*
 * Shared between the framer (imap-parser.c), which collects one response
 * from chunks, and the grammar, which parses a complete one: its structure
 * (imap-parser-grammar.c) and its arguments (imap-parser-args.c: atoms,
 * strings, literals, lists). Not for other modules.
 */

#include "imapwatch/core/imap-parser.h"

/*
 * A framed response: every line ends with a single '\n' (CR dropped), and
 * the data of each literal follows the '\n' of the line that announced it.
 */
struct imap_parser_literal {
	size_t token; /* offset of the '{' or '~' that starts the literal */
	size_t data;  /* offset of the first data byte */
	size_t len;
};

struct imap_parser_frame {
	const char *buf;
	size_t len;
	const struct imap_parser_literal *literals; /* in buffer order */
	size_t n_literals;
};

/* OK/NO/BAD/BYE/PREAUTH, ASCII case-insensitively; IMAP_STATUS_NONE for any
 * other word. Framer and grammar both use it so that they agree on which
 * lines are status lines. */
enum imap_status imap_parser_grammar_status(const char *word, size_t len);

/* Parses a complete frame. Returns a new response, or NULL with a static
 * description written to error (always NUL-terminated). */
struct imap_response *imap_parser_grammar_parse(const struct imap_parser_frame *frame,
                                                const struct imap_parser_limits *limits,
                                                char *error, size_t error_size);

/* ---- imap-parser-grammar.c and imap-parser-args.c ---- */

/* One pass over a frame (or over a response code's arguments). Parsing
 * stops at len or at the first '\n' not skipped by a literal. */
struct cursor {
	const char *s;
	size_t pos;
	size_t len;
	const struct imap_parser_literal *lits;
	size_t n_lits;
	size_t next_lit;
	const struct imap_parser_limits *limits;
	size_t n_args;
	char error[128];
};

/* Records message as the error; returns false. */
bool imap_parser_cursor_fail(struct cursor *c, const char *message);
/* At the end of the line (or of the input). */
bool imap_parser_cursor_eol(const struct cursor *c);
/* The current byte; '\n' at the end so callers need no bounds check. */
unsigned char imap_parser_cursor_peek(const struct cursor *c);
/*
 * Atom bytes as servers send them. RFC 9051 atoms are 7-bit ATOM-CHARs; we
 * also take '\' (flags), '%' and '*' ("\*", "1:*"), ']' (astrings) and 8-bit
 * bytes: a server that puts UTF-8 in a keyword must not make us drop the
 * FETCH around it, and consumers validate what they use.
 */
bool imap_parser_is_atom_char(unsigned char ch);
/*
 * Arguments up to the end of the line. Iterative, with one array per open
 * list, so nesting depth costs heap bounded by max_depth rather than stack.
 * Runs of spaces and a space before the end of the line are accepted
 * (Exchange's "* STATUS x (...) ", P9). A list may follow another token
 * without a space, as multipart BODYSTRUCTURE requires.
 */
bool imap_parser_parse_args(struct cursor *c, struct imap_arg **out, size_t *n_out);

#endif
