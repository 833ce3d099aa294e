/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CTL_COMMANDS_H
#define IMAPWATCH_CTL_COMMANDS_H

/*
 * The commands of imapwatch, the command line of imapwatchd. Every command
 * is one or two D-Bus calls (ctl-client.h); each parses its own options
 * (--help prints and exits 0) and prints the answers for people (aligned
 * columns, colour on a terminal) or for programs (--json).
 *
 * Each ctl_commands_NAME() takes the arguments after "imapwatch" (argv[0]
 * is the command's name) and returns the exit status (CTL_EXIT_*).
 */

struct ctl_command {
	const char *name;
	const char *params; /* after "imapwatch NAME [OPTION…]" */
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* Every command, in the order of the help; the last entry is all NULL. */
extern const struct ctl_command ctl_commands[];

int ctl_commands_status(int argc, char **argv);
int ctl_commands_list(int argc, char **argv);
int ctl_commands_check(int argc, char **argv);
int ctl_commands_mark_read(int argc, char **argv);
int ctl_commands_reload(int argc, char **argv);
int ctl_commands_monitor(int argc, char **argv);
int ctl_commands_pause(int argc, char **argv);
int ctl_commands_resume(int argc, char **argv);
/* Works without a running daemon. */
int ctl_commands_doctor(int argc, char **argv);

#endif
