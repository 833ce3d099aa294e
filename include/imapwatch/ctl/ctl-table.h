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

/* Lets a column shrink, down to min_width columns (at least 1), when the
 * table is rendered to a width. */
void ctl_table_set_shrinkable(struct ctl_table *table, guint column, gsize min_width);

/* The table with rows of at most max_width terminal columns (0: no
 * limit): the shrinkable columns give up columns one at a time, the
 * widest first, down to their minimum, and their cells that no longer fit
 * end in "…" (ctl_format_ellipsize). Rows stay wider only when the other
 * columns alone are. New string. */
char *ctl_table_render_width(const struct ctl_table *table, gsize max_width);

#endif
