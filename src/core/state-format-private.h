/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_STATE_FORMAT_PRIVATE_H
#define IMAPWATCH_STATE_FORMAT_PRIVATE_H

/*
 * Shared by the two halves of the state format, not for other modules:
 * state-format.c (the data model, names and their escapes, writing) and
 * state-format-parse.c (the strict, bounded parser).
 */

#include "imapwatch/core/state-format.h"

#define FORMAT_MAGIC   "imapwatch-state"
#define FORMAT_VERSION 3
/* What a file without an "idle" line is written as (older versions read
 * it). */
#define FORMAT_VERSION_NO_IDLE 2
/* The oldest version still read. */
#define FORMAT_VERSION_MIN 1
#define END_PREFIX         "end sha256 "

enum escape_mode {
	/* File names: only [A-Za-z0-9_-] stay, so '.' and '/' never do. */
	ESCAPE_FILE,
	/* Names inside the file: only what would break the line syntax
	 * (space, controls) and '%' itself; UTF-8 stays readable. */
	ESCAPE_TEXT,
};

/* An "idle" line's numbers as the format allows them. */
bool state_format_idle_ok(uint64_t lifetime, uint64_t refresh);

/* A new folder called name (copied): everything 0, nothing shown. */
struct state_folder *state_format_folder_new(const char *name);

/*
 * Strict inverse of escape_append(): only upper-case %XX, only for bytes
 * that are escaped, never %00, no raw byte that should have been escaped.
 * One spelling per name keeps the mapping one-to-one. Returns the name, or
 * NULL if s is not a canonical escaped non-empty name.
 */
char *state_format_unescape(const char *s, gsize len, enum escape_mode mode);

#endif
