/* SPDX-License-Identifier: MIT */
/*
 * One value as it is written after "key =": GKeyFile's syntax — trimmed,
 * the escapes \s \n \t \r \\ and, in lists, \; with ';' as the separator
 * and one optional trailing ';' — with what people bring from other
 * formats: a comment after the value (a '#' at its start or after a
 * blank), and values in double quotes (escapes \" and \\ too) or single
 * quotes (taken as they are). How a key's value is read is its enum
 * config_syntax (config_key_syntax()).
 */
#include "core/config-private.h"

#include <string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void lex_item_free(gpointer data)
{
	struct config_ini_item *item = data;

	/* password_secret's attributes are not secret, but cheap to wipe. */
	secret_free(item->text);
	g_free(item);
}

/* Where a value's problems are reported. */
struct lex {
	struct config_parse *p;
	const char *group;
	const char *key;
	const char *line_start;
	guint line;
	bool list;
};

static guint lex_column(const struct lex *x, const char *at)
{
	return (guint)(at - x->line_start) + 1;
}

/* Resolves the escapes in raw[0..len): \s \n \t \r \\ \" and, in lists,
 * \;. Returns a new string, or NULL with *bad set to the offset of the
 * offending backslash. The result is allocated once at its final size so
 * that no partial copy of a secret is left behind by a realloc. */
static char *value_unescape(const char *raw, gsize len, bool list, gsize *bad)
{
	char *out = g_malloc(len + 1);
	char *q = out;

	for (gsize i = 0; i < len; i++) {
		if (raw[i] != '\\') {
			*q++ = raw[i];
			continue;
		}
		if (i + 1 == len) {
			*bad = i;
			explicit_bzero(out, len + 1);
			g_free(out);
			return NULL;
		}
		switch (raw[++i]) {
		case 's':
			*q++ = ' ';
			break;
		case 'n':
			*q++ = '\n';
			break;
		case 't':
			*q++ = '\t';
			break;
		case 'r':
			*q++ = '\r';
			break;
		case '\\':
		case '"':
			*q++ = raw[i];
			break;
		case ';':
			if (list) {
				*q++ = ';';
				break;
			}
			/* fall through */
		default:
			*bad = i - 1;
			explicit_bzero(out, len + 1);
			g_free(out);
			return NULL;
		}
	}
	*q = '\0';
	return out;
}

/* Escapes resolved in [start, end); false after config_fail(). */
static bool lex_unescape(const struct lex *x, const char *start, const char *end, char **out)
{
	gsize bad = 0;

	*out = value_unescape(start, (gsize)(end - start), x->list, &bad);
	if (*out != NULL) {
		return true;
	}
	/* The value itself is not quoted: it may be a password. */
	return config_fail(x->p, x->line, x->group, x->key,
	                   "invalid escape sequence at column %u; the escapes are \\s \\n \\t \\r "
	                   "\\\"%s and \\\\ (write \\\\ for a backslash)",
	                   lex_column(x, start + bad), x->list ? " \\;" : "");
}

/* The closing quote of the string opened at open, or NULL. */
static const char *quote_end(const char *open, const char *end)
{
	for (const char *c = open + 1; c < end; c++) {
		if (*open == '"' && *c == '\\' && c + 1 < end) {
			c++;
		} else if (*c == *open) {
			return c;
		}
	}
	return NULL;
}

/* After a closing quote: only blanks, then the end, a comment or (in
 * lists) the next entry. Returns where that is, or NULL. */
static const char *after_quote(const struct lex *x, const char *close, const char *end)
{
	const char *c = config_skip_blanks(close + 1, end);

	if (c == end || (x->list && *c == ';') || (*c == '#' && c > close + 1)) {
		return c;
	}
	return NULL;
}

static bool unclosed_fail(const struct lex *x, const char *open)
{
	if (*open == '"') {
		return config_fail(x->p, x->line, x->group, x->key,
		                   "the quote at column %u is not closed; end the %s with \" (and "
		                   "write \\\" for a quote inside it, or at the start of a value "
		                   "that begins with one)",
		                   lex_column(x, open), x->list ? "entry" : "value");
	}
	return config_fail(x->p, x->line, x->group, x->key,
	                   "the single quote at column %u is not closed; end the %s with ' (in "
	                   "single quotes every character is itself; for a value with a ' of "
	                   "its own, use double quotes)",
	                   lex_column(x, open), x->list ? "entry" : "value");
}

/* The quoted string at open, whose closing quote is close. */
static bool lex_quoted(const struct lex *x, const char *open, const char *close, char **out)
{
	if (*open == '\'') {
		*out = g_strndup(open + 1, (gsize)(close - open - 1));
		return true;
	}
	return lex_unescape(x, open + 1, close, out);
}

/* Where the bare text from c on ends: at a comment (a '#' at the start of
 * the value or after a blank), at the end, or in a list at an unescaped
 * ';'. In a command, quotes are the shell's: nothing ends inside them. */
static const char *bare_end(const struct lex *x, const char *value, const char *c, const char *end,
                            bool shell)
{
	char quote = 0;

	for (; c < end; c++) {
		if (quote == '\'') {
			quote = *c == '\'' ? 0 : quote;
			continue;
		}
		if (*c == '\\' && c + 1 < end) {
			c++;
			continue;
		}
		if (quote == '"') {
			quote = *c == '"' ? 0 : quote;
			continue;
		}
		if (shell && (*c == '\'' || *c == '"')) {
			quote = *c;
		} else if (x->list && *c == ';') {
			return c;
		} else if (*c == '#' && (c == value || is_blank(c[-1]))) {
			return c;
		}
	}
	return end;
}

static bool lex_scalar(const struct lex *x, struct config_ini_entry *entry, const char *value,
                       const char *end, bool command)
{
	const char *stop;

	if (value < end && (*value == '"' || *value == '\'')) {
		const char *close = quote_end(value, end);
		const char *rest = close != NULL ? after_quote(x, close, end) : NULL;

		if (rest != NULL) {
			return lex_quoted(x, value, close, &entry->value);
		}
		/* A command such as "/opt/My Mail/bin/mail" %m: the shell's
		 * quotes, not ours. */
		if (!command) {
			if (close == NULL) {
				return unclosed_fail(x, value);
			}
			return config_fail(
			    x->p, x->line, x->group, x->key,
			    "text follows the closing quote at column %u; put all of the value "
			    "inside the quotes (a comment after it starts with a blank and '#')",
			    lex_column(x, close));
		}
	}
	stop = bare_end(x, value, value, end, command);
	entry->commented = stop == value && stop < end;
	config_span_trim(&value, &stop);
	return lex_unescape(x, value, stop, &entry->value);
}

static void list_add(struct config_ini_entry *entry, char *text, bool quoted)
{
	struct config_ini_item *item = g_new0(struct config_ini_item, 1);

	item->text = text;
	item->quoted = quoted;
	g_ptr_array_add(entry->items, item);
}

static bool lex_list(const struct lex *x, struct config_ini_entry *entry, const char *value,
                     const char *end)
{
	const char *c = value;
	const char *raw_end;

	entry->items = g_ptr_array_new_with_free_func(lex_item_free);
	entry->commented = value < end && *value == '#';
	if (value == end || entry->commented) {
		entry->value = g_strdup("");
		return true;
	}
	for (;;) {
		const char *start = config_skip_blanks(c, end);
		char *text = NULL;

		if (start < end && (*start == '"' || *start == '\'')) {
			const char *close = quote_end(start, end);

			if (close == NULL) {
				return unclosed_fail(x, start);
			}
			c = after_quote(x, close, end);
			if (c == NULL) {
				return config_fail(x->p, x->line, x->group, x->key,
				                   "text follows the closing quote at column %u; "
				                   "separate entries with ';'",
				                   lex_column(x, close));
			}
			if (!lex_quoted(x, start, close, &text)) {
				return false;
			}
			list_add(entry, text, true);
		} else {
			const char *stop = bare_end(x, value, start, end, false);
			const char *item_end = stop;

			c = stop;
			config_span_trim(&start, &item_end);
			if (!lex_unescape(x, start, item_end, &text)) {
				return false;
			}
			list_add(entry, text, false);
		}
		if (c == end || *c != ';') {
			break;
		}
		c++;
	}
	raw_end = c;
	config_span_trim(&value, &raw_end);
	entry->value = g_strndup(value, (gsize)(raw_end - value));
	/* One trailing ';' is how GKeyFile itself writes lists. */
	if (entry->items->len > 1) {
		const struct config_ini_item *last = entry->items->pdata[entry->items->len - 1];

		if (!last->quoted && last->text[0] == '\0') {
			g_ptr_array_remove_index(entry->items, entry->items->len - 1);
		}
	}
	return true;
}

bool config_lex_value(struct config_parse *p, const char *group, const char *key,
                      const char *line_start, const char *value, const char *end,
                      struct config_ini_entry *entry)
{
	enum config_syntax syntax = config_key_syntax(group, key);
	struct lex x = {
	    .p = p,
	    .group = group,
	    .key = key,
	    .line_start = line_start,
	    .line = entry->line,
	    .list = syntax == CONFIG_SYNTAX_LIST,
	};

	if (x.list) {
		return lex_list(&x, entry, value, end);
	}
	return lex_scalar(&x, entry, value, end, syntax == CONFIG_SYNTAX_COMMAND);
}
