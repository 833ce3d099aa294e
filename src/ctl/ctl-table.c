/* SPDX-License-Identifier: MIT */
#include "imapwatch/ctl/ctl-table.h"

#include "imapwatch/ctl/ctl-format.h"

struct cell {
	char *text;
	char *sgr;
};

struct ctl_table {
	guint n_columns;
	bool colour;
	GArray *cells; /* struct cell, row by row */
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
	g_array_set_clear_func(t->cells, cell_clear);
	return t;
}

void ctl_table_free(struct ctl_table *t)
{
	if (t == NULL) {
		return;
	}
	g_array_unref(t->cells);
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

char *ctl_table_render(const struct ctl_table *t)
{
	g_autofree gsize *widths = g_new0(gsize, t->n_columns);
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < t->cells->len; i++) {
		const struct cell *c = &g_array_index(t->cells, struct cell, i);
		gsize w = ctl_format_width(c->text);

		widths[i % t->n_columns] = MAX(widths[i % t->n_columns], w);
	}
	for (guint i = 0; i < t->cells->len; i++) {
		const struct cell *c = &g_array_index(t->cells, struct cell, i);
		guint column = i % t->n_columns;
		bool last = column == t->n_columns - 1 || i == t->cells->len - 1;
		bool painted = t->colour && c->sgr != NULL;

		if (painted) {
			g_string_append_printf(out, "\033[%sm", c->sgr);
		}
		g_string_append(out, c->text);
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
		for (gsize pad = ctl_format_width(c->text); pad < widths[column] + 2; pad++) {
			g_string_append_c(out, ' ');
		}
	}
	return g_string_free(out, FALSE);
}
