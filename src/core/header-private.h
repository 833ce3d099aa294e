/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_HEADER_PRIVATE_H
#define IMAPWATCH_HEADER_PRIVATE_H

/*
 * Shared by the two halves of header decoding, not for other modules:
 * header-text.c decodes unstructured text (RFC 2047 words, charsets,
 * sanitizing); header.c splits the header block and parses From:, Date:,
 * Message-ID: and INTERNALDATE.
 */

#include "imapwatch/core/header.h"

/* Whitespace, folding line breaks included. */
static inline bool header_is_lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- header-text.c ---- */

/* Sets up GMime once, before the first GMime call (any thread). */
void header_init_gmime(void);

#endif
