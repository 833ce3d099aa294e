/* SPDX-License-Identifier: MIT */
/*
 * The commands of imapwatch: what they share (options, output, one call to
 * the daemon), check, mark-read, reload and doctor, and the table of
 * commands. status and list are in ctl-commands-status.c, monitor in
 * ctl-commands-monitor.c.
 */
#include "ctl/ctl-commands-private.h"

#include "imapwatch/ctl/doctor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* no-color.org: NO_COLOR set to anything but "" turns colour off. */
bool ctl_commands_colour_wanted(void)
{
	const char *no_colour = g_getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && (no_colour == NULL || no_colour[0] == '\0') &&
	       g_strcmp0(g_getenv("TERM"), "dumb") != 0;
}

gsize ctl_commands_terminal_width(void)
{
	struct winsize size = {0};
	const char *env = g_getenv("COLUMNS");
	guint64 columns = 0;

	if (!isatty(STDOUT_FILENO)) {
		return 0;
	}
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
		return size.ws_col;
	}
	/* A terminal that does not say its size (a serial line): the
	 * shell's idea of it, else the classic width. */
	if (env != NULL && g_ascii_string_to_unsigned(env, 10, 1, G_MAXUINT16, &columns, NULL)) {
		return (gsize)columns;
	}
	return 80;
}

static int usage_error(const char *command, const char *message)
{
	return ctl_commands_usage_error(command, NULL, message);
}

int ctl_commands_usage_error(const char *command, const char *option, const char *message)
{
	fprintf(stderr, "imapwatch %s: %s%s%s\nTry 'imapwatch %s --help'.\n", command,
	        option != NULL ? option : "", option != NULL ? ": " : "", message, command);
	return CTL_EXIT_USAGE;
}

/* Parses the options of a command (argv[0] is its name) and checks that
 * at most max_args arguments remain, else prints why (with `too_many`).
 * --help prints and exits 0. */
bool ctl_commands_parse_options(const char *name, int *argc, char ***argv, GOptionEntry *entries,
                                int max_args, const char *too_many)
{
	const struct ctl_command *c = ctl_commands;
	g_autofree char *prgname = g_strdup_printf("imapwatch %s", name);
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;

	while (strcmp(c->name, name) != 0) {
		c++;
	}
	g_set_prgname(prgname);
	context = g_option_context_new(c->params);
	g_option_context_set_summary(context, c->summary);
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, argc, argv, &error)) {
		usage_error(name, error->message);
		return false;
	}
	if (*argc - 1 > max_args) {
		usage_error(name, too_many);
		return false;
	}
	return true;
}

/* Splits ACCOUNT[/FOLDER] at the first '/': account names cannot contain
 * one, folder names can. */
void ctl_commands_split_target(const char *target, char **account, char **folder)
{
	const char *slash = target != NULL ? strchr(target, '/') : NULL;

	if (target == NULL) {
		*account = g_strdup("");
		*folder = g_strdup("");
	} else if (slash == NULL) {
		*account = g_strdup(target);
		*folder = g_strdup("");
	} else {
		*account = g_strndup(target, (gsize)(slash - target));
		*folder = g_strdup(slash + 1);
	}
}

/* Prints text on stdout; false (after saying why, unless the reader just
 * went away) if it cannot be written. */
bool ctl_commands_print_out(const char *text)
{
	if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
		if (errno != EPIPE) {
			fprintf(stderr, "imapwatch: cannot write the output: %s\n",
			        g_strerror(errno));
		}
		return false;
	}
	return true;
}

/* Connects and makes one call; NULL with *code set on failure. */
GVariant *ctl_commands_call_daemon(const char *method, GVariant *args, int timeout_ms, bool quiet,
                                   int *code)
{
	struct ctl_client *client = ctl_client_connect(quiet, code);

	if (client == NULL) {
		if (args != NULL) {
			g_variant_unref(g_variant_ref_sink(args));
		}
		return NULL;
	}
	GVariant *reply = ctl_client_call(client, method, args, timeout_ms, code);
	ctl_client_free(client);
	return reply;
}

/* --- check, mark-read, reload -------------------------------------------- */

/* Runs a call whose reply carries nothing. */
static int simple_call(const char *method, GVariant *args, int timeout_ms)
{
	int code = CTL_EXIT_OK;
	g_autoptr(GVariant) reply =
	    ctl_commands_call_daemon(method, args, timeout_ms, false, &code);

	return reply != NULL ? CTL_EXIT_OK : code;
}

int ctl_commands_check(int argc, char **argv)
{
	GOptionEntry entries[] = {G_OPTION_ENTRY_NULL};

	if (!ctl_commands_parse_options("check", &argc, &argv, entries, 1,
	                                "takes at most one ACCOUNT")) {
		return CTL_EXIT_USAGE;
	}
	return simple_call("Check", g_variant_new("(s)", argc == 2 ? argv[1] : ""),
	                   CTL_CALL_TIMEOUT_MS);
}

int ctl_commands_mark_read(int argc, char **argv)
{
	gboolean all = FALSE;
	GOptionEntry entries[] = {
	    {"all", 'a', 0, G_OPTION_ARG_NONE, &all,
	     "Every unseen message imapwatch knows of (in ACCOUNT, or ACCOUNT/FOLDER)", NULL},
	    G_OPTION_ENTRY_NULL,
	};

	if (!ctl_commands_parse_options("mark-read", &argc, &argv, entries, G_MAXINT, NULL)) {
		return CTL_EXIT_USAGE;
	}
	if (all) {
		g_autofree char *account = NULL, *folder = NULL;

		if (argc > 2) {
			return usage_error("mark-read", "--all takes at most one ACCOUNT[/FOLDER]");
		}
		ctl_commands_split_target(argc == 2 ? argv[1] : NULL, &account, &folder);
		return simple_call("MarkAllRead", g_variant_new("(ss)", account, folder),
		                   CTL_MARK_READ_TIMEOUT_MS);
	}
	if (argc < 2) {
		return usage_error("mark-read",
		                   "needs message ids (see 'imapwatch list') or --all");
	}
	return simple_call("MarkRead",
	                   g_variant_new("(^as)", (const char *const *)(void *)(argv + 1)),
	                   CTL_MARK_READ_TIMEOUT_MS);
}

int ctl_commands_reload(int argc, char **argv)
{
	GOptionEntry entries[] = {G_OPTION_ENTRY_NULL};

	if (!ctl_commands_parse_options("reload", &argc, &argv, entries, 0, "takes no arguments")) {
		return CTL_EXIT_USAGE;
	}
	return simple_call("Reload", NULL, CTL_CALL_TIMEOUT_MS);
}

/* Works without a running daemon: checks each account the way imapwatchd
 * would connect to it and says what to change. */
int ctl_commands_doctor(int argc, char **argv)
{
	g_autofree char *config_path = NULL;
	GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
	     "Read the configuration from PATH (default: the one imapwatchd reads)", "PATH"},
	    G_OPTION_ENTRY_NULL,
	};

	if (!ctl_commands_parse_options("doctor", &argc, &argv, entries, 1,
	                                "takes at most one account name")) {
		return CTL_EXIT_USAGE;
	}
	return doctor_run(config_path, argc > 1 ? argv[1] : NULL, stdout) == 0 ? CTL_EXIT_OK
	                                                                       : CTL_EXIT_FAILED;
}

/* --- the table of commands ----------------------------------------------- */

const struct ctl_command ctl_commands[] = {
    {"status", "", "Show every account: state, unseen mail per folder, last event, errors.",
     ctl_commands_status},
    {"list", "[ACCOUNT[/FOLDER]]",
     "List the unseen messages imapwatchd knows of (all accounts, or one account or folder).",
     ctl_commands_list},
    {"check", "[ACCOUNT]", "Look for new mail now (all accounts, or one).", ctl_commands_check},
    {"mark-read", "ID… | --all [ACCOUNT[/FOLDER]]",
     "Mark messages as read on the server (IDs as 'imapwatch list' shows them).",
     ctl_commands_mark_read},
    {"reload", "", "Read the configuration again; unchanged accounts stay connected.",
     ctl_commands_reload},
    {"monitor", "", "Print events, or a status bar's line at each change, until interrupted.",
     ctl_commands_monitor},
    {"pause", "[DURATION]",
     "Hold desktop notifications back (no popups, no sounds) for DURATION (30m, 1h, …) or "
     "until 'imapwatch resume'; then one popup sums up what came.",
     ctl_commands_pause},
    {"resume", "", "Show desktop notifications again after 'imapwatch pause'.",
     ctl_commands_resume},
    {"doctor", "[ACCOUNT]",
     "Check accounts without the daemon: DNS, TLS, login, folders, and what to fix.",
     ctl_commands_doctor},
    {NULL, NULL, NULL, NULL},
};
