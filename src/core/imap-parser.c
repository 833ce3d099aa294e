/* SPDX-License-Identifier: MIT */
#include "core/imap-parser-private.h"

#include <string.h>

/*
 * Two layers. The framer (imap_parser_feed) is the only part that sees
 * chunks: it collects one response into buf, byte-resumable, enforcing the
 * size limits as bytes arrive and recognising "{n}" at the end of a line so
 * it knows how many raw bytes follow. Once the final line is in, the whole
 * response is parsed in one pass (imap-parser-grammar.c). Chunking can
 * therefore never change the result, and the grammar needs no resume points.
 *
 * In buf every line ends with a single '\n' (a CR before it is dropped), so
 * the grammar sees one end-of-line byte. Literal data is stored raw after the
 * '\n' of its announcing line and is only ever reached through the table of
 * literals the framer recorded: the grammar cannot read literal bytes as
 * protocol text, nor protocol text as a literal.
 */

const struct imap_parser_limits imap_parser_default_limits = {
    .max_line = 64 * 1024,
    .max_literal = 1024 * 1024,
    .max_response = 4 * 1024 * 1024,
    .max_depth = 16,
    .max_args = 100000,
};

/* buf keeps its capacity between responses up to this size; after a bigger
 * response it is reallocated so one large FETCH does not pin memory. */
#define PARSER_BUF_KEEP (64 * 1024)

enum frame_state {
	FRAME_LINE,    /* collecting line bytes */
	FRAME_CR,      /* saw CR, LF must follow */
	FRAME_LITERAL, /* collecting literal_left bytes of literal data */
	FRAME_READY,   /* a response waits for imap_parser_take() */
	FRAME_ERROR,
};

struct imap_parser {
	struct imap_parser_limits limits;
	enum frame_state state;
	GString *buf;
	size_t line_start; /* offset in buf of the line being collected */
	size_t total;      /* bytes of the current response as received */
	size_t literal_left;
	bool first_line;
	GArray *literals; /* struct imap_parser_literal, in buf order */
	struct imap_response *ready;
	char error[128];
};

/*
 * Continuation and status lines are one line whatever they end with: their
 * text is raw, so a trailing "{5}" is text (P1). The word after the first
 * space is the status for both "* OK" and "A1 OK"; the grammar uses the
 * same boundaries, so framer and parser agree on which lines these are.
 */
static bool line_is_text_only(const char *line, size_t len)
{
	const char *sp;
	const char *word;
	const char *end;

	if (len > 0 && line[0] == '+') {
		return true;
	}
	sp = memchr(line, ' ', len);
	if (sp == NULL) {
		return false;
	}
	word = sp + 1;
	end = memchr(word, ' ', (size_t)(line + len - word));
	if (end == NULL) {
		end = line + len;
	}
	return imap_parser_grammar_status(word, (size_t)(end - word)) != IMAP_STATUS_NONE;
}

/* True if offset is inside a quoted string of line. Quotes are tracked the
 * same way the grammar reads quoted strings, in arguments and in the
 * bracketed part of an atom. */
static bool line_in_quote_at(const char *line, size_t offset)
{
	bool in_quote = false;

	for (size_t i = 0; i < offset; i++) {
		if (!in_quote) {
			in_quote = line[i] == '"';
		} else if (line[i] == '\\' && i + 1 < offset) {
			i++;
		} else if (line[i] == '"') {
			in_quote = false;
		}
	}
	return in_quote;
}

/*
 * Looks for "{n}", "{n+}" or "~{n}" ending the line, outside a quoted string.
 * "{n+}" is client-to-server only (P4) but costs nothing to accept. Returns 1
 * with *token and *size set, 0 if there is none, -1 if the count overflows.
 */
static int line_find_literal(const char *line, size_t len, size_t *token, uint64_t *size)
{
	size_t end;
	size_t p;
	uint64_t n = 0;

	if (len < 3 || line[len - 1] != '}') {
		return 0;
	}
	end = len - 1;
	if (line[end - 1] == '+') {
		end--;
	}
	p = end;
	while (p > 0 && g_ascii_isdigit(line[p - 1])) {
		p--;
	}
	if (p == end || p == 0 || line[p - 1] != '{' || line_in_quote_at(line, p - 1)) {
		return 0;
	}
	for (size_t i = p; i < end; i++) {
		unsigned digit = (unsigned)(line[i] - '0');

		if (n > (UINT64_MAX - digit) / 10) {
			return -1;
		}
		n = n * 10 + digit;
	}
	*token = p - 1;
	if (p >= 2 && line[p - 2] == '~') {
		*token = p - 2;
	}
	*size = n;
	return 1;
}

static void parser_fail(struct imap_parser *parser, const char *message)
{
	g_strlcpy(parser->error, message, sizeof(parser->error));
	parser->state = FRAME_ERROR;
}

static void parser_fail_response_size(struct imap_parser *parser)
{
	g_snprintf(parser->error, sizeof(parser->error), "response longer than %zu bytes",
	           parser->limits.max_response);
	parser->state = FRAME_ERROR;
}

static void frame_clear(struct imap_parser *parser)
{
	if (parser->buf->allocated_len > PARSER_BUF_KEEP) {
		g_string_free(parser->buf, TRUE);
		parser->buf = g_string_new(NULL);
	} else {
		g_string_truncate(parser->buf, 0);
	}
	g_array_set_size(parser->literals, 0);
	parser->line_start = 0;
	parser->total = 0;
	parser->literal_left = 0;
	parser->first_line = true;
}

/* A line is complete (its terminator already counted in total). */
static void frame_end_line(struct imap_parser *parser)
{
	const char *line = parser->buf->str + parser->line_start;
	size_t len = parser->buf->len - parser->line_start;
	size_t token = 0;
	uint64_t size = 0;
	int found = 0;
	struct imap_parser_frame frame;

	if (parser->first_line && len == 0) {
		/* A stray empty line between responses carries nothing. */
		frame_clear(parser);
		parser->state = FRAME_LINE;
		return;
	}
	if (!parser->first_line || !line_is_text_only(line, len)) {
		found = line_find_literal(line, len, &token, &size);
	}
	if (found < 0 || (found > 0 && size > parser->limits.max_literal)) {
		g_snprintf(parser->error, sizeof(parser->error), "literal longer than %zu bytes",
		           parser->limits.max_literal);
		parser->state = FRAME_ERROR;
		return;
	}
	if (found > 0 && size > parser->limits.max_response - parser->total) {
		/* Refuse before a single data byte arrives, not after. */
		parser_fail_response_size(parser);
		return;
	}
	g_string_append_c(parser->buf, '\n');
	parser->first_line = false;
	if (found > 0) {
		struct imap_parser_literal ref = {
		    .token = parser->line_start + token,
		    .data = parser->buf->len,
		    .len = (size_t)size,
		};

		g_array_append_val(parser->literals, ref);
		parser->literal_left = (size_t)size;
		parser->line_start = parser->buf->len;
		parser->state = size > 0 ? FRAME_LITERAL : FRAME_LINE;
		return;
	}
	frame.buf = parser->buf->str;
	frame.len = parser->buf->len;
	frame.literals = (const struct imap_parser_literal *)(void *)parser->literals->data;
	frame.n_literals = parser->literals->len;
	parser->ready = imap_parser_grammar_parse(&frame, &parser->limits, parser->error,
	                                          sizeof(parser->error));
	parser->state = parser->ready != NULL ? FRAME_READY : FRAME_ERROR;
	frame_clear(parser);
}

/* Collects line bytes up to a CR, LF or NUL. Returns the bytes used. */
static size_t frame_line(struct imap_parser *parser, const char *data, size_t len)
{
	size_t line_len = parser->buf->len - parser->line_start;
	size_t room_line = parser->limits.max_line - line_len;
	size_t room_total = parser->limits.max_response - parser->total;
	size_t room = MIN(room_line, room_total);
	size_t n = 0;

	while (n < len && data[n] != '\r' && data[n] != '\n' && data[n] != '\0') {
		n++;
	}
	if (n > room) {
		/* Report the limit the first excess byte trips, checking the line
		 * limit first as a byte-at-a-time feed would, so that the message
		 * does not depend on how the input was chunked. */
		g_string_append_len(parser->buf, data, (gssize)room);
		parser->total += room;
		if (room == room_line) {
			g_snprintf(parser->error, sizeof(parser->error),
			           "line longer than %zu bytes", parser->limits.max_line);
			parser->state = FRAME_ERROR;
		} else {
			parser_fail_response_size(parser);
		}
		return room;
	}
	g_string_append_len(parser->buf, data, (gssize)n);
	parser->total += n;
	if (n == len) {
		return n;
	}
	if (data[n] == '\0') {
		parser_fail(parser, "NUL byte outside a literal");
		return n;
	}
	if (parser->total == parser->limits.max_response) {
		parser_fail_response_size(parser);
		return n;
	}
	parser->total++;
	if (data[n] == '\r') {
		parser->state = FRAME_CR;
	} else {
		/* A bare LF ends the line too: no server is known to need it, but
		 * nothing in IMAP outside a literal can contain an LF, so accepting
		 * it cannot change the meaning of a valid stream. */
		frame_end_line(parser);
	}
	return n + 1;
}

static size_t frame_literal(struct imap_parser *parser, const char *data, size_t len)
{
	size_t n = MIN(len, parser->literal_left);

	/* The whole literal was checked against max_response when announced. */
	g_string_append_len(parser->buf, data, (gssize)n);
	parser->total += n;
	parser->literal_left -= n;
	if (parser->literal_left == 0) {
		parser->line_start = parser->buf->len;
		parser->state = FRAME_LINE;
	}
	return n;
}

struct imap_parser *imap_parser_create(const struct imap_parser_limits *limits)
{
	struct imap_parser *parser = g_new0(struct imap_parser, 1);

	parser->limits = limits != NULL ? *limits : imap_parser_default_limits;
	parser->buf = g_string_new(NULL);
	parser->literals = g_array_new(FALSE, FALSE, sizeof(struct imap_parser_literal));
	parser->first_line = true;
	parser->state = FRAME_LINE;
	return parser;
}

void imap_parser_destroy(struct imap_parser *parser)
{
	if (parser == NULL) {
		return;
	}
	imap_response_free(parser->ready);
	if (parser->buf != NULL) {
		g_string_free(parser->buf, TRUE);
	}
	if (parser->literals != NULL) {
		g_array_free(parser->literals, TRUE);
	}
	g_free(parser);
}

enum imap_parse_result imap_parser_feed(struct imap_parser *parser, const char *data, size_t len,
                                        size_t *consumed)
{
	size_t used = 0;

	while (used < len && parser->state != FRAME_READY && parser->state != FRAME_ERROR) {
		switch (parser->state) {
		case FRAME_LINE:
			used += frame_line(parser, data + used, len - used);
			break;
		case FRAME_CR:
			if (data[used] != '\n') {
				parser_fail(parser, "CR not followed by LF");
				break;
			}
			if (parser->total == parser->limits.max_response) {
				parser_fail_response_size(parser);
				break;
			}
			parser->total++;
			used++;
			frame_end_line(parser);
			break;
		case FRAME_LITERAL:
			used += frame_literal(parser, data + used, len - used);
			break;
		case FRAME_READY:
		case FRAME_ERROR:
			break;
		}
	}
	if (consumed != NULL) {
		*consumed = used;
	}
	switch (parser->state) {
	case FRAME_READY:
		return IMAP_PARSE_RESPONSE;
	case FRAME_ERROR:
		return IMAP_PARSE_ERROR;
	default:
		return IMAP_PARSE_NEED_MORE;
	}
}

void imap_parser_set_max_line(struct imap_parser *parser, size_t max_line)
{
	parser->limits.max_line = MIN(max_line, parser->limits.max_response);
}

struct imap_response *imap_parser_take(struct imap_parser *parser)
{
	struct imap_response *response = g_steal_pointer(&parser->ready);

	if (response != NULL) {
		parser->state = FRAME_LINE;
	}
	return response;
}

const char *imap_parser_error(const struct imap_parser *parser)
{
	return parser->state == FRAME_ERROR ? parser->error : NULL;
}

bool imap_parser_has_partial(const struct imap_parser *parser)
{
	return parser->state == FRAME_CR || parser->state == FRAME_LITERAL || parser->buf->len > 0;
}

void imap_parser_reset(struct imap_parser *parser)
{
	imap_response_free(g_steal_pointer(&parser->ready));
	frame_clear(parser);
	parser->error[0] = '\0';
	parser->state = FRAME_LINE;
}
