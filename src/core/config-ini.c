/* SPDX-License-Identifier: MIT */
/*
 * The config file is read by a small line-oriented reader instead of
 * GKeyFile, because GKeyFile forgets line numbers, silently merges repeated
 * groups and lets a repeated key win. The syntax is GKeyFile's — "[group]"
 * lines, "key = value" lines, '#' comment lines, blank lines — with a
 * comment allowed after a "[group]" line too; each value is read by
 * config-lex.c.
 *
 * Also here: config_fail(), the one place that words where in the file a
 * problem is, and the list of problems it collects.
 */
#include "core/config-private.h"

#include <string.h>

/* Problems kept for the message; the rest are only counted. Bounds the
 * memory a file of garbage can take. */
#define CONFIG_MAX_KEPT 1000

struct config_problem {
	guint line;
	guint seq; /* order found, for problems of the same line */
	char *text;
};

static void problem_free(gpointer data)
{
	struct config_problem *problem = data;

	g_free(problem->text);
	g_free(problem);
}

static void ini_entry_free(struct config_ini_entry *entry)
{
	g_free(entry->key);
	/* Any value may be a password. */
	secret_free(entry->value);
	if (entry->items != NULL) {
		g_ptr_array_unref(entry->items);
	}
	g_free(entry);
}

static struct config_ini_group *ini_group_new(const char *name, guint line)
{
	struct config_ini_group *group = g_new0(struct config_ini_group, 1);

	group->name = g_strdup(name);
	group->line = line;
	group->entries = g_ptr_array_new_with_free_func((GDestroyNotify)ini_entry_free);
	return group;
}

static void ini_group_free(struct config_ini_group *group)
{
	if (group == NULL) {
		return;
	}
	g_free(group->name);
	g_ptr_array_unref(group->entries);
	g_free(group);
}

bool config_fail(struct config_parse *p, guint line, const char *group, const char *key,
                 const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;
	g_autoptr(GString) where = g_string_new(p->path);
	struct config_problem *problem;

	p->n_problems++;
	if (p->problems == NULL) {
		p->problems = g_ptr_array_new_with_free_func(problem_free);
	}
	if (p->problems->len >= CONFIG_MAX_KEPT) {
		return false;
	}
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);

	if (line > 0) {
		g_string_append_printf(where, ":%u", line);
	}
	g_string_append(where, ":");
	if (group) {
		g_string_append_printf(where, " [%s]", group);
		if (!key) {
			g_string_append(where, ":");
		}
	}
	if (key) {
		g_string_append_printf(where, " key '%s':", key);
	}
	problem = g_new0(struct config_problem, 1);
	problem->line = line;
	problem->seq = p->problems->len;
	problem->text = g_strdup_printf("%s %s", where->str, msg);
	g_ptr_array_add(p->problems, problem);
	return false;
}

static gint problem_order(gconstpointer a, gconstpointer b)
{
	const struct config_problem *x = *(const struct config_problem *const *)a;
	const struct config_problem *y = *(const struct config_problem *const *)b;

	/* Problems of the whole file (line 0) after those of a line. */
	if (x->line != y->line) {
		return x->line != 0 && (y->line == 0 || x->line < y->line) ? -1 : 1;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

bool config_parse_finish(struct config_parse *p, GError **error)
{
	g_autoptr(GPtrArray) problems = g_steal_pointer(&p->problems);
	g_autoptr(GString) text = NULL;
	guint shown;

	if (p->n_problems == 0) {
		return true;
	}
	/* The reader finds its problems before the checks find theirs: the
	 * user reads them in the order of the file. */
	g_ptr_array_sort(problems, problem_order);
	text = g_string_new(NULL);
	shown = MIN(problems->len, CONFIG_MAX_REPORTED);
	for (guint i = 0; i < shown; i++) {
		const struct config_problem *problem = problems->pdata[i];

		g_string_append_printf(text, "%s%s", i > 0 ? "\n" : "", problem->text);
	}
	if (p->n_problems > shown) {
		g_string_append_printf(text, "\n… and %u more error%s", p->n_problems - shown,
		                       p->n_problems - shown == 1 ? "" : "s");
	}
	p->n_problems = 0;
	g_set_error_literal(error, CONFIG_ERROR, CONFIG_ERROR_INVALID, text->str);
	return false;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Trims [*start, *end) in place. */
void config_span_trim(const char **start, const char **end)
{
	while (*start < *end && is_blank(**start)) {
		(*start)++;
	}
	while (*end > *start && is_blank((*end)[-1])) {
		(*end)--;
	}
}

const char *config_skip_blanks(const char *c, const char *end)
{
	while (c < end && is_blank(*c)) {
		c++;
	}
	return c;
}

static struct config_ini_group *ini_find_group(GPtrArray *groups, const char *name)
{
	for (guint i = 0; i < groups->len; i++) {
		struct config_ini_group *group = groups->pdata[i];

		if (strcmp(group->name, name) == 0) {
			return group;
		}
	}
	return NULL;
}

struct config_ini_entry *config_ini_find_entry(const struct config_ini_group *group,
                                               const char *key)
{
	for (guint i = 0; i < group->entries->len; i++) {
		struct config_ini_entry *entry = group->entries->pdata[i];

		if (strcmp(entry->key, key) == 0) {
			return entry;
		}
	}
	return NULL;
}

/* ---- lines ---- */

/* The name in a "[group]" line, which may end in a comment; NULL after
 * config_fail(). */
static char *ini_group_name(struct config_parse *p, const char *start, const char *end, guint line)
{
	const char *close = memchr(start, ']', (gsize)(end - start));
	const char *rest = close != NULL ? config_skip_blanks(close + 1, end) : NULL;
	g_autofree char *name = NULL;

	if (rest == NULL || (rest < end && *rest != '#')) {
		config_fail(p, line, NULL, NULL,
		            "a group header must be a whole line like [daemon] or "
		            "[account NAME], with nothing after the ']' but a # comment");
		return NULL;
	}
	name = g_strndup(start + 1, (gsize)(close - start - 1));
	g_strstrip(name);
	for (const char *c = name; *c; c++) {
		if (*c == '[' || g_ascii_iscntrl(*c)) {
			config_fail(p, line, NULL, NULL,
			            "group name contains '[', ']' or a control character");
			return NULL;
		}
	}
	return g_steal_pointer(&name);
}

/* A line that cannot be read but names its key (in [start, key_end)):
 * the key counts as given (with a bad value), so that it is not reported
 * missing too. key_end NULL: the key is what comes before a '='. */
static void ini_keep_key(struct config_ini_group *group, const char *start, const char *key_end,
                         const char *end, guint line)
{
	struct config_ini_entry *entry;

	if (key_end == NULL) {
		key_end = memchr(start, '=', (gsize)(end - start));
	}
	if (group == NULL || group->name == NULL || key_end == NULL) {
		return;
	}
	config_span_trim(&start, &key_end);
	if (start == key_end || memchr(start, '\0', (gsize)(key_end - start)) ||
	    !g_utf8_validate(start, key_end - start, NULL)) {
		return;
	}
	entry = g_new0(struct config_ini_entry, 1);
	entry->key = g_strndup(start, (gsize)(key_end - start));
	if (config_ini_find_entry(group, entry->key) != NULL) {
		g_free(entry->key);
		g_free(entry);
		return;
	}
	entry->value = g_strdup("");
	entry->bad = true;
	entry->line = line;
	g_ptr_array_add(group->entries, entry);
}

/* A "key = value" line into group (NULL before any group). */
static void ini_read_entry(struct config_parse *p, struct config_ini_group *group,
                           const char *line_start, const char *start, const char *end, guint line)
{
	const char *eq = memchr(start, '=', (gsize)(end - start));
	const char *key_end;
	const char *value;
	struct config_ini_entry *other;
	g_autofree char *key = NULL;

	if (!eq) {
		const char *colon = memchr(start, ':', (gsize)(end - start));
		const char *word = start;

		while (word < end && (g_ascii_isalnum(*word) || *word == '_')) {
			word++;
		}
		if (*start == ';') {
			config_fail(p, line, NULL, NULL, "comments start with '#', not ';'");
		} else if (colon != NULL && word > start && word == colon) {
			/* "host: imap.example.com" (YAML). The value is not
			 * quoted: it may be a password. */
			config_fail(p, line, NULL, NULL, "write %.*s = value, with '=', not ':'",
			            (int)(word - start), start);
			ini_keep_key(group, start, word, end, line);
		} else {
			config_fail(
			    p, line, NULL, NULL,
			    "this line is not a [group], a key = value pair or a # comment");
		}
		return;
	}
	key_end = eq;
	value = config_skip_blanks(eq + 1, end);
	config_span_trim(&start, &key_end);
	if (start == key_end) {
		config_fail(p, line, NULL, NULL, "there is no key name before '='");
		return;
	}
	key = g_strndup(start, (gsize)(key_end - start));
	if (!group) {
		config_fail(p, line, NULL, key,
		            "appears before any group; put it under [daemon] or [account NAME]");
		return;
	}
	other = config_ini_find_entry(group, key);
	if (other) {
		config_fail(p, line, group->name, key,
		            "set twice in this group (first on line %u); keep one", other->line);
		return;
	}

	if (group->name == NULL) {
		return; /* under a broken group line: its keys mean nothing yet */
	}

	g_autofree struct config_ini_entry *entry = g_new0(struct config_ini_entry, 1);

	entry->line = line;
	entry->column = (guint)(value - line_start) + 1;
	/* Kept when bad, so that its key is not reported missing as well. */
	entry->bad = !config_lex_value(p, group->name, key, line_start, value, end, entry);
	entry->key = g_steal_pointer(&key);
	if (entry->value == NULL) {
		entry->value = g_strdup("");
	}
	g_ptr_array_add(group->entries, g_steal_pointer(&entry));
}

GPtrArray *config_ini_read(struct config_parse *p, const char *data, gsize len)
{
	g_autoptr(GPtrArray) groups =
	    g_ptr_array_new_with_free_func((GDestroyNotify)ini_group_free);
	struct config_ini_group *group = NULL;
	/* The lines under a broken or repeated group line: read, so that their
	 * own problems are found, then dropped. */
	struct config_ini_group *lost = NULL;
	const char *pos = data;
	const char *data_end = data + len;
	guint line = 0;

	/* Editors on some systems write a byte-order mark; it is not content. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		pos += 3;
	}
	while (pos < data_end) {
		const char *nl = memchr(pos, '\n', (gsize)(data_end - pos));
		const char *line_start = pos;
		const char *end = nl ? nl : data_end;
		const char *start = pos;

		line++;
		pos = nl ? nl + 1 : data_end;
		if (memchr(start, '\0', (gsize)(end - start))) {
			config_fail(p, line, NULL, NULL,
			            "this line contains a NUL byte; is this a text file?");
			ini_keep_key(group, start, NULL, end, line);
			continue;
		}
		if (!g_utf8_validate(start, end - start, NULL)) {
			config_fail(p, line, NULL, NULL,
			            "this line is not valid UTF-8; save the file as UTF-8");
			ini_keep_key(group, start, NULL, end, line);
			continue;
		}
		config_span_trim(&start, &end);
		if (start == end || *start == '#') {
			continue;
		}
		if (*start == '[') {
			g_autofree char *name = ini_group_name(p, start, end, line);
			struct config_ini_group *other =
			    name != NULL ? ini_find_group(groups, name) : NULL;

			ini_group_free(g_steal_pointer(&lost));
			if (other != NULL) {
				config_fail(
				    p, line, name, NULL,
				    "this group appears twice (first on line %u); merge the "
				    "two",
				    other->line);
			}
			if (name == NULL || other != NULL) {
				p->group_lost = true;
				lost = ini_group_new(name, line);
				group = lost;
				continue;
			}
			group = ini_group_new(name, line);
			g_ptr_array_add(groups, group);
			continue;
		}
		ini_read_entry(p, group, line_start, start, end, line);
	}
	ini_group_free(lost);
	return g_steal_pointer(&groups);
}
