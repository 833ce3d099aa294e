/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/imap-login.h"

#include <glib.h>

/* A6: what a tagged NO means for retries, by its response code. */
static void test_failure_for_code(void)
{
	static const struct {
		const char *code;
		enum imap_failure failure;
	} cases[] = {
	    {NULL, IMAP_FAILURE_PERMANENT},
	    {"AUTHENTICATIONFAILED", IMAP_FAILURE_PERMANENT},
	    {"NONEXISTENT", IMAP_FAILURE_PERMANENT},
	    {"EXPIRED", IMAP_FAILURE_PERMANENT},
	    {"PRIVACYREQUIRED", IMAP_FAILURE_PERMANENT},
	    {"UNAVAILABLE", IMAP_FAILURE_RESOURCE},
	    {"LIMIT", IMAP_FAILURE_RESOURCE},
	    {"INUSE", IMAP_FAILURE_RESOURCE},
	    {"OVERQUOTA", IMAP_FAILURE_RESOURCE},
	    {"SERVERBUG", IMAP_FAILURE_TRANSIENT},
	    {"X-UNKNOWN", IMAP_FAILURE_PERMANENT},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_assert_cmpint(imap_login_failure_for_code(cases[i].code), ==, cases[i].failure);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap-login/failure-for-code", test_failure_for_code);
	return g_test_run();
}
