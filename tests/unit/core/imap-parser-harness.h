/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_TEST_IMAP_PARSER_HARNESS_H
#define IMAPWATCH_TEST_IMAP_PARSER_HARNESS_H

/*
 * Every case is fed whole, split in two at every offset, byte by byte and
 * (for the mutation test) in random chunks; the transcript of what came out
 * must be the same each time and equal to the expected one.
 */

#include "imapwatch/core/imap-parser.h"

#include <glib.h>

struct parser_case {
	const char *name;
	const char *input;
	size_t len; /* 0: strlen(input); set when the input holds NUL */
	const char *expected;
	const struct imap_parser_limits *limits; /* NULL: defaults */
};

/*
 * Feeds input cut at the given offsets (increasing, inside the input) and
 * returns one line per response, then "ERROR: <message>" or "PARTIAL" if
 * that is how the input ended.
 */
char *run_chunks(const struct parser_case *tc, const char *input, size_t len, const size_t *cuts,
                 size_t n_cuts);
/* The length of tc's input. */
size_t case_len(const struct parser_case *tc);
/* Whole, every two-way split, byte by byte: all equal to expected. */
void check_every_chunking(const struct parser_case *tc, const char *input, size_t len,
                          const char *expected);

#endif
