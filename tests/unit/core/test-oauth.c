/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/oauth.h"

#include <glib.h>
#include <string.h>

#define NOW 1800000000

static void parse_ok(const char *output, const char *token, gint64 expires_at)
{
	struct oauth_token t;
	g_autofree char *error = NULL;

	if (!oauth_token_parse(output, strlen(output), NOW, &t, &error)) {
		g_error("'%s' refused: %s", output, error);
	}
	g_assert_null(error);
	g_assert_cmpstr(t.access_token, ==, token);
	g_assert_cmpint(t.expires_at, ==, expires_at);
	oauth_token_clear(&t);
	g_assert_null(t.access_token);
}

static void parse_fails(const char *output, gsize len, const char *error_part)
{
	struct oauth_token t;
	g_autofree char *error = NULL;

	g_assert_false(oauth_token_parse(output, len, NOW, &t, &error));
	g_assert_null(t.access_token);
	g_assert_nonnull(error);
	if (strstr(error, error_part) == NULL) {
		g_error("error '%s' lacks '%s'", error, error_part);
	}
	/* Never the output itself: it may hold a token. */
	g_assert_null(strstr(error, "ya29"));
}

static void test_bare(void)
{
	parse_ok("ya29.a0AfH6SMB-x_y~z+/w==\n", "ya29.a0AfH6SMB-x_y~z+/w==", 0);
	parse_ok("  ya29.token  \r\nsecond line ignored\n", "ya29.token", 0);
	parse_ok("ya29.token", "ya29.token", 0); /* no line end */
	parse_fails("", 0, "nothing");
	parse_ok("\n\nya29.token\n", "ya29.token", 0); /* blank lines before it */
	parse_fails(" \n\t\n", 4, "nothing");
	parse_fails("ya29 token with spaces\n", 23, "characters");
	parse_fails("ya29.tok\"en\n", 12, "characters");
	parse_fails("ya29=.x\n", 8, "characters"); /* '=' only at the end */
}

static void test_json(void)
{
	parse_ok("{\"access_token\":\"ya29.abc\",\"expires_in\":3599,\"token_type\":\"Bearer\"}",
	         "ya29.abc", NOW + 3599);
	parse_ok(
	    "  {\n  \"token_type\": \"Bearer\",\n  \"scope\": [\"a\", {\"b\": [1, 2.5e3, "
	    "true, null]}],\n  \"expires_in\": \"60\",\n  \"access_token\": \"ya29.\\u0041b\"\n}\n",
	    "ya29.Ab", NOW + 60);
	parse_ok("{\"access_token\":\"t1\",\"expires_at\":1800003600}", "t1", 1800003600);
	parse_ok("{\"access_token\":\"t1\",\"expires_at\":\"2027-01-15T08:00:00Z\"}", "t1",
	         1800000000);
	parse_ok("{\"access_token\":\"t1\",\"expires_in\":3599.0}", "t1", NOW + 3599);
	parse_ok("{\"access_token\":\"first\",\"access_token\":\"second\"}", "second", 0);
	parse_ok("{\"access_token\":\"t1\",\"expires_in\":null}", "t1", 0);

	parse_fails("{\"token\":\"ya29.abc\"}", 20, "no \"access_token\"");
	parse_fails("{\"access_token\":42}", 19, "no \"access_token\"");
	parse_fails("{\"access_token\":\"\"}", 19, "no \"access_token\"");
	parse_fails("{\"access_token\":\"ya29.abc\"", 26, "not a JSON object");
	parse_fails("{\"access_token\":\"ya29.abc\"} trailing", 36, "not a JSON object");
	parse_fails("{\"access_token\":\"ya29 abc\"}", 27, "characters");
	parse_fails("{\"access_token\":\"ya29.abc\",\"expires_in\":\"soon\"}", 47, "expires_in");
	parse_fails("{\"access_token\":\"ya29.abc\",\"expires_in\":-5}", 43, "expires_in");
	parse_fails("{\"access_token\":\"ya29.abc\",\"expires_at\":\"tomorrow\"}", 51,
	            "expires_at");
	parse_fails("{\"access_token\":\"ya29\nabc\"}", 27, "not a JSON object");
}

static void test_json_is_bounded(void)
{
	g_autoptr(GString) deep = g_string_new("{\"a\":");

	for (int i = 0; i < 10000; i++) {
		g_string_append_c(deep, '[');
	}
	parse_fails(deep->str, deep->len, "not a JSON object");

	g_autoptr(GString) big = g_string_new("{\"access_token\":\"");
	for (int i = 0; i < OAUTH_OUTPUT_MAX; i++) {
		g_string_append_c(big, 'a');
	}
	g_string_append(big, "\"}");
	parse_fails(big->str, big->len, "not a JSON object"); /* cut at the limit */
}

static char *b64(const char *s)
{
	return g_base64_encode((const guchar *)s, strlen(s));
}

static void test_error_describe(void)
{
	g_autofree char *google = b64(
	    "{\"status\":\"400\",\"schemes\":\"Bearer\",\"scope\":\"https://mail.google.com/\"}");
	g_autofree char *numeric = b64("{\"status\": 401}");
	g_autofree char *not_json = b64("invalid token");
	g_autofree char *empty = b64("{}");
	g_autofree char *text = oauth_error_describe(google);
	g_autofree char *text2 = oauth_error_describe(numeric);

	g_assert_cmpstr(text, ==, "status 400, scope https://mail.google.com/, schemes Bearer");
	g_assert_cmpstr(text2, ==, "status 401");
	g_assert_null(oauth_error_describe(not_json));
	g_assert_null(oauth_error_describe(empty));
	g_assert_null(oauth_error_describe(""));
	g_assert_null(oauth_error_describe(NULL));
	g_assert_null(oauth_error_describe("!!!not base64"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/oauth/bare", test_bare);
	g_test_add_func("/oauth/json", test_json);
	g_test_add_func("/oauth/json-is-bounded", test_json_is_bounded);
	g_test_add_func("/oauth/error-describe", test_error_describe);
	return g_test_run();
}
