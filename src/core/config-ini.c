/* SPDX-License-Identifier: MIT */
/*
 * The config file is read by a small line-oriented reader instead of
 * GKeyFile, because GKeyFile forgets line numbers, silently merges repeated
 * groups and lets a repeated key win. The syntax accepted is GKeyFile's:
 * "[group]" lines, "key = value" lines, '#' comments, blank lines, values
 * trimmed, the escapes \s \n \t \r \\ in values and \; inside lists, ';' as
 * the list separator with one optional trailing ';'.
 *
 * Also here: config_fail(), the one place that words where in the file a
 * problem is.
 */
#include "core/config-private.h"

#include <string.h>

static void ini_entry_free(struct config_ini_entry *entry)
{
	g_free(entry->key);
	/* Any value may be a password. */
	secret_free(entry->value);
	g_free(entry);
}

static void ini_group_free(struct config_ini_group *group)
{
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
	g_set_error(p->error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "%s %s", where->str, msg);
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

static bool ini_read_group(struct config_parse *p, GPtrArray *groups, const char *start,
                           const char *end, guint line)
{
	struct config_ini_group *other;
	struct config_ini_group *group;
	g_autofree char *name = NULL;

	if (end[-1] != ']' || end - start < 2) {
		return config_fail(p, line, NULL, NULL,
		                   "a group header must be a whole line like [daemon] or "
		                   "[account NAME], with nothing after the ']'");
	}
	name = g_strndup(start + 1, (gsize)(end - start - 2));
	g_strstrip(name);
	for (const char *c = name; *c; c++) {
		if (*c == '[' || *c == ']' || g_ascii_iscntrl(*c)) {
			return config_fail(p, line, NULL, NULL,
			                   "group name contains '[', ']' or a control character");
		}
	}
	other = ini_find_group(groups, name);
	if (other) {
		return config_fail(p, line, name, NULL,
		                   "this group appears twice (first on line %u); merge the two",
		                   other->line);
	}
	group = g_new0(struct config_ini_group, 1);
	group->name = g_steal_pointer(&name);
	group->line = line;
	group->entries = g_ptr_array_new_with_free_func((GDestroyNotify)ini_entry_free);
	g_ptr_array_add(groups, group);
	return true;
}

static bool ini_read_entry(struct config_parse *p, struct config_ini_group *group,
                           const char *line_start, const char *start, const char *end, guint line)
{
	const char *eq = memchr(start, '=', (gsize)(end - start));
	const char *key_end;
	const char *value_start;
	struct config_ini_entry *other;
	struct config_ini_entry *entry;
	g_autofree char *key = NULL;

	if (!eq) {
		if (*start == ';') {
			return config_fail(p, line, NULL, NULL, "comments start with '#', not ';'");
		}
		return config_fail(p, line, NULL, NULL,
		                   "this line is not a [group], a key = value pair or a # comment");
	}
	key_end = eq;
	value_start = eq + 1;
	config_span_trim(&start, &key_end);
	config_span_trim(&value_start, &end);
	if (start == key_end) {
		return config_fail(p, line, NULL, NULL, "there is no key name before '='");
	}
	key = g_strndup(start, (gsize)(key_end - start));
	if (!group) {
		return config_fail(
		    p, line, NULL, key,
		    "appears before any group; put it under [daemon] or [account NAME]");
	}
	other = config_ini_find_entry(group, key);
	if (other) {
		return config_fail(p, line, group->name, key,
		                   "set twice in this group (first on line %u); keep one",
		                   other->line);
	}
	entry = g_new0(struct config_ini_entry, 1);
	entry->key = g_steal_pointer(&key);
	entry->value = g_strndup(value_start, (gsize)(end - value_start));
	entry->line = line;
	entry->column = (guint)(value_start - line_start) + 1;
	g_ptr_array_add(group->entries, entry);
	return true;
}

GPtrArray *config_ini_read(struct config_parse *p, const char *data, gsize len)
{
	g_autoptr(GPtrArray) groups =
	    g_ptr_array_new_with_free_func((GDestroyNotify)ini_group_free);
	struct config_ini_group *group = NULL;
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
			return NULL;
		}
		if (!g_utf8_validate(start, end - start, NULL)) {
			config_fail(p, line, NULL, NULL,
			            "this line is not valid UTF-8; save the file as UTF-8");
			return NULL;
		}
		config_span_trim(&start, &end);
		if (start == end || *start == '#') {
			continue;
		}
		if (*start == '[') {
			if (!ini_read_group(p, groups, start, end, line)) {
				return NULL;
			}
			group = groups->pdata[groups->len - 1];
			continue;
		}
		if (!ini_read_entry(p, group, line_start, start, end, line)) {
			return NULL;
		}
	}
	return g_steal_pointer(&groups);
}
