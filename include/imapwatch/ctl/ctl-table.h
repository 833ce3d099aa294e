/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CTL_TABLE_H
#define IMAPWATCH_CTL_TABLE_H

/*
 * ctl_table: rows of text printed in aligned columns, two spaces apart, the
 * first row as a header. Widths are terminal columns (ctl_format_width), so
 * non-ASCII folder names and subjects line up. Colour is an SGR code per
 * cell ("1", "31", "1;32", ...), written only when the table was made with
 * colour on; it never counts towards a width.
 */

#include <glib.h>
#include <stdbool.h>

struct ctl_table;

struct ctl_table *ctl_table_new(guint n_columns, bool colour);
void ctl_table_free(struct ctl_table *table);

/* Adds the next cell, filling rows left to right; text is copied (NULL is
 * ""), sgr may be NULL. */
void ctl_table_add(struct ctl_table *table, const char *text, const char *sgr);

/* The table, one line per row with a trailing newline; the last column is
 * not padded. New string. */
char *ctl_table_render(const struct ctl_table *table);

#endif
