/* SPDX-License-Identifier: MIT */
#include "core/imap-parser-private.h"

#include <string.h>

/*
 * Parses one complete response as framed by imap-parser.c. Everything here
 * works on a whole buffer, so it has no resume points; chunking is the
 * framer's business. This file reads the structure of a response (tag,
 * status, response code, keyword); the arguments are read by
 * imap-parser-args.c.
 */

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

/* Tag = 1*<ASTRING-CHAR except "+"> (RFC 9051 §9), strictly. */
static bool is_tag_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("(){%*\"\\+", ch) == NULL;
}

/* Reads the run of bytes up to a space or end of line. */
static void cursor_word(struct cursor *c, const char **word, size_t *len)
{
	size_t start = c->pos;

	while (!imap_parser_cursor_eol(c) && c->s[c->pos] != ' ') {
		c->pos++;
	}
	*word = c->s + start;
	*len = c->pos - start;
}

static char *cursor_rest_of_line(struct cursor *c)
{
	size_t start = c->pos;

	while (!imap_parser_cursor_eol(c)) {
		c->pos++;
	}
	return g_strndup(c->s + start, c->pos - start);
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
	if (!imap_parser_parse_args(&args, &response->code_args, &response->n_code_args)) {
		response->code_args = NULL;
		response->n_code_args = 0;
	}
	c->pos = end + 1;
}

/* resp-text after a status word: [SP ["[" code "]"] [SP] text]. The
 * status word was read up to a space or the end of the line. */
static void parse_resp_text(struct cursor *c, struct imap_response *response)
{
	if (!imap_parser_cursor_eol(c)) {
		size_t end;

		c->pos++;
		/* "[" without a matching "]", or "[]", is left as text. */
		end = imap_parser_cursor_peek(c) == '[' ? code_find_end(c, c->pos) : 0;
		if (end > c->pos + 1 && c->s[c->pos + 1] != ' ') {
			parse_code(c, response, end);
			/* Gmail's "* OK [HIGHESTMODSEQ n]" has no text (P9). */
			if (imap_parser_cursor_peek(c) == ' ') {
				c->pos++;
			}
		}
	}
	response->text = cursor_rest_of_line(c);
}

static bool parse_number(struct cursor *c, uint32_t *out)
{
	uint64_t n = 0;

	while (!imap_parser_cursor_eol(c) && g_ascii_isdigit(c->s[c->pos])) {
		n = n * 10 + (uint64_t)(c->s[c->pos] - '0');
		if (n > UINT32_MAX) {
			return imap_parser_cursor_fail(c, "message number out of range");
		}
		c->pos++;
	}
	if (imap_parser_cursor_peek(c) != ' ') {
		return imap_parser_cursor_fail(c, "invalid message number");
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

	if (g_ascii_isdigit(imap_parser_cursor_peek(c))) {
		if (!parse_number(c, &response->number)) {
			return false;
		}
		response->has_number = true;
	}
	cursor_word(c, &word, &len);
	if (len == 0) {
		return imap_parser_cursor_fail(c, "missing response keyword");
	}
	if (!response->has_number) {
		response->status = imap_parser_grammar_status(word, len);
		if (response->status != IMAP_STATUS_NONE) {
			parse_resp_text(c, response);
			return true;
		}
	}
	for (size_t i = 0; i < len; i++) {
		if (!imap_parser_is_atom_char((unsigned char)word[i]) || word[i] == '[' ||
		    word[i] == ']') {
			return imap_parser_cursor_fail(c, "invalid response keyword");
		}
	}
	response->keyword = g_ascii_strup(word, (gssize)len);
	return imap_parser_parse_args(c, &response->args, &response->n_args);
}

static bool parse_tagged(struct cursor *c, struct imap_response *response)
{
	const char *word;
	size_t len;

	cursor_word(c, &word, &len);
	for (size_t i = 0; i < len; i++) {
		if (!is_tag_char((unsigned char)word[i])) {
			return imap_parser_cursor_fail(c, "invalid tag");
		}
	}
	if (len == 0) {
		return imap_parser_cursor_fail(c, "invalid tag");
	}
	response->tag = g_strndup(word, len);
	if (imap_parser_cursor_peek(c) != ' ') {
		return imap_parser_cursor_fail(c, "missing status in tagged response");
	}
	c->pos++;
	cursor_word(c, &word, &len);
	response->status = imap_parser_grammar_status(word, len);
	if (response->status != IMAP_STATUS_OK && response->status != IMAP_STATUS_NO &&
	    response->status != IMAP_STATUS_BAD) {
		return imap_parser_cursor_fail(c, "tagged response is not OK, NO or BAD");
	}
	parse_resp_text(c, response);
	return true;
}

static bool parse_dispatch(struct cursor *c, struct imap_response *response)
{
	unsigned char first = imap_parser_cursor_peek(c);

	if (first == '+') {
		/* Raw text: it may be base64 (P11), so no code is looked for. */
		response->kind = IMAP_RESPONSE_CONTINUATION;
		c->pos++;
		if (imap_parser_cursor_peek(c) == ' ') {
			c->pos++;
		}
		response->text = cursor_rest_of_line(c);
		return true;
	}
	if (first == '*') {
		response->kind = IMAP_RESPONSE_UNTAGGED;
		c->pos++;
		if (imap_parser_cursor_peek(c) != ' ') {
			return imap_parser_cursor_fail(c, "missing space after '*'");
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
