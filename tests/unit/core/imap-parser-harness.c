/* SPDX-License-Identifier: MIT */
/*
 * Responses written as text, and input fed to the parser in chunks, for
 * the parser's case tests (imap-parser-harness.h).
 */
#include "imap-parser-harness.h"

#include <string.h>

/* ---- Writing a response as text ---- */

static void dump_bytes(GString *out, const char *s, size_t len, bool quote)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r') {
			g_string_append(out, "\\r");
		} else if (ch == '\n') {
			g_string_append(out, "\\n");
		} else if (ch == '\0') {
			g_string_append(out, "\\0");
		} else if (ch < 0x20 || ch >= 0x7f || (!quote && ch == ' ')) {
			/* Spaces in atoms are escaped so that one section atom
			 * cannot read like several atoms. */
			g_string_append_printf(out, "\\x%02x", ch);
		} else if (quote && (ch == '"' || ch == '\\')) {
			g_string_append_c(out, '\\');
			g_string_append_c(out, (char)ch);
		} else {
			g_string_append_c(out, (char)ch);
		}
	}
}

static void dump_quoted(GString *out, const char *s, size_t len)
{
	g_string_append_c(out, '"');
	dump_bytes(out, s, len, true);
	g_string_append_c(out, '"');
}

static void dump_args(GString *out, const struct imap_arg *args, size_t n);

static void dump_arg(GString *out, const struct imap_arg *arg)
{
	if (arg->type == IMAP_ARG_NIL || arg->type == IMAP_ARG_LIST) {
		g_assert_null(arg->str);
		g_assert_cmpuint(arg->len, ==, 0);
	} else {
		g_assert_nonnull(arg->str);
		g_assert_cmpint(arg->str[arg->len], ==, '\0');
		g_assert_cmpuint(arg->n_children, ==, 0);
		g_assert_null(arg->children);
	}
	switch (arg->type) {
	case IMAP_ARG_ATOM:
		dump_bytes(out, arg->str, arg->len, false);
		break;
	case IMAP_ARG_STRING:
		dump_quoted(out, arg->str, arg->len);
		break;
	case IMAP_ARG_LITERAL:
		g_string_append_printf(out, "{%zu}", arg->len);
		dump_quoted(out, arg->str, arg->len);
		break;
	case IMAP_ARG_NIL:
		g_string_append(out, "NIL");
		break;
	case IMAP_ARG_LIST:
		g_assert_true(arg->n_children == 0 || arg->children != NULL);
		g_string_append_c(out, '(');
		dump_args(out, arg->children, arg->n_children);
		g_string_append_c(out, ')');
		break;
	}
}

static void dump_args(GString *out, const struct imap_arg *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			g_string_append_c(out, ' ');
		}
		dump_arg(out, &args[i]);
	}
}

static const char *status_name(enum imap_status status)
{
	switch (status) {
	case IMAP_STATUS_NONE:
		break;
	case IMAP_STATUS_OK:
		return "OK";
	case IMAP_STATUS_NO:
		return "NO";
	case IMAP_STATUS_BAD:
		return "BAD";
	case IMAP_STATUS_BYE:
		return "BYE";
	case IMAP_STATUS_PREAUTH:
		return "PREAUTH";
	}
	return "?";
}

/*
 * "* OK [CODE args raw:"..."] text:"..."", "A1 NO text:"..."",
 * "* #23 EXISTS", "* CAPABILITY IMAP4rev1 IDLE", "+ text:"...""; checks the
 * invariants the header promises on the way.
 */
static void dump_response(GString *out, const struct imap_response *r)
{
	g_assert_nonnull(r->text);
	switch (r->kind) {
	case IMAP_RESPONSE_UNTAGGED:
		g_assert_null(r->tag);
		g_string_append_c(out, '*');
		break;
	case IMAP_RESPONSE_TAGGED:
		g_assert_nonnull(r->tag);
		g_assert_cmpint(r->status, !=, IMAP_STATUS_NONE);
		g_string_append(out, r->tag);
		break;
	case IMAP_RESPONSE_CONTINUATION:
		g_assert_null(r->tag);
		g_assert_cmpint(r->status, ==, IMAP_STATUS_NONE);
		g_assert_null(r->code);
		g_string_append_c(out, '+');
		break;
	}
	if (r->status != IMAP_STATUS_NONE) {
		g_assert_null(r->keyword);
		g_assert_cmpuint(r->n_args, ==, 0);
		g_assert_false(r->has_number);
		g_string_append_printf(out, " %s", status_name(r->status));
	}
	if (r->code != NULL) {
		g_assert_nonnull(r->code_raw);
		g_string_append_printf(out, " [%s", r->code);
		if (r->n_code_args > 0) {
			g_string_append_c(out, ' ');
			dump_args(out, r->code_args, r->n_code_args);
		}
		g_string_append(out, " raw:");
		dump_quoted(out, r->code_raw, strlen(r->code_raw));
		g_string_append_c(out, ']');
	} else {
		g_assert_null(r->code_raw);
		g_assert_cmpuint(r->n_code_args, ==, 0);
	}
	if (r->status != IMAP_STATUS_NONE || r->kind == IMAP_RESPONSE_CONTINUATION) {
		g_string_append(out, " text:");
		dump_quoted(out, r->text, strlen(r->text));
		return;
	}
	g_assert_nonnull(r->keyword);
	g_assert_cmpstr(r->text, ==, "");
	if (r->has_number) {
		g_string_append_printf(out, " #%u", (unsigned)r->number);
	} else {
		g_assert_cmpuint(r->number, ==, 0);
	}
	g_string_append_printf(out, " %s", r->keyword);
	if (r->n_args > 0) {
		g_string_append_c(out, ' ');
		dump_args(out, r->args, r->n_args);
	}
}

/* ---- Feeding ---- */

/*
 * Feeds input cut at the given offsets (increasing, inside the input) and
 * returns one line per response, then "ERROR: <message>" or "PARTIAL" if
 * that is how the input ended.
 */
char *run_chunks(const struct parser_case *tc, const char *input, size_t len, const size_t *cuts,
                 size_t n_cuts)
{
	g_autoptr(imap_parser) parser = imap_parser_create(tc->limits);
	GString *out = g_string_new(NULL);
	size_t start = 0;

	for (size_t chunk = 0; chunk <= n_cuts; chunk++) {
		size_t end = chunk < n_cuts ? cuts[chunk] : len;
		size_t pos = start;

		while (pos < end) {
			size_t used = SIZE_MAX;
			enum imap_parse_result result =
			    imap_parser_feed(parser, input + pos, end - pos, &used);
			g_autoptr(imap_response) response = NULL;

			g_assert_cmpuint(used, <=, end - pos);
			pos += used;
			if (result == IMAP_PARSE_ERROR) {
				g_assert_nonnull(imap_parser_error(parser));
				g_string_append_printf(out, "ERROR: %s\n",
				                       imap_parser_error(parser));
				return g_string_free(out, FALSE);
			}
			if (result == IMAP_PARSE_NEED_MORE) {
				g_assert_cmpuint(pos, ==, end);
				g_assert_null(imap_parser_take(parser));
				break;
			}
			/* Consumption stops right after the line end. */
			g_assert_cmpuint(used, >, 0);
			g_assert_cmpint(input[pos - 1], ==, '\n');
			g_assert_false(imap_parser_has_partial(parser));
			g_assert_null(imap_parser_error(parser));
			response = imap_parser_take(parser);
			g_assert_nonnull(response);
			g_assert_null(imap_parser_take(parser));
			dump_response(out, response);
			g_string_append_c(out, '\n');
		}
		start = end;
	}
	if (imap_parser_has_partial(parser)) {
		g_string_append(out, "PARTIAL\n");
	}
	return g_string_free(out, FALSE);
}

size_t case_len(const struct parser_case *tc)
{
	return tc->len > 0 ? tc->len : strlen(tc->input);
}

/* Whole, every two-way split, byte by byte: all equal to expected. */
void check_every_chunking(const struct parser_case *tc, const char *input, size_t len,
                          const char *expected)
{
	g_autofree char *whole = run_chunks(tc, input, len, NULL, 0);
	g_autofree size_t *cuts = g_new(size_t, len > 0 ? len : 1);

	g_assert_cmpstr(whole, ==, expected);
	for (size_t split = 1; split < len; split++) {
		g_autofree char *got = run_chunks(tc, input, len, &split, 1);

		if (g_strcmp0(got, whole) != 0) {
			g_test_message("split at %zu differs", split);
		}
		g_assert_cmpstr(got, ==, whole);
	}
	for (size_t i = 1; i < len; i++) {
		cuts[i - 1] = i;
	}
	if (len > 1) {
		g_autofree char *got = run_chunks(tc, input, len, cuts, len - 1);

		g_assert_cmpstr(got, ==, whole);
	}
}
