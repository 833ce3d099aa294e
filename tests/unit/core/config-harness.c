/* SPDX-License-Identifier: MIT */
/* Loading a config from a string, for the config tests. */
#include "config-harness.h"

#include <string.h>

struct config *load(const char *text, GError **error)
{
	return config_load_data(text, strlen(text), "test.conf", error);
}

void assert_config_errors(const struct config_error_case *cases, size_t n, const char *data_dir)
{
	for (size_t i = 0; i < n; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(config) cfg = NULL;
		g_autofree char *expect = NULL;

		g_test_message("case %zu: %s", i, cases[i].text);
		cfg = load(cases[i].text, &error);
		g_assert_null(cfg);
		g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_INVALID);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		expect = data_dir != NULL ? g_strdup_printf(cases[i].message, data_dir)
		                          : g_strdup(cases[i].message);
#pragma GCC diagnostic pop
		g_assert_cmpstr(error->message, ==, expect);
		/* No message ever quotes a password. */
		g_assert_null(strstr(error->message, "hunter2"));
	}
}
