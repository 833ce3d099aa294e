/* SPDX-License-Identifier: MIT */
/*
 * The arguments of a response (imap-parser-grammar.c reads the rest):
 * atoms, quoted strings, literals and nested lists, read iteratively with
 * the cursor's limits; freeing them; and the helpers for consumers.
 */
#include "core/imap-parser-private.h"

#include <string.h>

static void args_free(struct imap_arg *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		g_free(args[i].str);
		args_free(args[i].children, args[i].n_children);
	}
	g_free(args);
}

void imap_response_free(struct imap_response *response)
{
	if (response == NULL) {
		return;
	}
	g_free(response->tag);
	g_free(response->code);
	args_free(response->code_args, response->n_code_args);
	g_free(response->code_raw);
	g_free(response->text);
	g_free(response->keyword);
	args_free(response->args, response->n_args);
	g_free(response);
}

bool imap_parser_cursor_fail(struct cursor *c, const char *message)
{
	g_strlcpy(c->error, message, sizeof(c->error));
	return false;
}

bool imap_parser_cursor_eol(const struct cursor *c)
{
	return c->pos >= c->len || c->s[c->pos] == '\n';
}

/* The current byte; '\n' at the end so callers need no bounds check. */
unsigned char imap_parser_cursor_peek(const struct cursor *c)
{
	return c->pos < c->len ? (unsigned char)c->s[c->pos] : '\n';
}

static bool is_ctl(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

/*
 * Atom bytes as servers send them. RFC 9051 atoms are 7-bit ATOM-CHARs; we
 * also take '\' (flags), '%' and '*' ("\*", "1:*"), ']' (astrings) and 8-bit
 * bytes: a server that puts UTF-8 in a keyword must not make us drop the
 * FETCH around it, and consumers validate what they use.
 */
bool imap_parser_is_atom_char(unsigned char ch)
{
	return !is_ctl(ch) && ch != ' ' && ch != '(' && ch != ')' && ch != '{' && ch != '"';
}

static void arg_set_bytes(struct imap_arg *arg, enum imap_arg_type type, const char *s, size_t len)
{
	arg->type = type;
	arg->str = g_malloc(len + 1);
	memcpy(arg->str, s, len);
	arg->str[len] = '\0';
	arg->len = len;
}

static bool parse_quoted(struct cursor *c, struct imap_arg *arg)
{
	g_autoptr(GString) value = g_string_new(NULL);

	c->pos++;
	for (;;) {
		unsigned char ch;

		if (imap_parser_cursor_eol(c)) {
			return imap_parser_cursor_fail(c, "unterminated quoted string");
		}
		ch = imap_parser_cursor_peek(c);
		c->pos++;
		if (ch == '"') {
			break;
		}
		if (ch == '\\') {
			if (imap_parser_cursor_eol(c)) {
				return imap_parser_cursor_fail(c, "unterminated quoted string");
			}
			/* Only \" and \\ are escapes; keep any other backslash as
			 * sent rather than guess what a broken server meant. */
			if (c->s[c->pos] != '"' && c->s[c->pos] != '\\') {
				g_string_append_c(value, '\\');
			}
			ch = (unsigned char)c->s[c->pos];
			c->pos++;
		}
		g_string_append_c(value, (char)ch);
	}
	arg_set_bytes(arg, IMAP_ARG_STRING, value->str, value->len);
	return true;
}

static bool parse_literal(struct cursor *c, struct imap_arg *arg)
{
	const struct imap_parser_literal *ref;

	if (c->next_lit >= c->n_lits || c->lits[c->next_lit].token != c->pos) {
		return imap_parser_cursor_fail(c, "malformed literal");
	}
	ref = &c->lits[c->next_lit++];
	arg_set_bytes(arg, IMAP_ARG_LITERAL, c->s + ref->data, ref->len);
	c->pos = ref->data + ref->len;
	return true;
}

/* Skips a quoted string inside a bracketed part of an atom. */
static bool skip_quoted(struct cursor *c)
{
	c->pos++;
	while (!imap_parser_cursor_eol(c)) {
		char ch = c->s[c->pos++];

		if (ch == '"') {
			return true;
		}
		if (ch == '\\' && !imap_parser_cursor_eol(c)) {
			c->pos++;
		}
	}
	return imap_parser_cursor_fail(c, "unterminated quoted string");
}

/*
 * An atom; '[' starts a section that runs to its matching ']' and may hold
 * spaces, parentheses and quoted strings, so "BODY[HEADER.FIELDS (A B)]<0>"
 * is one atom, as the FETCH grammar needs.
 */
static bool parse_atom(struct cursor *c, struct imap_arg *arg)
{
	size_t start = c->pos;
	unsigned depth = 0;

	while (!imap_parser_cursor_eol(c)) {
		unsigned char ch = imap_parser_cursor_peek(c);

		if (depth > 0) {
			if (ch == '"') {
				if (!skip_quoted(c)) {
					return false;
				}
				continue;
			}
			if (is_ctl(ch)) {
				return imap_parser_cursor_fail(c, "control character in atom");
			}
			if (ch == '[') {
				depth++;
			} else if (ch == ']') {
				depth--;
			}
			c->pos++;
			continue;
		}
		if (ch == ' ' || ch == '(' || ch == ')') {
			break;
		}
		if (!imap_parser_is_atom_char(ch)) {
			return imap_parser_cursor_fail(c, "invalid character in atom");
		}
		if (ch == '[') {
			depth++;
		}
		c->pos++;
	}
	if (depth > 0) {
		return imap_parser_cursor_fail(c, "unterminated '[' in atom");
	}
	if (c->pos - start == 3 && g_ascii_strncasecmp(c->s + start, "NIL", 3) == 0) {
		arg->type = IMAP_ARG_NIL;
		return true;
	}
	arg_set_bytes(arg, IMAP_ARG_ATOM, c->s + start, c->pos - start);
	return true;
}

static bool parse_token(struct cursor *c, struct imap_arg *arg)
{
	unsigned char ch = imap_parser_cursor_peek(c);

	if (ch == '"') {
		return parse_quoted(c, arg);
	}
	if (ch == '{' || (ch == '~' && c->pos + 1 < c->len && c->s[c->pos + 1] == '{')) {
		return parse_literal(c, arg);
	}
	if (!imap_parser_is_atom_char(ch)) {
		return imap_parser_cursor_fail(c, "invalid character at start of argument");
	}
	return parse_atom(c, arg);
}

static void arg_array_free(gpointer data)
{
	GArray *array = data;

	for (guint i = 0; i < array->len; i++) {
		struct imap_arg *arg = &g_array_index(array, struct imap_arg, i);

		g_free(arg->str);
		args_free(arg->children, arg->n_children);
	}
	g_array_free(array, TRUE);
}

/* Hands over an array's elements; an empty list gives NULL. */
static struct imap_arg *arg_array_steal(GArray *array, size_t *n)
{
	*n = array->len;
	if (array->len == 0) {
		g_array_free(array, TRUE);
		return NULL;
	}
	return (struct imap_arg *)(void *)g_array_free(array, FALSE);
}

/*
 * Arguments up to the end of the line. Iterative, with one array per open
 * list, so nesting depth costs heap bounded by max_depth rather than stack.
 * Runs of spaces and a space before the end of the line are accepted
 * (Exchange's "* STATUS x (...) ", P9). A list may follow another token
 * without a space, as multipart BODYSTRUCTURE requires.
 */
bool imap_parser_parse_args(struct cursor *c, struct imap_arg **out, size_t *n_out)
{
	g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func(arg_array_free);
	GArray *cur = g_array_new(FALSE, TRUE, sizeof(struct imap_arg));
	bool need_space = false;

	g_ptr_array_add(stack, cur);
	while (!imap_parser_cursor_eol(c)) {
		unsigned char ch = imap_parser_cursor_peek(c);
		struct imap_arg arg = {0};

		if (ch == ' ') {
			c->pos++;
			need_space = false;
			continue;
		}
		if (ch == ')') {
			if (stack->len == 1) {
				return imap_parser_cursor_fail(c, "unbalanced ')'");
			}
			c->pos++;
			arg.type = IMAP_ARG_LIST;
			arg.children = arg_array_steal(
			    g_ptr_array_steal_index(stack, stack->len - 1), &arg.n_children);
			cur = g_ptr_array_index(stack, stack->len - 1);
			g_array_append_val(cur, arg);
			need_space = true;
			continue;
		}
		if (need_space && ch != '(') {
			return imap_parser_cursor_fail(c, "missing space between arguments");
		}
		if (++c->n_args > c->limits->max_args) {
			g_snprintf(c->error, sizeof(c->error), "more than %zu arguments",
			           c->limits->max_args);
			return false;
		}
		if (ch == '(') {
			if (stack->len > c->limits->max_depth) {
				g_snprintf(c->error, sizeof(c->error),
				           "lists nested deeper than %u levels",
				           c->limits->max_depth);
				return false;
			}
			c->pos++;
			cur = g_array_new(FALSE, TRUE, sizeof(struct imap_arg));
			g_ptr_array_add(stack, cur);
			need_space = false;
			continue;
		}
		if (!parse_token(c, &arg)) {
			return false;
		}
		g_array_append_val(cur, arg);
		need_space = true;
	}
	if (stack->len > 1) {
		return imap_parser_cursor_fail(c, "unterminated list");
	}
	*out = arg_array_steal(g_ptr_array_steal_index(stack, 0), n_out);
	return true;
}

/* ---- Helpers for consumers ---- */

bool imap_arg_is_atom(const struct imap_arg *arg, const char *s)
{
	return arg != NULL && s != NULL && arg->type == IMAP_ARG_ATOM &&
	       g_ascii_strcasecmp(arg->str, s) == 0;
}

const char *imap_arg_as_string(const struct imap_arg *arg)
{
	if (arg == NULL) {
		return NULL;
	}
	switch (arg->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_STRING:
	case IMAP_ARG_LITERAL:
		return arg->str;
	case IMAP_ARG_NIL:
	case IMAP_ARG_LIST:
		break;
	}
	return NULL;
}

bool imap_arg_get_u64(const struct imap_arg *arg, uint64_t *out)
{
	uint64_t n = 0;

	if (arg == NULL || arg->type != IMAP_ARG_ATOM || arg->len == 0) {
		return false;
	}
	for (size_t i = 0; i < arg->len; i++) {
		unsigned digit;

		if (!g_ascii_isdigit(arg->str[i])) {
			return false;
		}
		digit = (unsigned)(arg->str[i] - '0');
		if (n > (UINT64_MAX - digit) / 10) {
			return false;
		}
		n = n * 10 + digit;
	}
	*out = n;
	return true;
}

bool imap_arg_get_u32(const struct imap_arg *arg, uint32_t *out)
{
	uint64_t n;

	if (!imap_arg_get_u64(arg, &n) || n > UINT32_MAX) {
		return false;
	}
	*out = (uint32_t)n;
	return true;
}
