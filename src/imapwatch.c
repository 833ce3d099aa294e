/* SPDX-License-Identifier: MIT */
/*
 * imapwatch: the command line of imapwatchd. This file picks the command
 * and prints the general help and the version; the commands themselves
 * (one or two D-Bus calls each, ctl-client.c, their answers printed for
 * people or for programs) are in src/ctl/ctl-commands*.c.
 */
#include "imapwatch/ctl/ctl-client.h"
#include "imapwatch/ctl/ctl-commands.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

/* --- main ---------------------------------------------------------------- */

static void print_help(FILE *out)
{
	fputs("Usage: imapwatch COMMAND [OPTION…] [ARGUMENT…]\n\n"
	      "Asks imapwatchd, the IMAP mail watcher, what it knows, and tells it what to do.\n\n"
	      "Commands:\n"
	      "  status [--json]                          accounts, their state and unseen mail\n"
	      "  status --format FORMAT [--offline TEXT]  one line for a status bar\n"
	      "  list [--all] [--json] [ACCOUNT[/FOLDER]] unseen (or all known) messages\n"
	      "  check [ACCOUNT]                          look for new mail now\n"
	      "  mark-read ID… | --all [ACCOUNT[/FOLDER]] mark messages as read on the server\n"
	      "  reload                                   read the configuration again\n"
	      "  monitor [--json]                         print events as they happen\n"
	      "  monitor --waybar | --i3blocks [--format FORMAT] [--offline TEXT]\n"
	      "                                           a status bar's line at once and at\n"
	      "                                           each change (waybar, i3blocks,\n"
	      "                                           polybar)\n"
	      "  pause [DURATION]                         no popups or sounds for DURATION (30m,\n"
	      "                                           1h, …) or until resume\n"
	      "  resume                                   popups and sounds again\n"
	      "  doctor [--config PATH] [ACCOUNT]         check accounts, no daemon needed\n\n"
	      "FORMAT fields: {unseen} {state} {accounts} {unseen:ACCOUNT} {state:ACCOUNT}\n"
	      "{unseen:ACCOUNT/FOLDER}; {{ and }} for braces. The offline TEXT (while\n"
	      "imapwatchd is not running) knows only {state} and {state:ACCOUNT}, which read "
	      "'offline'.\n\n"
	      "Options:\n"
	      "  -h, --help     this help; 'imapwatch COMMAND --help' for one command\n"
	      "  -V, --version  print the version\n\n"
	      "Exit status: 0 done (status: every account healthy; status --format: the line\n"
	      "was printed), 1 failed (status: an account is in error), 2 bad command line,\n"
	      "3 imapwatchd is not running (monitor waits for it instead).\n",
	      out);
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	if (argc < 2) {
		print_help(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		print_help(stdout);
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("imapwatch %s\n", IMAPWATCH_VERSION);
		return CTL_EXIT_OK;
	}
	for (const struct ctl_command *c = ctl_commands; c->name != NULL; c++) {
		if (strcmp(argv[1], c->name) == 0) {
			return c->run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "imapwatch: unknown command '%s'\nTry 'imapwatch --help'.\n", argv[1]);
	return CTL_EXIT_USAGE;
}
