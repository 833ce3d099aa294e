/* SPDX-License-Identifier: MIT */
/*
 * The parser's API around responses: where consumption stops, partial input
 * and reset, sticky errors, destroy, limits; and the argument helpers. The
 * grammar itself is tested case by case in test-imap-parser.c.
 */
#include "imapwatch/core/imap-parser.h"

#include <string.h>

/* ---- Behaviour of the API around responses ---- */

static void test_consumed_stops_after_response(void)
{
	const char input[] = "* 1 EXISTS\r\n* 2 FETCH (BODY[] {3}\r\nabc)\r\nA1 OK done\r\n";
	const size_t ends[] = {12, 41, 53};
	g_autoptr(imap_parser) parser = imap_parser_create(NULL);
	size_t pos = 0;

	g_assert_cmpuint(sizeof(input) - 1, ==, 53);
	for (size_t i = 0; i < G_N_ELEMENTS(ends); i++) {
		size_t used = 0;
		g_autoptr(imap_response) response = NULL;

		g_assert_cmpint(
		    imap_parser_feed(parser, input + pos, sizeof(input) - 1 - pos, &used), ==,
		    IMAP_PARSE_RESPONSE);
		pos += used;
		g_assert_cmpuint(pos, ==, ends[i]);
		/* A ready response blocks further input until taken. */
		g_assert_cmpint(
		    imap_parser_feed(parser, input + pos, sizeof(input) - 1 - pos, &used), ==,
		    IMAP_PARSE_RESPONSE);
		g_assert_cmpuint(used, ==, 0);
		response = imap_parser_take(parser);
		g_assert_nonnull(response);
	}
	g_assert_false(imap_parser_has_partial(parser));
}

/* S3: bytes after STARTTLS's tagged OK stay with the caller, visibly. */
static void test_starttls_injection_visible(void)
{
	const char input[] = "A1 OK Begin TLS negotiation now\r\n* OK injected\r\n";
	g_autoptr(imap_parser) parser = imap_parser_create(NULL);
	g_autoptr(imap_response) response = NULL;
	size_t used = 0;

	g_assert_cmpint(imap_parser_feed(parser, input, sizeof(input) - 1, &used), ==,
	                IMAP_PARSE_RESPONSE);
	g_assert_cmpuint(used, ==, strlen("A1 OK Begin TLS negotiation now\r\n"));
	response = imap_parser_take(parser);
	g_assert_cmpstr(response->tag, ==, "A1");
	g_assert_cmpint(response->status, ==, IMAP_STATUS_OK);
	g_assert_cmpstr(response->text, ==, "Begin TLS negotiation now");
	g_assert_false(imap_parser_has_partial(parser));
	g_assert_cmpuint(used, <, sizeof(input) - 1);
}

static void test_partial_and_reset(void)
{
	g_autoptr(imap_parser) parser = imap_parser_create(NULL);
	g_autoptr(imap_response) response = NULL;
	size_t used = 0;

	g_assert_false(imap_parser_has_partial(parser));
	g_assert_null(imap_parser_take(parser));
	g_assert_null(imap_parser_error(parser));
	g_assert_cmpint(imap_parser_feed(parser, "", 0, &used), ==, IMAP_PARSE_NEED_MORE);
	g_assert_cmpuint(used, ==, 0);
	g_assert_cmpint(imap_parser_feed(parser, "* 1 FETCH (BODY[] {10}\r\nabc", 27, &used), ==,
	                IMAP_PARSE_NEED_MORE);
	g_assert_cmpuint(used, ==, 27);
	g_assert_true(imap_parser_has_partial(parser));
	imap_parser_reset(parser);
	g_assert_false(imap_parser_has_partial(parser));
	/* The rest of the literal is not taken for literal data any more. */
	g_assert_cmpint(imap_parser_feed(parser, "* 7 EXISTS\r\n", 12, NULL), ==,
	                IMAP_PARSE_RESPONSE);
	response = imap_parser_take(parser);
	g_assert_true(response->has_number);
	g_assert_cmpuint(response->number, ==, 7);
	g_assert_cmpstr(response->keyword, ==, "EXISTS");
	g_assert_cmpuint(response->n_args, ==, 0);
	g_assert_null(response->args);
}

static void test_error_is_sticky(void)
{
	g_autoptr(imap_parser) parser = imap_parser_create(NULL);
	g_autoptr(imap_response) response = NULL;
	size_t used = 99;

	g_assert_cmpint(imap_parser_feed(parser, "* 1 FETCH (\r\n* 2 EXISTS\r\n", 25, &used), ==,
	                IMAP_PARSE_ERROR);
	g_assert_cmpuint(used, ==, 13);
	g_assert_cmpstr(imap_parser_error(parser), ==, "unterminated list");
	g_assert_cmpint(imap_parser_feed(parser, "* 2 EXISTS\r\n", 12, &used), ==,
	                IMAP_PARSE_ERROR);
	g_assert_cmpuint(used, ==, 0);
	g_assert_null(imap_parser_take(parser));
	imap_parser_reset(parser);
	g_assert_null(imap_parser_error(parser));
	g_assert_cmpint(imap_parser_feed(parser, "* 2 EXISTS\r\n", 12, &used), ==,
	                IMAP_PARSE_RESPONSE);
	response = imap_parser_take(parser);
	g_assert_cmpuint(response->number, ==, 2);
}

/* A pending response and partial input are released by destroy. */
static void test_destroy_with_state(void)
{
	struct imap_parser *parser = imap_parser_create(NULL);

	g_assert_cmpint(imap_parser_feed(parser, "* 1 X (\"a\" {2}\r\nb", 17, NULL), ==,
	                IMAP_PARSE_NEED_MORE);
	imap_parser_destroy(parser);
	parser = imap_parser_create(NULL);
	g_assert_cmpint(imap_parser_feed(parser, "* 1 X (a b)\r\n", 13, NULL), ==,
	                IMAP_PARSE_RESPONSE);
	imap_parser_destroy(parser);
	imap_parser_destroy(NULL);
	imap_response_free(NULL);
}

/* Limits refuse data as soon as it is known to be too big: a literal
 * announcement is refused before any of its bytes are taken, and an endless
 * line is cut at max_line. */
static void test_limits_refuse_early(void)
{
	g_autoptr(imap_parser) parser = imap_parser_create(NULL);
	const char announce[] = "* 1 FETCH (BODY[] {1048577}\r\n";
	g_autofree char *line = g_strnfill(100000, 'a');
	size_t used = 0;

	g_assert_cmpint(imap_parser_feed(parser, announce, sizeof(announce) - 1, &used), ==,
	                IMAP_PARSE_ERROR);
	g_assert_cmpstr(imap_parser_error(parser), ==, "literal longer than 1048576 bytes");
	g_assert_cmpuint(used, ==, sizeof(announce) - 1);

	imap_parser_reset(parser);
	g_assert_cmpint(imap_parser_feed(parser, line, 100000, &used), ==, IMAP_PARSE_ERROR);
	g_assert_cmpstr(imap_parser_error(parser), ==, "line longer than 65536 bytes");
	g_assert_cmpuint(used, ==, 65536);

	imap_parser_reset(parser);
	g_assert_cmpint(imap_parser_feed(parser, "* X {1048576}\r\n", 15, &used), ==,
	                IMAP_PARSE_NEED_MORE);
	g_assert_true(imap_parser_has_partial(parser));
}

/* A FETCH of max-size literals filled up to exactly max_response + extra
 * bytes; the last literal takes up the slack. */
static GString *build_full_fetch(size_t extra, size_t *n_literals)
{
	const size_t max = imap_parser_default_limits.max_response;
	const size_t lit = imap_parser_default_limits.max_literal;
	GString *in = g_string_new("* 1 FETCH (");
	size_t rest;
	size_t n = 0;

	*n_literals = 0;
	while (in->len + 2 * lit < max) {
		g_string_append_printf(in, "%sB {%zu}\r\n", *n_literals > 0 ? " " : "", lit);
		g_string_set_size(in, in->len + lit);
		memset(in->str + in->len - lit, 'x', lit);
		(*n_literals)++;
	}
	/* Half of what is left, so that the last literal fits max_literal. */
	n = (max - in->len) / 2;
	g_string_append_printf(in, " H {%zu}\r\n", n);
	g_string_set_size(in, in->len + n);
	memset(in->str + in->len - n, 'h', n);
	(*n_literals)++;
	/* " C {n}\r\n" + n bytes + ")\r\n" fills the rest. */
	rest = max + extra - in->len - 3;
	for (size_t digits = 1; digits < 20; digits++) {
		g_autofree char *s = NULL;

		n = rest - 7 - digits;
		s = g_strdup_printf("%zu", n);
		if (strlen(s) == digits) {
			break;
		}
	}
	g_string_append_printf(in, " C {%zu}\r\n", n);
	g_string_set_size(in, in->len + n);
	memset(in->str + in->len - n, 'y', n);
	g_string_append(in, ")\r\n");
	(*n_literals)++;
	g_assert_cmpuint(in->len, ==, max + extra);
	g_assert_cmpuint(n, <=, lit);
	return in;
}

/* Default limits: max-size literals in a max-size response are fine; one
 * byte more is not. */
static void test_default_limits_at_boundary(void)
{
	g_autoptr(imap_parser) parser = imap_parser_create(NULL);
	g_autoptr(imap_response) response = NULL;
	g_autoptr(GString) in = NULL;
	g_autoptr(GString) over = NULL;
	size_t n_literals;
	size_t used;

	in = build_full_fetch(0, &n_literals);
	g_assert_cmpuint(n_literals, >=, 2);
	g_assert_cmpint(imap_parser_feed(parser, in->str, in->len, &used), ==, IMAP_PARSE_RESPONSE);
	g_assert_cmpuint(used, ==, in->len);
	response = imap_parser_take(parser);
	g_assert_cmpuint(response->n_args, ==, 1);
	g_assert_cmpuint(response->args[0].n_children, ==, 2 * n_literals);
	g_assert_cmpuint(response->args[0].children[1].len, ==,
	                 imap_parser_default_limits.max_literal);
	g_assert_cmpint(response->args[0].children[1].str[0], ==, 'x');

	/* One byte over: the last literal still fits, its final LF does not. */
	over = build_full_fetch(1, &n_literals);
	g_assert_cmpint(imap_parser_feed(parser, over->str, over->len, &used), ==,
	                IMAP_PARSE_ERROR);
	g_assert_cmpstr(imap_parser_error(parser), ==, "response longer than 4194304 bytes");
	g_assert_cmpuint(used, ==, over->len - 1);

	/* Four over: the last literal is refused before its data. */
	g_string_free(g_steal_pointer(&over), TRUE);
	over = build_full_fetch(4, &n_literals);
	imap_parser_reset(parser);
	g_assert_cmpint(imap_parser_feed(parser, over->str, over->len, &used), ==,
	                IMAP_PARSE_ERROR);
	g_assert_cmpstr(imap_parser_error(parser), ==, "response longer than 4194304 bytes");
	g_assert_cmpint(over->str[used - 1], ==, '\n');
	g_assert_cmpint(over->str[used], ==, 'y');
}

/* ---- Argument helpers ---- */

static struct imap_response *parse_one(const char *line)
{
	g_autoptr(imap_parser) parser = imap_parser_create(NULL);
	size_t used = 0;

	g_assert_cmpint(imap_parser_feed(parser, line, strlen(line), &used), ==,
	                IMAP_PARSE_RESPONSE);
	g_assert_cmpuint(used, ==, strlen(line));
	return imap_parser_take(parser);
}

static void test_arg_helpers(void)
{
	g_autoptr(imap_response) r = parse_one(
	    "* X ok \"OK\" {2}\r\nOK NIL (OK) 0 4294967295 4294967296 18446744073709551615 "
	    "18446744073709551616 12a +1 007 \"5\"\r\n");
	const struct imap_arg *a = r->args;
	uint32_t u32 = 77;
	uint64_t u64 = 77;

	g_assert_cmpuint(r->n_args, ==, 14);

	g_assert_true(imap_arg_is_atom(&a[0], "OK"));
	g_assert_true(imap_arg_is_atom(&a[0], "ok"));
	g_assert_false(imap_arg_is_atom(&a[0], "OKAY"));
	g_assert_false(imap_arg_is_atom(&a[0], "O"));
	g_assert_false(imap_arg_is_atom(&a[1], "OK")); /* quoted */
	g_assert_false(imap_arg_is_atom(&a[2], "OK")); /* literal */
	g_assert_false(imap_arg_is_atom(&a[3], "NIL"));
	g_assert_false(imap_arg_is_atom(&a[4], "OK")); /* list */
	g_assert_false(imap_arg_is_atom(NULL, "OK"));

	g_assert_cmpstr(imap_arg_as_string(&a[0]), ==, "ok");
	g_assert_cmpstr(imap_arg_as_string(&a[1]), ==, "OK");
	g_assert_cmpstr(imap_arg_as_string(&a[2]), ==, "OK");
	g_assert_cmpint(a[2].type, ==, IMAP_ARG_LITERAL);
	g_assert_cmpint(a[3].type, ==, IMAP_ARG_NIL);
	g_assert_null(imap_arg_as_string(&a[3]));
	g_assert_null(imap_arg_as_string(&a[4]));
	g_assert_null(imap_arg_as_string(NULL));
	g_assert_cmpuint(a[4].n_children, ==, 1);
	g_assert_true(imap_arg_is_atom(&a[4].children[0], "OK"));

	g_assert_true(imap_arg_get_u32(&a[5], &u32));
	g_assert_cmpuint(u32, ==, 0);
	g_assert_true(imap_arg_get_u32(&a[6], &u32));
	g_assert_cmpuint(u32, ==, 4294967295u);
	u32 = 77;
	g_assert_false(imap_arg_get_u32(&a[7], &u32));
	g_assert_cmpuint(u32, ==, 77); /* untouched on failure */
	g_assert_true(imap_arg_get_u64(&a[7], &u64));
	g_assert_cmpuint(u64, ==, 4294967296u);
	g_assert_true(imap_arg_get_u64(&a[8], &u64));
	g_assert_cmpuint(u64, ==, UINT64_MAX);
	u64 = 77;
	g_assert_false(imap_arg_get_u64(&a[9], &u64));
	g_assert_cmpuint(u64, ==, 77);
	g_assert_false(imap_arg_get_u32(&a[10], &u32));
	g_assert_false(imap_arg_get_u32(&a[11], &u32));
	g_assert_true(imap_arg_get_u32(&a[12], &u32));
	g_assert_cmpuint(u32, ==, 7);
	g_assert_false(imap_arg_get_u32(&a[13], &u32)); /* quoted */
	g_assert_false(imap_arg_get_u64(&a[3], &u64));
	g_assert_false(imap_arg_get_u64(&a[4], &u64));
	g_assert_false(imap_arg_get_u64(NULL, &u64));
	g_assert_cmpuint(u32, ==, 7);
}

static void test_code_args(void)
{
	g_autoptr(imap_response) r =
	    parse_one("A9 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n");

	g_assert_cmpint(r->kind, ==, IMAP_RESPONSE_TAGGED);
	g_assert_cmpstr(r->code, ==, "COPYUID");
	g_assert_cmpuint(r->n_code_args, ==, 3);
	g_assert_true(imap_arg_is_atom(&r->code_args[1], "304,319:320"));
	g_assert_cmpstr(r->code_raw, ==, "38505 304,319:320 3956:3958");
	g_assert_cmpstr(r->text, ==, "Done");
	g_assert_null(r->keyword);
	g_assert_null(r->args);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap-parser/consumed-stops-after-response",
	                test_consumed_stops_after_response);
	g_test_add_func("/imap-parser/starttls-injection-visible", test_starttls_injection_visible);
	g_test_add_func("/imap-parser/partial-and-reset", test_partial_and_reset);
	g_test_add_func("/imap-parser/error-is-sticky", test_error_is_sticky);
	g_test_add_func("/imap-parser/destroy-with-state", test_destroy_with_state);
	g_test_add_func("/imap-parser/limits-refuse-early", test_limits_refuse_early);
	g_test_add_func("/imap-parser/default-limits-at-boundary", test_default_limits_at_boundary);
	g_test_add_func("/imap-parser/arg-helpers", test_arg_helpers);
	g_test_add_func("/imap-parser/code-args", test_code_args);
	return g_test_run();
}
