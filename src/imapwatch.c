/* SPDX-License-Identifier: MIT */
/*
 * imapwatch: the command line of imapwatchd. Every command is one or two
 * D-Bus calls (ctl-client.c); this file parses the command line and prints
 * the answers for people (aligned columns, colour on a terminal) or for
 * programs (--json).
 */
#include "imapwatch/ctl/doctor.h"
#include "imapwatch/ctl/ctl-client.h"
#include "imapwatch/ctl/ctl-format.h"
#include "imapwatch/ctl/ctl-table.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* SGR codes of the colours used. */
#define SGR_BOLD   "1"
#define SGR_DIM    "2"
#define SGR_RED    "1;31"
#define SGR_GREEN  "32"
#define SGR_YELLOW "33"

struct command {
	const char *name;
	const char *params; /* after "imapwatch NAME [OPTION…]" */
	const char *summary;
	int (*run)(int argc, char **argv);
};

static const struct command commands[];

/* no-color.org: NO_COLOR set to anything but "" turns colour off. */
static bool colour_wanted(void)
{
	const char *no_colour = g_getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && (no_colour == NULL || no_colour[0] == '\0') &&
	       g_strcmp0(g_getenv("TERM"), "dumb") != 0;
}

static int usage_error(const char *command, const char *message)
{
	fprintf(stderr, "imapwatch %s: %s\nTry 'imapwatch %s --help'.\n", command, message,
	        command);
	return CTL_EXIT_USAGE;
}

/* Parses the options of a command (argv[0] is its name) and checks that
 * at most max_args arguments remain, else prints why (with `too_many`).
 * --help prints and exits 0. */
static bool parse_options(const char *name, int *argc, char ***argv, GOptionEntry *entries,
                          int max_args, const char *too_many)
{
	const struct command *c = commands;
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
static void split_target(const char *target, char **account, char **folder)
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
static bool print_out(const char *text)
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

static bool print_json(GVariant *value)
{
	g_autoptr(GString) out = g_string_new(NULL);

	ctl_format_json(out, value);
	g_string_append_c(out, '\n');
	return print_out(out->str);
}

/* Connects and makes one call; NULL with *code set on failure. */
static GVariant *call_daemon(const char *method, GVariant *args, int timeout_ms, int *code)
{
	struct ctl_client *client = ctl_client_connect(code);

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

/* --- status -------------------------------------------------------------- */

static const char *state_colour(const char *state)
{
	if (strcmp(state, "idle") == 0 || strcmp(state, "polling") == 0) {
		return SGR_GREEN;
	}
	if (strcmp(state, "error") == 0) {
		return SGR_RED;
	}
	if (strcmp(state, "disabled") == 0) {
		return SGR_DIM;
	}
	return SGR_YELLOW;
}

static char *folders_text(GVariant *folders)
{
	GString *out = g_string_new(NULL);
	GVariantIter it;
	GVariant *folder;

	g_variant_iter_init(&it, folders);
	while ((folder = g_variant_iter_next_value(&it)) != NULL) {
		const char *name = "";
		guint32 unseen = 0;

		g_variant_lookup(folder, "name", "&s", &name);
		g_variant_lookup(folder, "unseen", "u", &unseen);
		g_string_append_printf(out, "%s%s %" G_GUINT32_FORMAT, out->len > 0 ? ", " : "",
		                       name, unseen);
		g_variant_unref(folder);
	}
	return g_string_free(out, FALSE);
}

/* The status table; *any_error tells whether an account is in error. */
static char *status_text(GVariant *status, bool colour, bool *any_error)
{
	g_autoptr(GVariant) accounts = g_variant_lookup_value(status, "accounts", NULL);
	g_autoptr(GString) out = g_string_new(NULL);
	struct ctl_table *table = ctl_table_new(5, colour);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	const char *version = "?";
	guint64 uptime = 0;
	guint32 total = 0;
	GVariantIter it;
	GVariant *account;

	g_variant_lookup(status, "version", "&s", &version);
	g_variant_lookup(status, "uptime", "t", &uptime);
	g_variant_lookup(status, "total_unseen", "u", &total);
	g_autofree char *up = ctl_format_duration(uptime);
	g_string_append_printf(out, "imapwatchd %s, up %s, %" G_GUINT32_FORMAT " unseen\n\n",
	                       version, up, total);
	for (const char *const *h =
	         (const char *const[]){"ACCOUNT", "STATE", "UNSEEN", "LAST EVENT", "DETAIL", NULL};
	     *h != NULL; h++) {
		ctl_table_add(table, *h, SGR_BOLD);
	}
	*any_error = false;
	if (accounts != NULL) {
		g_variant_iter_init(&it, accounts);
	}
	while (accounts != NULL && (account = g_variant_iter_next_value(&it)) != NULL) {
		const char *name = "", *state = "", *detail = "";
		gint64 last_event = 0;
		g_autoptr(GVariant) folders = g_variant_lookup_value(account, "folders", NULL);

		g_variant_lookup(account, "name", "&s", &name);
		g_variant_lookup(account, "state", "&s", &state);
		g_variant_lookup(account, "detail", "&s", &detail);
		g_variant_lookup(account, "last_event", "x", &last_event);
		g_autofree char *unseen = folders != NULL ? folders_text(folders) : g_strdup("");
		g_autofree char *ago = ctl_format_ago(last_event, now);
		*any_error = *any_error || strcmp(state, "error") == 0;
		ctl_table_add(table, name, NULL);
		ctl_table_add(table, state, state_colour(state));
		ctl_table_add(table, unseen, NULL);
		ctl_table_add(table, ago, NULL);
		ctl_table_add(table, detail, NULL);
		g_variant_unref(account);
	}
	g_autofree char *rows = ctl_table_render(table);
	ctl_table_free(table);
	g_string_append(out, rows);
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static int cmd_status(int argc, char **argv)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json,
	     "Print one JSON object with the fields of GetStatus", NULL},
	    G_OPTION_ENTRY_NULL,
	};
	int code = CTL_EXIT_OK;
	bool any_error = false;

	if (!parse_options("status", &argc, &argv, entries, 0, "takes no arguments")) {
		return CTL_EXIT_USAGE;
	}
	g_autoptr(GVariant) reply = call_daemon("GetStatus", NULL, CTL_CALL_TIMEOUT_MS, &code);
	if (reply == NULL) {
		return code;
	}
	g_autoptr(GVariant) status = g_variant_get_child_value(reply, 0);
	g_autofree char *text = status_text(status, colour_wanted(), &any_error);
	if (!(json ? print_json(status) : print_out(text))) {
		return CTL_EXIT_FAILED;
	}
	return any_error ? CTL_EXIT_FAILED : CTL_EXIT_OK;
}

/* --- list ---------------------------------------------------------------- */

static char *date_text(gint64 date)
{
	if (date == 0) {
		return g_strdup("");
	}
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(date);
	return t != NULL ? g_date_time_format(t, "%Y-%m-%d %H:%M") : g_strdup("");
}

static char *messages_text(GVariant *messages, bool all, bool colour)
{
	struct ctl_table *table = ctl_table_new(all ? 5 : 4, colour);
	GVariantIter it;
	GVariant *m;

	ctl_table_add(table, "ID", SGR_BOLD);
	ctl_table_add(table, "DATE", SGR_BOLD);
	if (all) {
		ctl_table_add(table, "SEEN", SGR_BOLD);
	}
	ctl_table_add(table, "FROM", SGR_BOLD);
	ctl_table_add(table, "SUBJECT", SGR_BOLD);
	g_variant_iter_init(&it, messages);
	while ((m = g_variant_iter_next_value(&it)) != NULL) {
		const char *id = "", *from_name = "", *from_addr = "", *subject = "";
		gboolean seen = FALSE;
		gint64 date = 0;

		g_variant_lookup(m, "id", "&s", &id);
		g_variant_lookup(m, "from_name", "&s", &from_name);
		g_variant_lookup(m, "from_addr", "&s", &from_addr);
		g_variant_lookup(m, "subject", "&s", &subject);
		g_variant_lookup(m, "seen", "b", &seen);
		g_variant_lookup(m, "date", "x", &date);
		g_autofree char *when = date_text(date);
		ctl_table_add(table, id, NULL);
		ctl_table_add(table, when, NULL);
		if (all) {
			ctl_table_add(table, seen ? "yes" : "no", seen ? NULL : SGR_BOLD);
		}
		ctl_table_add(table, from_name[0] != '\0' ? from_name : from_addr, NULL);
		ctl_table_add(table, subject, seen ? NULL : SGR_BOLD);
		g_variant_unref(m);
	}
	char *text = ctl_table_render(table);
	ctl_table_free(table);
	return text;
}

static int cmd_list(int argc, char **argv)
{
	gboolean all = FALSE, json = FALSE;
	GOptionEntry entries[] = {
	    {"all", 'a', 0, G_OPTION_ARG_NONE, &all,
	     "Also messages already seen (that imapwatch has reported since it started)", NULL},
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json,
	     "Print a JSON array of message objects (the keys of the message dictionary)", NULL},
	    G_OPTION_ENTRY_NULL,
	};
	g_autofree char *account = NULL, *folder = NULL;
	int code = CTL_EXIT_OK;

	if (!parse_options("list", &argc, &argv, entries, 1,
	                   "takes at most one ACCOUNT[/FOLDER]")) {
		return CTL_EXIT_USAGE;
	}
	split_target(argc == 2 ? argv[1] : NULL, &account, &folder);
	g_autoptr(GVariant) reply =
	    call_daemon("ListMessages", g_variant_new("(ssb)", account, folder, !all),
	                CTL_CALL_TIMEOUT_MS, &code);
	if (reply == NULL) {
		return code;
	}
	g_autoptr(GVariant) messages = g_variant_get_child_value(reply, 0);
	if (json) {
		return print_json(messages) ? CTL_EXIT_OK : CTL_EXIT_FAILED;
	}
	if (g_variant_n_children(messages) == 0) {
		return print_out(all ? "No messages.\n" : "No unseen messages.\n")
		           ? CTL_EXIT_OK
		           : CTL_EXIT_FAILED;
	}
	g_autofree char *text = messages_text(messages, all, colour_wanted());
	return print_out(text) ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}

/* --- check, mark-read, reload -------------------------------------------- */

/* Runs a call whose reply carries nothing. */
static int simple_call(const char *method, GVariant *args, int timeout_ms)
{
	int code = CTL_EXIT_OK;
	g_autoptr(GVariant) reply = call_daemon(method, args, timeout_ms, &code);

	return reply != NULL ? CTL_EXIT_OK : code;
}

static int cmd_check(int argc, char **argv)
{
	GOptionEntry entries[] = {G_OPTION_ENTRY_NULL};

	if (!parse_options("check", &argc, &argv, entries, 1, "takes at most one ACCOUNT")) {
		return CTL_EXIT_USAGE;
	}
	return simple_call("Check", g_variant_new("(s)", argc == 2 ? argv[1] : ""),
	                   CTL_CALL_TIMEOUT_MS);
}

static int cmd_mark_read(int argc, char **argv)
{
	gboolean all = FALSE;
	GOptionEntry entries[] = {
	    {"all", 'a', 0, G_OPTION_ARG_NONE, &all,
	     "Every unseen message imapwatch knows of (in ACCOUNT, or ACCOUNT/FOLDER)", NULL},
	    G_OPTION_ENTRY_NULL,
	};

	if (!parse_options("mark-read", &argc, &argv, entries, G_MAXINT, NULL)) {
		return CTL_EXIT_USAGE;
	}
	if (all) {
		g_autofree char *account = NULL, *folder = NULL;

		if (argc > 2) {
			return usage_error("mark-read", "--all takes at most one ACCOUNT[/FOLDER]");
		}
		split_target(argc == 2 ? argv[1] : NULL, &account, &folder);
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

static int cmd_reload(int argc, char **argv)
{
	GOptionEntry entries[] = {G_OPTION_ENTRY_NULL};

	if (!parse_options("reload", &argc, &argv, entries, 0, "takes no arguments")) {
		return CTL_EXIT_USAGE;
	}
	return simple_call("Reload", NULL, CTL_CALL_TIMEOUT_MS);
}

/* --- monitor ------------------------------------------------------------- */

struct monitor {
	bool json;
	bool colour;
	bool write_failed;
};

static const struct {
	const char *signal;
	enum watch_event_type type;
} message_signals[] = {
    {"MessagesAdded", WATCH_EVENT_NEW},
    {"MessagesChanged", WATCH_EVENT_CHANGED},
    {"MessagesRemoved", WATCH_EVENT_REMOVED},
};

static void paint(GString *out, bool colour, const char *sgr, const char *text)
{
	if (colour && sgr != NULL) {
		g_string_append_printf(out, "\033[%sm%s\033[0m", sgr, text);
	} else {
		g_string_append(out, text);
	}
}

static const char *event_colour(const struct watch_event *ev)
{
	switch (ev->type) {
	case WATCH_EVENT_NEW:
		return SGR_GREEN;
	case WATCH_EVENT_STATE:
		return state_colour(ev->state);
	case WATCH_EVENT_RESET:
		return SGR_YELLOW;
	default:
		return NULL;
	}
}

/* One line for people: time, kind, where, what. */
static void event_line(GString *out, const struct watch_event *ev, bool colour)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *clock = g_date_time_format(now, "%H:%M:%S");
	const char *kind = watch_event_type_name(ev->type);
	g_autofree char *padded = g_strdup_printf("%-7s", kind);

	g_string_append_printf(out, "%s ", clock);
	paint(out, colour, event_colour(ev), padded);
	g_string_append_printf(out, " %s", ev->account);
	if (ev->type != WATCH_EVENT_STATE) {
		g_string_append_printf(out, "/%s", ev->folder);
	}
	switch (ev->type) {
	case WATCH_EVENT_NEW:
		g_string_append_printf(
		    out, "  %s: ", ev->from_name[0] != '\0' ? ev->from_name : ev->from_addr);
		paint(out, colour, SGR_BOLD, ev->subject);
		g_string_append_printf(out, "  (%" G_GUINT32_FORMAT ")", ev->uid);
		break;
	case WATCH_EVENT_CHANGED: {
		g_autofree char *flags = g_strjoinv(" ", (char **)ev->flags);

		g_string_append_printf(out, "  uid %" G_GUINT32_FORMAT " %s%s%s", ev->uid,
		                       ev->seen ? "read" : "unread",
		                       flags[0] != '\0' ? ", flags " : "", flags);
		break;
	}
	case WATCH_EVENT_REMOVED:
		g_string_append_printf(out, "  uid %" G_GUINT32_FORMAT, ev->uid);
		break;
	case WATCH_EVENT_UNSEEN:
		g_string_append_printf(out, "  %" G_GUINT32_FORMAT " unseen", ev->count);
		break;
	case WATCH_EVENT_RESET: {
		/* A sentence: "work/INBOX was reset by the server: …". */
		g_autofree char *text = ctl_format_reset_text(ev);

		g_string_append_printf(out, " %s", text);
		break;
	}
	case WATCH_EVENT_STATE:
		g_string_append_printf(out, "  %s%s%s", ev->state,
		                       ev->detail[0] != '\0' ? ": " : "", ev->detail);
		break;
	}
	g_string_append_c(out, '\n');
}

static void monitor_event(struct monitor *m, GString *out, const struct watch_event *ev)
{
	if (m->json) {
		g_autofree char *json = watch_event_to_json(ev);

		g_string_append(out, json);
		g_string_append_c(out, '\n');
	} else {
		event_line(out, ev, m->colour);
	}
}

/* Turns one signal into event lines, as --print-events has them. */
static void monitor_signal_text(struct monitor *m, GString *out, const char *member, GVariant *args)
{
	for (size_t i = 0; i < G_N_ELEMENTS(message_signals); i++) {
		GVariantIter it;
		GVariant *dict;

		if (strcmp(member, message_signals[i].signal) != 0 ||
		    !g_variant_is_of_type(args, G_VARIANT_TYPE("(aa{sv})"))) {
			continue;
		}
		g_autoptr(GVariant) messages = g_variant_get_child_value(args, 0);
		g_variant_iter_init(&it, messages);
		while ((dict = g_variant_iter_next_value(&it)) != NULL) {
			struct watch_event ev;
			g_autofree const char **flags = NULL;

			ctl_format_event_from_dict(dict, message_signals[i].type, &ev, &flags);
			monitor_event(m, out, &ev);
			g_variant_unref(dict);
		}
		return;
	}
	struct watch_event reset;

	if (strcmp(member, "UnseenCountChanged") == 0 &&
	    g_variant_is_of_type(args, G_VARIANT_TYPE("(ssu)"))) {
		struct watch_event ev = {.type = WATCH_EVENT_UNSEEN};

		g_variant_get(args, "(&s&su)", &ev.account, &ev.folder, &ev.count);
		monitor_event(m, out, &ev);
	} else if (strcmp(member, "FolderReset") == 0 &&
	           ctl_format_event_from_reset(args, &reset)) {
		monitor_event(m, out, &reset);
	} else if (strcmp(member, "AccountStateChanged") == 0 &&
	           g_variant_is_of_type(args, G_VARIANT_TYPE("(sss)"))) {
		struct watch_event ev = {.type = WATCH_EVENT_STATE};

		g_variant_get(args, "(&s&s&s)", &ev.account, &ev.state, &ev.detail);
		monitor_event(m, out, &ev);
	} else if (strcmp(member, "DaemonGone") == 0 || strcmp(member, "DaemonBack") == 0) {
		/* Not an event of the JSON format: a note for people only. */
		fprintf(stderr, "imapwatch: imapwatchd %s\n",
		        member[6] == 'G' ? "stopped; waiting for it to come back" : "is back");
	}
}

static bool monitor_signal(const char *member, GVariant *args, void *user_data)
{
	struct monitor *m = user_data;
	g_autoptr(GString) out = g_string_new(NULL);

	monitor_signal_text(m, out, member, args);
	if (out->len > 0 && !print_out(out->str)) {
		m->write_failed = true;
		return false;
	}
	return true;
}

static int cmd_monitor(int argc, char **argv)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json,
	     "One JSON object per event, exactly as 'imapwatchd --print-events' prints them", NULL},
	    G_OPTION_ENTRY_NULL,
	};
	struct monitor m = {0};
	int code = CTL_EXIT_OK;

	if (!parse_options("monitor", &argc, &argv, entries, 0, "takes no arguments")) {
		return CTL_EXIT_USAGE;
	}
	m.json = json;
	m.colour = !json && colour_wanted();
	struct ctl_client *client = ctl_client_connect(&code);
	if (client == NULL) {
		return code;
	}
	code = ctl_client_subscribe(client);
	if (code == CTL_EXIT_OK) {
		/* On stderr, so --json output stays pure; scripts may wait for
		 * it to know that no later event will be missed. */
		fputs("imapwatch: monitoring imapwatchd (Ctrl-C to stop)\n", stderr);
		code = ctl_client_monitor(client, monitor_signal, &m);
	}
	ctl_client_free(client);
	/* A reader that went away (| head) ends the stream normally. */
	return m.write_failed && errno != EPIPE ? CTL_EXIT_FAILED : code;
}

/* Works without a running daemon: checks each account the way imapwatchd
 * would connect to it and says what to change. */
static int cmd_doctor(int argc, char **argv)
{
	g_autofree char *config_path = NULL;
	GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
	     "Read the configuration from PATH (default: the one imapwatchd reads)", "PATH"},
	    G_OPTION_ENTRY_NULL,
	};

	if (!parse_options("doctor", &argc, &argv, entries, 1, "takes at most one account name")) {
		return CTL_EXIT_USAGE;
	}
	return doctor_run(config_path, argc > 1 ? argv[1] : NULL, stdout) == 0 ? CTL_EXIT_OK
	                                                                       : CTL_EXIT_FAILED;
}

/* --- main ---------------------------------------------------------------- */

static const struct command commands[] = {
    {"status", "", "Show every account: state, unseen mail per folder, last event, errors.",
     cmd_status},
    {"list", "[ACCOUNT[/FOLDER]]",
     "List the unseen messages imapwatchd knows of (all accounts, or one account or folder).",
     cmd_list},
    {"check", "[ACCOUNT]", "Look for new mail now (all accounts, or one).", cmd_check},
    {"mark-read", "ID… | --all [ACCOUNT[/FOLDER]]",
     "Mark messages as read on the server (IDs as 'imapwatch list' shows them).", cmd_mark_read},
    {"reload", "", "Read the configuration again; unchanged accounts stay connected.", cmd_reload},
    {"monitor", "", "Print events as they happen, until interrupted.", cmd_monitor},
    {"doctor", "[ACCOUNT]",
     "Check accounts without the daemon: DNS, TLS, login, folders, and what to fix.", cmd_doctor},
    {NULL, NULL, NULL, NULL},
};

static void print_help(FILE *out)
{
	fputs("Usage: imapwatch COMMAND [OPTION…] [ARGUMENT…]\n\n"
	      "Asks imapwatchd, the IMAP mail watcher, what it knows, and tells it what to do.\n\n"
	      "Commands:\n"
	      "  status [--json]                          accounts, their state and unseen mail\n"
	      "  list [--all] [--json] [ACCOUNT[/FOLDER]] unseen (or all known) messages\n"
	      "  check [ACCOUNT]                          look for new mail now\n"
	      "  mark-read ID… | --all [ACCOUNT[/FOLDER]] mark messages as read on the server\n"
	      "  reload                                   read the configuration again\n"
	      "  monitor [--json]                         print events as they happen\n"
	      "  doctor [--config PATH] [ACCOUNT]         check accounts, no daemon needed\n\n"
	      "Options:\n"
	      "  -h, --help     this help; 'imapwatch COMMAND --help' for one command\n"
	      "  -V, --version  print the version\n\n"
	      "Exit status: 0 done (status: every account healthy), 1 failed (status: an account\n"
	      "is in error), 2 bad command line, 3 imapwatchd is not running.\n",
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
	for (const struct command *c = commands; c->name != NULL; c++) {
		if (strcmp(argv[1], c->name) == 0) {
			return c->run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "imapwatch: unknown command '%s'\nTry 'imapwatch --help'.\n", argv[1]);
	return CTL_EXIT_USAGE;
}
