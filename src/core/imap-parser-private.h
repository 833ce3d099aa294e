/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_PARSER_PRIVATE_H
#define IMAPWATCH_IMAP_PARSER_PRIVATE_H

/*
 * Shared between the framer (imap-parser.c), which collects one response
 * from chunks, and the grammar (imap-parser-grammar.c), which parses a
 * complete one. Not for other modules.
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

#endif
