/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CTL_COMMANDS_PRIVATE_H
#define IMAPWATCH_CTL_COMMANDS_PRIVATE_H

/*
 * Shared by the files of the commands module, not for other modules:
 * ctl-commands.c (what the commands share: options, output, one call to
 * the daemon; check, mark-read, reload, doctor; the table of commands),
 * ctl-commands-status.c (status and list) and ctl-commands-monitor.c
 * (monitor).
 */

#include "imapwatch/ctl/ctl-commands.h"

#include "imapwatch/ctl/ctl-client.h"

#include <glib.h>
#include <stdbool.h>

/* SGR codes of the colours used. */
#define SGR_BOLD   "1"
#define SGR_DIM    "2"
#define SGR_RED    "1;31"
#define SGR_GREEN  "32"
#define SGR_YELLOW "33"

/* ---- ctl-commands.c ---- */

/* Whether to colour the output (stdout a terminal, NO_COLOR, TERM). */
bool ctl_commands_colour_wanted(void);
/* The width of the terminal on stdout in columns (TIOCGWINSZ, else
 * $COLUMNS, else 80), or 0 when stdout is no terminal: output for
 * programs keeps its whole rows. */
gsize ctl_commands_terminal_width(void);
/* Parses the options of a command (argv[0] is its name) and checks that
 * at most max_args arguments remain, else prints why (with `too_many`).
 * --help prints and exits 0. */
bool ctl_commands_parse_options(const char *name, int *argc, char ***argv, GOptionEntry *entries,
                                int max_args, const char *too_many);
/* Says on stderr what is wrong with the command line ("imapwatch COMMAND:
 * OPTION: MESSAGE", option may be NULL) and where help is; returns
 * CTL_EXIT_USAGE. */
int ctl_commands_usage_error(const char *command, const char *option, const char *message);
/* Splits ACCOUNT[/FOLDER] at the first '/' (NULL: both ""). */
void ctl_commands_split_target(const char *target, char **account, char **folder);
/* Prints text on stdout; false (after saying why, unless the reader just
 * went away) if it cannot be written. */
bool ctl_commands_print_out(const char *text);
/* Connects and makes one call; NULL with *code set on failure (quiet: a
 * daemon that is not running is not reported on stderr). */
GVariant *ctl_commands_call_daemon(const char *method, GVariant *args, int timeout_ms, bool quiet,
                                   int *code);

/* ---- ctl-commands-pause.c ---- */

/* The line of imapwatch status about notifications held back (paused,
 * quiet hours, the desktop's Do Not Disturb) from GetStatus's dictionary,
 * or NULL when nothing holds them. New string. */
char *ctl_commands_quiet_text(GVariant *status);

/* ---- ctl-commands-status.c ---- */

/* The SGR colour of an account state. */
const char *ctl_commands_state_colour(const char *state);

#endif
