/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/secret.h"

#include <glib.h>

/* One copy, shared: every reference sees the same bytes, and the copy
 * outlives the text it was made from and all references but the last. */
static void test_shared(void)
{
	char *text = g_strdup("s3cret");
	struct secret *s = secret_new(text);

	secret_free(text);
	struct secret *other = secret_ref(s);
	g_assert_true(other == s);
	g_assert_cmpstr(secret_get(s), ==, "s3cret");
	secret_unref(s);
	g_assert_cmpstr(secret_get(other), ==, "s3cret");
	secret_unref(other);
	secret_unref(NULL);
	secret_free(NULL);
}

static void test_null_is_empty(void)
{
	g_autoptr(secret) s = secret_new(NULL);

	g_assert_cmpstr(secret_get(s), ==, "");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/secret/shared", test_shared);
	g_test_add_func("/secret/null-is-empty", test_null_is_empty);
	return g_test_run();
}
