/* SPDX-License-Identifier: MIT */
#include "core/imap-parser-private.h"

#include <string.h>

/*
 * Parses one complete response as framed by imap-parser.c. Everything here
 * works on a whole buffer, so it has no resume points; chunking is the
 * framer's business.
 */

/* One pass over a frame (or over a response code's arguments). Parsing
 * stops at len or at the first '\n' not skipped by a literal. */
struct cursor {
	const char *s;
	size_t pos;
	size_t len;
	const struct imap_parser_literal *lits;
	size_t n_lits;
	size_t next_lit;
	const struct imap_parser_limits *limits;
	size_t n_args;
	char error[128];
};

enum imap_status imap_parser_grammar_status(const char *word, size_t len)
{
	static const struct {
		const char *name;
		enum imap_status status;
	} words[] = {
	    {"OK", IMAP_STATUS_OK},   {"NO", IMAP_STATUS_NO},           {"BAD", IMAP_STATUS_BAD},
	    {"BYE", IMAP_STATUS_BYE}, {"PREAUTH", IMAP_STATUS_PREAUTH},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
		if (strlen(words[i].name) == len &&
		    g_ascii_strncasecmp(word, words[i].name, len) == 0) {
			return words[i].status;
		}
	}
	return IMAP_STATUS_NONE;
}

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

static bool cursor_fail(struct cursor *c, const char *message)
{
	g_strlcpy(c->error, message, sizeof(c->error));
	return false;
}

static bool cursor_eol(const struct cursor *c)
{
	return c->pos >= c->len || c->s[c->pos] == '\n';
}

/* The current byte; '\n' at the end so callers need no bounds check. */
static unsigned char cursor_peek(const struct cursor *c)
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
static bool is_atom_char(unsigned char ch)
{
	return !is_ctl(ch) && ch != ' ' && ch != '(' && ch != ')' && ch != '{' && ch != '"';
}

/* Tag = 1*<ASTRING-CHAR except "+"> (RFC 9051 §9), strictly. */
static bool is_tag_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("(){%*\"\\+", ch) == NULL;
}

/* Reads the run of bytes up to a space or end of line. */
static void cursor_word(struct cursor *c, const char **word, size_t *len)
{
	size_t start = c->pos;

	while (!cursor_eol(c) && c->s[c->pos] != ' ') {
		c->pos++;
	}
	*word = c->s + start;
	*len = c->pos - start;
}

static char *cursor_rest_of_line(struct cursor *c)
{
	size_t start = c->pos;

	while (!cursor_eol(c)) {
		c->pos++;
	}
	return g_strndup(c->s + start, c->pos - start);
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

		if (cursor_eol(c)) {
			return cursor_fail(c, "unterminated quoted string");
		}
		ch = cursor_peek(c);
		c->pos++;
		if (ch == '"') {
			break;
		}
		if (ch == '\\') {
			if (cursor_eol(c)) {
				return cursor_fail(c, "unterminated quoted string");
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
		return cursor_fail(c, "malformed literal");
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
	while (!cursor_eol(c)) {
		char ch = c->s[c->pos++];

		if (ch == '"') {
			return true;
		}
		if (ch == '\\' && !cursor_eol(c)) {
			c->pos++;
		}
	}
	return cursor_fail(c, "unterminated quoted string");
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

	while (!cursor_eol(c)) {
		unsigned char ch = cursor_peek(c);

		if (depth > 0) {
			if (ch == '"') {
				if (!skip_quoted(c)) {
					return false;
				}
				continue;
			}
			if (is_ctl(ch)) {
				return cursor_fail(c, "control character in atom");
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
		if (!is_atom_char(ch)) {
			return cursor_fail(c, "invalid character in atom");
		}
		if (ch == '[') {
			depth++;
		}
		c->pos++;
	}
	if (depth > 0) {
		return cursor_fail(c, "unterminated '[' in atom");
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
	unsigned char ch = cursor_peek(c);

	if (ch == '"') {
		return parse_quoted(c, arg);
	}
	if (ch == '{' || (ch == '~' && c->pos + 1 < c->len && c->s[c->pos + 1] == '{')) {
		return parse_literal(c, arg);
	}
	if (!is_atom_char(ch)) {
		return cursor_fail(c, "invalid character at start of argument");
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
static bool parse_args(struct cursor *c, struct imap_arg **out, size_t *n_out)
{
	g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func(arg_array_free);
	GArray *cur = g_array_new(FALSE, TRUE, sizeof(struct imap_arg));
	bool need_space = false;

	g_ptr_array_add(stack, cur);
	while (!cursor_eol(c)) {
		unsigned char ch = cursor_peek(c);
		struct imap_arg arg = {0};

		if (ch == ' ') {
			c->pos++;
			need_space = false;
			continue;
		}
		if (ch == ')') {
			if (stack->len == 1) {
				return cursor_fail(c, "unbalanced ')'");
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
			return cursor_fail(c, "missing space between arguments");
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
		return cursor_fail(c, "unterminated list");
	}
	*out = arg_array_steal(g_ptr_array_steal_index(stack, 0), n_out);
	return true;
}

/* Offset of the ']' closing the '[' at start, or 0 if the line has none.
 * Nested brackets count so "[REFERRAL imap://[::1]/]" closes at the end. */
static size_t code_find_end(const struct cursor *c, size_t start)
{
	unsigned depth = 0;
	bool in_quote = false;

	for (size_t i = start; i < c->len && c->s[i] != '\n'; i++) {
		char ch = c->s[i];

		if (in_quote) {
			if (ch == '\\' && i + 1 < c->len && c->s[i + 1] != '\n') {
				i++;
			} else if (ch == '"') {
				in_quote = false;
			}
		} else if (ch == '"') {
			in_quote = true;
		} else if (ch == '[') {
			depth++;
		} else if (ch == ']' && --depth == 0) {
			return i;
		}
	}
	return 0;
}

static void parse_code(struct cursor *c, struct imap_response *response, size_t end)
{
	size_t name_start = c->pos + 1;
	size_t name_end = name_start;
	size_t raw_start;
	struct cursor args = {0};

	while (name_end < end && c->s[name_end] != ' ') {
		name_end++;
	}
	response->code = g_ascii_strup(c->s + name_start, (gssize)(name_end - name_start));
	raw_start = name_end < end ? name_end + 1 : end;
	response->code_raw = g_strndup(c->s + raw_start, end - raw_start);

	/* Arguments are a convenience; code_raw is the truth, so a code whose
	 * arguments do not parse is not an error (unknown codes are ignored,
	 * RFC 9051 §7.1). */
	args.s = response->code_raw;
	args.len = end - raw_start;
	args.limits = c->limits;
	if (!parse_args(&args, &response->code_args, &response->n_code_args)) {
		response->code_args = NULL;
		response->n_code_args = 0;
	}
	c->pos = end + 1;
}

/* resp-text after a status word: [SP ["[" code "]"] [SP] text]. The
 * status word was read up to a space or the end of the line. */
static void parse_resp_text(struct cursor *c, struct imap_response *response)
{
	if (!cursor_eol(c)) {
		size_t end;

		c->pos++;
		/* "[" without a matching "]", or "[]", is left as text. */
		end = cursor_peek(c) == '[' ? code_find_end(c, c->pos) : 0;
		if (end > c->pos + 1 && c->s[c->pos + 1] != ' ') {
			parse_code(c, response, end);
			/* Gmail's "* OK [HIGHESTMODSEQ n]" has no text (P9). */
			if (cursor_peek(c) == ' ') {
				c->pos++;
			}
		}
	}
	response->text = cursor_rest_of_line(c);
}

static bool parse_number(struct cursor *c, uint32_t *out)
{
	uint64_t n = 0;

	while (!cursor_eol(c) && g_ascii_isdigit(c->s[c->pos])) {
		n = n * 10 + (uint64_t)(c->s[c->pos] - '0');
		if (n > UINT32_MAX) {
			return cursor_fail(c, "message number out of range");
		}
		c->pos++;
	}
	if (cursor_peek(c) != ' ') {
		return cursor_fail(c, "invalid message number");
	}
	c->pos++;
	*out = (uint32_t)n;
	return true;
}

/* "* [number SP] keyword [SP args]" once the "* " is consumed. */
static bool parse_untagged(struct cursor *c, struct imap_response *response)
{
	const char *word;
	size_t len;

	if (g_ascii_isdigit(cursor_peek(c))) {
		if (!parse_number(c, &response->number)) {
			return false;
		}
		response->has_number = true;
	}
	cursor_word(c, &word, &len);
	if (len == 0) {
		return cursor_fail(c, "missing response keyword");
	}
	if (!response->has_number) {
		response->status = imap_parser_grammar_status(word, len);
		if (response->status != IMAP_STATUS_NONE) {
			parse_resp_text(c, response);
			return true;
		}
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_atom_char((unsigned char)word[i]) || word[i] == '[' || word[i] == ']') {
			return cursor_fail(c, "invalid response keyword");
		}
	}
	response->keyword = g_ascii_strup(word, (gssize)len);
	return parse_args(c, &response->args, &response->n_args);
}

static bool parse_tagged(struct cursor *c, struct imap_response *response)
{
	const char *word;
	size_t len;

	cursor_word(c, &word, &len);
	for (size_t i = 0; i < len; i++) {
		if (!is_tag_char((unsigned char)word[i])) {
			return cursor_fail(c, "invalid tag");
		}
	}
	if (len == 0) {
		return cursor_fail(c, "invalid tag");
	}
	response->tag = g_strndup(word, len);
	if (cursor_peek(c) != ' ') {
		return cursor_fail(c, "missing status in tagged response");
	}
	c->pos++;
	cursor_word(c, &word, &len);
	response->status = imap_parser_grammar_status(word, len);
	if (response->status != IMAP_STATUS_OK && response->status != IMAP_STATUS_NO &&
	    response->status != IMAP_STATUS_BAD) {
		return cursor_fail(c, "tagged response is not OK, NO or BAD");
	}
	parse_resp_text(c, response);
	return true;
}

static bool parse_dispatch(struct cursor *c, struct imap_response *response)
{
	unsigned char first = cursor_peek(c);

	if (first == '+') {
		/* Raw text: it may be base64 (P11), so no code is looked for. */
		response->kind = IMAP_RESPONSE_CONTINUATION;
		c->pos++;
		if (cursor_peek(c) == ' ') {
			c->pos++;
		}
		response->text = cursor_rest_of_line(c);
		return true;
	}
	if (first == '*') {
		response->kind = IMAP_RESPONSE_UNTAGGED;
		c->pos++;
		if (cursor_peek(c) != ' ') {
			return cursor_fail(c, "missing space after '*'");
		}
		c->pos++;
		return parse_untagged(c, response);
	}
	response->kind = IMAP_RESPONSE_TAGGED;
	return parse_tagged(c, response);
}

struct imap_response *imap_parser_grammar_parse(const struct imap_parser_frame *frame,
                                                const struct imap_parser_limits *limits,
                                                char *error, size_t error_size)
{
	g_autoptr(imap_response) response = g_new0(struct imap_response, 1);
	struct cursor c = {
	    .s = frame->buf,
	    .len = frame->len,
	    .lits = frame->literals,
	    .n_lits = frame->n_literals,
	    .limits = limits,
	};

	if (!parse_dispatch(&c, response)) {
		g_strlcpy(error, c.error, error_size);
		return NULL;
	}
	/* Cannot happen with literals framed by imap-parser.c; checked so that
	 * a mismatch is an error rather than silently ignored data. */
	if (c.pos + 1 != c.len || c.next_lit != c.n_lits) {
		g_strlcpy(error, "unparsed data in response", error_size);
		return NULL;
	}
	if (response->text == NULL) {
		response->text = g_strdup("");
	}
	return g_steal_pointer(&response);
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
