/* SPDX-License-Identifier: MIT */
/*
 * The IMAP response parser, fed the same server bytes three ways: whole, one
 * byte at a time, and in chunks of pseudo-random size. Chunking must not
 * change anything the caller can see: the responses (compared through a
 * canonical serialization), the error and the offset where it was found,
 * and whether a partial response is held at the end. Every response is
 * also checked against the limits, which are small here so that inputs of
 * a few hundred bytes reach them.
 *
 * Input: 6 header bytes, then the server bytes.
 *   0-1  seed of the chunk sizes
 *   2    max_line = 2 + 4 * b        3  max_literal = 4 * b
 *   4    max_response = 8 + 32 * b   5  max_depth = b & 7,
 *                                       max_args = 1 + 8 * (b >> 3)
 */
#include "fuzz.h"

#include "imapwatch/core/imap-parser.h"

#include <string.h>

#define HEADER_LEN 6

struct run {
	GString *responses; /* canonical serialization, one per line */
	GString *outcome;   /* how the input ended */
};

static void serialize_str(GString *out, const char *s, size_t len)
{
	if (s == NULL) {
		g_string_append(out, "-");
		return;
	}
	g_string_append_printf(out, "%zu:", len);
	g_string_append_len(out, s, (gssize)len);
}

static void serialize_args(GString *out, const struct imap_arg *args, size_t n)
{
	static const char type_char[] = {
	    [IMAP_ARG_ATOM] = 'a', [IMAP_ARG_STRING] = 's', [IMAP_ARG_LITERAL] = 'l',
	    [IMAP_ARG_NIL] = 'n',  [IMAP_ARG_LIST] = 'L',
	};

	g_string_append_c(out, '(');
	for (size_t i = 0; i < n; i++) {
		g_string_append_c(out, type_char[args[i].type]);
		if (args[i].type == IMAP_ARG_LIST) {
			serialize_args(out, args[i].children, args[i].n_children);
		} else {
			serialize_str(out, args[i].str, args[i].len);
		}
		g_string_append_c(out, ' ');
	}
	g_string_append_c(out, ')');
}

static void serialize_response(GString *out, const struct imap_response *r)
{
	g_string_append_printf(out, "kind=%d status=%d tag=", r->kind, r->status);
	serialize_str(out, r->tag, r->tag != NULL ? strlen(r->tag) : 0);
	g_string_append(out, " code=");
	serialize_str(out, r->code, r->code != NULL ? strlen(r->code) : 0);
	g_string_append(out, " code_args=");
	serialize_args(out, r->code_args, r->n_code_args);
	g_string_append(out, " code_raw=");
	serialize_str(out, r->code_raw, r->code_raw != NULL ? strlen(r->code_raw) : 0);
	g_string_append(out, " text=");
	serialize_str(out, r->text, r->text != NULL ? strlen(r->text) : 0);
	g_string_append_printf(out, " number=%d/%u keyword=", r->has_number, r->number);
	serialize_str(out, r->keyword, r->keyword != NULL ? strlen(r->keyword) : 0);
	g_string_append(out, " args=");
	serialize_args(out, r->args, r->n_args);
	g_string_append_c(out, '\n');
}

/* Totals over an argument tree, for the limit checks. */
struct arg_stats {
	size_t count;
	size_t bytes;
	unsigned depth;
};

static void check_args(const struct imap_arg *args, size_t n, unsigned depth,
                       const struct imap_parser_limits *limits, struct arg_stats *stats)
{
	FUZZ_CHECK((n == 0) == (args == NULL));
	stats->depth = MAX(stats->depth, depth);
	for (size_t i = 0; i < n; i++) {
		const struct imap_arg *a = &args[i];

		stats->count++;
		switch (a->type) {
		case IMAP_ARG_ATOM:
		case IMAP_ARG_STRING:
			/* NUL is refused outside literals, so these are C strings. */
			FUZZ_CHECK(a->str != NULL && strlen(a->str) == a->len);
			FUZZ_CHECK(a->len <= limits->max_line);
			FUZZ_CHECK(a->type != IMAP_ARG_ATOM || a->len > 0);
			break;
		case IMAP_ARG_LITERAL:
			FUZZ_CHECK(a->str != NULL && a->str[a->len] == '\0');
			FUZZ_CHECK(a->len <= limits->max_literal);
			break;
		case IMAP_ARG_NIL:
		case IMAP_ARG_LIST:
			FUZZ_CHECK(a->str == NULL && a->len == 0);
			break;
		default:
			FUZZ_CHECK_MSG(false, "argument type %d", a->type);
		}
		stats->bytes += a->len;
		if (a->type == IMAP_ARG_LIST) {
			check_args(a->children, a->n_children, depth + 1, limits, stats);
		} else {
			FUZZ_CHECK(a->n_children == 0 && a->children == NULL);
		}
	}
}

static size_t str_len(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

/* What imap-parser.h promises about the fields of a response, and the
 * limits: nothing in it can be bigger than the bytes allowed for it. */
static void check_response(const struct imap_response *r, const struct imap_parser_limits *limits)
{
	struct arg_stats args = {0};
	struct arg_stats code_args = {0};
	size_t bytes;

	FUZZ_CHECK(r->text != NULL);
	FUZZ_CHECK((r->code == NULL) == (r->code_raw == NULL));
	FUZZ_CHECK(r->code != NULL || r->n_code_args == 0);
	switch (r->kind) {
	case IMAP_RESPONSE_TAGGED:
		FUZZ_CHECK(r->tag != NULL && r->tag[0] != '\0');
		FUZZ_CHECK(r->status == IMAP_STATUS_OK || r->status == IMAP_STATUS_NO ||
		           r->status == IMAP_STATUS_BAD);
		FUZZ_CHECK(r->keyword == NULL && r->n_args == 0 && !r->has_number);
		break;
	case IMAP_RESPONSE_UNTAGGED:
		FUZZ_CHECK(r->tag == NULL);
		/* Either a status response or data with a keyword. */
		FUZZ_CHECK((r->status == IMAP_STATUS_NONE) == (r->keyword != NULL));
		FUZZ_CHECK(r->keyword == NULL || r->keyword[0] != '\0');
		FUZZ_CHECK(r->status == IMAP_STATUS_NONE || (r->n_args == 0 && !r->has_number));
		break;
	case IMAP_RESPONSE_CONTINUATION:
		FUZZ_CHECK(r->tag == NULL && r->keyword == NULL && r->code == NULL);
		FUZZ_CHECK(r->status == IMAP_STATUS_NONE && r->n_args == 0);
		break;
	default:
		FUZZ_CHECK_MSG(false, "response kind %d", r->kind);
	}

	check_args(r->args, r->n_args, 0, limits, &args);
	check_args(r->code_args, r->n_code_args, 0, limits, &code_args);
	FUZZ_CHECK(args.count <= limits->max_args && code_args.count <= limits->max_args);
	FUZZ_CHECK(args.depth <= limits->max_depth && code_args.depth <= limits->max_depth);
	FUZZ_CHECK(str_len(r->text) <= limits->max_line);

	/* The code's arguments are also kept raw, so its bytes count twice. */
	bytes = str_len(r->tag) + str_len(r->code) + str_len(r->code_raw) + str_len(r->text) +
	        str_len(r->keyword) + args.bytes + code_args.bytes;
	FUZZ_CHECK_MSG(bytes <= 2 * limits->max_response,
	               "%zu bytes held for a response of at most %zu", bytes, limits->max_response);
}

/* xorshift32: chunk sizes that depend only on the input. */
static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

enum chunking {
	CHUNK_WHOLE,
	CHUNK_BYTES,
	CHUNK_RANDOM,
};

static void run_parser(struct imap_parser *parser, const struct imap_parser_limits *limits,
                       const char *data, size_t len, enum chunking chunking, uint32_t seed,
                       struct run *run)
{
	uint32_t state = seed | 1;
	unsigned max_shift = seed % 9;
	size_t off = 0;

	run->responses = g_string_new(NULL);
	run->outcome = g_string_new(NULL);
	for (;;) {
		size_t chunk = len - off;
		size_t consumed = 12345;
		enum imap_parse_result result;

		if (chunking == CHUNK_BYTES) {
			chunk = MIN(chunk, 1);
		} else if (chunking == CHUNK_RANDOM) {
			/* Not inside MIN(): it would draw twice. */
			size_t n = 1 + next_random(&state) % (1u << max_shift);

			chunk = MIN(chunk, n);
		}
		result = imap_parser_feed(parser, data + off, chunk, &consumed);
		FUZZ_CHECK(consumed <= chunk);
		off += consumed;

		if (result == IMAP_PARSE_ERROR) {
			const char *error = imap_parser_error(parser);

			FUZZ_CHECK(error != NULL && error[0] != '\0');
			FUZZ_CHECK(imap_parser_take(parser) == NULL);
			/* The parser stays in error and consumes nothing more. */
			if (off < len) {
				FUZZ_CHECK(imap_parser_feed(parser, data + off, len - off,
				                            &consumed) == IMAP_PARSE_ERROR);
				FUZZ_CHECK(consumed == 0);
			}
			g_string_printf(run->outcome, "error at %zu: %s", off, error);
			return;
		}
		FUZZ_CHECK(imap_parser_error(parser) == NULL);
		if (result == IMAP_PARSE_NEED_MORE) {
			FUZZ_CHECK(consumed == chunk);
			if (off < len) {
				continue;
			}
			FUZZ_CHECK(imap_parser_take(parser) == NULL);
			g_string_printf(run->outcome, "end, partial=%d",
			                imap_parser_has_partial(parser));
			return;
		}
		FUZZ_CHECK(result == IMAP_PARSE_RESPONSE);
		if (chunking == CHUNK_RANDOM && off < len) {
			/* A response not taken yet blocks further input. */
			FUZZ_CHECK(imap_parser_feed(parser, data + off, len - off, &consumed) ==
			           IMAP_PARSE_RESPONSE);
			FUZZ_CHECK(consumed == 0);
		}
		g_autoptr(imap_response) response = imap_parser_take(parser);
		FUZZ_CHECK(response != NULL);
		FUZZ_CHECK(imap_parser_take(parser) == NULL);
		check_response(response, limits);
		serialize_response(run->responses, response);
	}
}

static void run_clear(struct run *run)
{
	g_string_free(run->responses, TRUE);
	g_string_free(run->outcome, TRUE);
}

static void check_same(const struct run *a, const struct run *b, const char *what)
{
	FUZZ_CHECK_MSG(strcmp(a->outcome->str, b->outcome->str) == 0, "%s: outcome '%s' vs '%s'",
	               what, a->outcome->str, b->outcome->str);
	FUZZ_CHECK_MSG(g_string_equal(a->responses, b->responses),
	               "%s: responses differ:\n%s\nvs\n%s", what, a->responses->str,
	               b->responses->str);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits limits;
	struct run whole, bytes, chunks;
	uint32_t seed;

	fuzz_init();
	if (size < HEADER_LEN) {
		return 0;
	}
	seed = (uint32_t)data[0] << 8 | data[1];
	limits = (struct imap_parser_limits){
	    .max_line = 2 + 4 * (size_t)data[2],
	    .max_literal = 4 * (size_t)data[3],
	    .max_response = 8 + 32 * (size_t)data[4],
	    .max_depth = data[5] & 7,
	    .max_args = 1 + 8 * (size_t)(data[5] >> 3),
	};

	const char *text = (const char *)data + HEADER_LEN;
	size_t len = size - HEADER_LEN;
	g_autoptr(imap_parser) parser = imap_parser_create(&limits);
	g_autoptr(imap_parser) fresh = imap_parser_create(&limits);

	run_parser(parser, &limits, text, len, CHUNK_WHOLE, seed, &whole);
	run_parser(fresh, &limits, text, len, CHUNK_BYTES, seed, &bytes);
	/* Reusing the first parser also checks that reset forgets everything,
	 * an error or a partial response included. */
	imap_parser_reset(parser);
	FUZZ_CHECK(!imap_parser_has_partial(parser) && imap_parser_error(parser) == NULL);
	run_parser(parser, &limits, text, len, CHUNK_RANDOM, seed, &chunks);

	check_same(&whole, &bytes, "whole vs byte by byte");
	check_same(&whole, &chunks, "whole vs chunks");
	run_clear(&whole);
	run_clear(&bytes);
	run_clear(&chunks);
	return 0;
}
