/* SPDX-License-Identifier: MIT */
#include "imapwatch/ctl/ctl-table.h"

#include "imapwatch/ctl/ctl-format.h"

/* Blanks between two columns. */
#define GAP 2

struct cell {
	char *text;
	char *sgr;
};

struct ctl_table {
	guint n_columns;
	bool colour;
	GArray *cells;     /* struct cell, row by row */
	gsize *min_widths; /* per column: how far it may shrink; 0 = not at all */
};

static void cell_clear(gpointer p)
{
	struct cell *c = p;

	g_free(c->text);
	g_free(c->sgr);
}

struct ctl_table *ctl_table_new(guint n_columns, bool colour)
{
	struct ctl_table *t = g_new0(struct ctl_table, 1);

	t->n_columns = n_columns;
	t->colour = colour;
	t->cells = g_array_new(FALSE, TRUE, sizeof(struct cell));
	t->min_widths = g_new0(gsize, n_columns);
	g_array_set_clear_func(t->cells, cell_clear);
	return t;
}

void ctl_table_free(struct ctl_table *t)
{
	if (t == NULL) {
		return;
	}
	g_array_unref(t->cells);
	g_free(t->min_widths);
	g_free(t);
}

void ctl_table_add(struct ctl_table *t, const char *text, const char *sgr)
{
	struct cell c = {
	    .text = g_strdup(text != NULL ? text : ""),
	    .sgr = g_strdup(sgr),
	};

	g_array_append_val(t->cells, c);
}

void ctl_table_set_shrinkable(struct ctl_table *t, guint column, gsize min_width)
{
	g_return_if_fail(column < t->n_columns);
	t->min_widths[column] = MAX(min_width, 1);
}

/* The column a shrinking row gives up a column of first: the widest
 * shrinkable one still above its minimum, the later one of equals (the
 * subject before the sender); -1 if none is left. */
static int widest_shrinkable(const struct ctl_table *t, const gsize *widths)
{
	int best = -1;

	for (guint i = 0; i < t->n_columns; i++) {
		if (t->min_widths[i] == 0 || widths[i] <= t->min_widths[i]) {
			continue;
		}
		if (best < 0 || widths[i] >= widths[best]) {
			best = (int)i;
		}
	}
	return best;
}

/* Narrows the shrinkable columns until a row takes at most max_width
 * columns, or they are all at their minimum. */
static void fit_widths(const struct ctl_table *t, gsize *widths, gsize max_width)
{
	gsize total = GAP * (t->n_columns - 1);

	for (guint i = 0; i < t->n_columns; i++) {
		total += widths[i];
	}
	while (total > max_width) {
		int column = widest_shrinkable(t, widths);

		if (column < 0) {
			return;
		}
		widths[column]--;
		total--;
	}
}

char *ctl_table_render_width(const struct ctl_table *t, gsize max_width)
{
	g_autofree gsize *widths = g_new0(gsize, t->n_columns);
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < t->cells->len; i++) {
		const struct cell *c = &g_array_index(t->cells, struct cell, i);
		gsize w = ctl_format_width(c->text);

		widths[i % t->n_columns] = MAX(widths[i % t->n_columns], w);
	}
	if (max_width > 0) {
		fit_widths(t, widths, max_width);
	}
	for (guint i = 0; i < t->cells->len; i++) {
		const struct cell *c = &g_array_index(t->cells, struct cell, i);
		guint column = i % t->n_columns;
		bool last = column == t->n_columns - 1 || i == t->cells->len - 1;
		bool painted = t->colour && c->sgr != NULL;
		g_autofree char *text = ctl_format_ellipsize(c->text, widths[column]);

		if (painted) {
			g_string_append_printf(out, "\033[%sm", c->sgr);
		}
		g_string_append(out, text);
		if (painted) {
			g_string_append(out, "\033[0m");
		}
		if (last) {
			/* Trailing blanks of rows whose last cells are empty go. */
			while (out->len > 0 && out->str[out->len - 1] == ' ') {
				g_string_truncate(out, out->len - 1);
			}
			g_string_append_c(out, '\n');
			continue;
		}
		for (gsize pad = ctl_format_width(text); pad < widths[column] + GAP; pad++) {
			g_string_append_c(out, ' ');
		}
	}
	return g_string_free(out, FALSE);
}

char *ctl_table_render(const struct ctl_table *t)
{
	return ctl_table_render_width(t, 0);
}
