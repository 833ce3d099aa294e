/* SPDX-License-Identifier: MIT */
/*
 * imapwatch-test-doctor: runs doctor_run() for the integration tests until
 * the imapwatch command-line tool offers `imapwatch doctor`.
 *
 *   imapwatch-test-doctor [--config PATH] [ACCOUNT]
 *
 * Exits with doctor_run()'s status (0 all good, 1 a check failed), 2 on bad
 * usage.
 */
#include "imapwatch/doctor.h"
#include "imapwatch/log.h"

#include <glib.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	g_autofree char *config_path = NULL;
	GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "PATH"},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_autoptr(GOptionContext) context = g_option_context_new("[ACCOUNT]");
	g_autoptr(GError) error = NULL;

	setlocale(LC_ALL, "");
	log_setup("imapwatch-test-doctor");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) || argc > 2) {
		fprintf(stderr, "%s\n", error != NULL ? error->message : "too many arguments");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	return doctor_run(config_path, argc == 2 ? argv[1] : NULL, stdout);
}
