/* SPDX-License-Identifier: MIT */
/*
 * imapwatch status and imapwatch list: the daemon's answers as aligned
 * tables (colour on a terminal) or as JSON.
 */
#include "ctl/ctl-commands-private.h"

#include "imapwatch/ctl/ctl-bar.h"
#include "imapwatch/ctl/ctl-format.h"
#include "imapwatch/ctl/ctl-table.h"
#include "imapwatch/ctl/ctl-template.h"

#include <string.h>

static bool print_json(GVariant *value)
{
	g_autoptr(GString) out = g_string_new(NULL);

	ctl_format_json(out, value);
	g_string_append_c(out, '\n');
	return ctl_commands_print_out(out->str);
}

/* --- status -------------------------------------------------------------- */

const char *ctl_commands_state_colour(const char *state)
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
		const char *watch = "";
		guint32 unseen = 0;

		g_variant_lookup(folder, "name", "&s", &name);
		g_variant_lookup(folder, "unseen", "u", &unseen);
		g_variant_lookup(folder, "watch", "&s", &watch);
		g_string_append_printf(out, "%s%s %" G_GUINT32_FORMAT, out->len > 0 ? ", " : "",
		                       name, unseen);
		/* IDLE on a connection of its own is the usual case. */
		if (watch[0] != '\0' && strcmp(watch, "idle") != 0) {
			g_string_append_printf(out, " (%s)", watch);
		}
		g_variant_unref(folder);
	}
	return g_string_free(out, FALSE);
}

/* How narrow the folder list and the detail may get on a narrow terminal;
 * account, state and the rest stay whole. */
#define UNSEEN_MIN_WIDTH 16
#define DETAIL_MIN_WIDTH 16

/* The status table, fitted to width columns (0: whole rows); *any_error
 * tells whether an account is in error. */
static char *status_text(GVariant *status, bool colour, gsize width, bool *any_error)
{
	g_autoptr(GVariant) accounts = g_variant_lookup_value(status, "accounts", NULL);
	g_autoptr(GString) out = g_string_new(NULL);
	struct ctl_table *table = ctl_table_new(6, colour);
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
	g_autofree char *quiet = ctl_commands_quiet_text(status);
	g_string_append_printf(out, "imapwatchd %s, up %s, %" G_GUINT32_FORMAT " unseen\n%s\n",
	                       version, up, total, quiet != NULL ? quiet : "");
	for (const char *const *h = (const char *const[]){"ACCOUNT", "STATE", "CONN", "UNSEEN",
	                                                  "LAST EVENT", "DETAIL", NULL};
	     *h != NULL; h++) {
		ctl_table_add(table, *h, SGR_BOLD);
	}
	ctl_table_set_shrinkable(table, 3, UNSEEN_MIN_WIDTH);
	ctl_table_set_shrinkable(table, 5, DETAIL_MIN_WIDTH);
	*any_error = false;
	if (accounts != NULL) {
		g_variant_iter_init(&it, accounts);
	}
	while (accounts != NULL && (account = g_variant_iter_next_value(&it)) != NULL) {
		const char *name = "", *state = "", *detail = "";
		gint64 last_event = 0;
		guint32 connections = 0;
		g_autoptr(GVariant) folders = g_variant_lookup_value(account, "folders", NULL);

		g_variant_lookup(account, "name", "&s", &name);
		g_variant_lookup(account, "state", "&s", &state);
		g_variant_lookup(account, "detail", "&s", &detail);
		g_variant_lookup(account, "last_event", "x", &last_event);
		g_variant_lookup(account, "connections", "u", &connections);
		g_autofree char *conn = g_strdup_printf("%" G_GUINT32_FORMAT, connections);
		g_autofree char *unseen = folders != NULL ? folders_text(folders) : g_strdup("");
		g_autofree char *ago = ctl_format_ago(last_event, now);
		*any_error = *any_error || strcmp(state, "error") == 0;
		ctl_table_add(table, name, NULL);
		ctl_table_add(table, state, ctl_commands_state_colour(state));
		ctl_table_add(table, conn, NULL);
		ctl_table_add(table, unseen, NULL);
		ctl_table_add(table, ago, NULL);
		ctl_table_add(table, detail, NULL);
		g_variant_unref(account);
	}
	g_autofree char *rows = ctl_table_render_width(table, width);
	ctl_table_free(table);
	g_string_append(out, rows);
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* One line from a template, for status bars (--format). */
static int status_format(const char *format, const char *offline_text)
{
	g_autoptr(ctl_template) format_t = NULL;
	g_autoptr(ctl_template) offline_t = NULL;
	g_autofree char *error = NULL;
	int code = CTL_EXIT_OK;

	format_t = ctl_template_parse(format, false, &error);
	if (format_t == NULL) {
		return ctl_commands_usage_error("status", "--format", error);
	}
	if (offline_text != NULL) {
		offline_t = ctl_template_parse(offline_text, true, &error);
		if (offline_t == NULL) {
			return ctl_commands_usage_error("status", "--offline", error);
		}
	}
	/* With an offline text, a daemon that is not running is no error. */
	g_autoptr(GVariant) reply = ctl_commands_call_daemon("GetStatus", NULL, CTL_CALL_TIMEOUT_MS,
	                                                     offline_t != NULL, &code);
	if (reply == NULL) {
		if (code != CTL_EXIT_NOT_RUNNING || offline_t == NULL) {
			return code;
		}
		g_autoptr(ctl_bar_status) none = ctl_bar_status_new_offline();
		g_autofree char *line = ctl_template_render(offline_t, none);
		g_autofree char *out = g_strconcat(line, "\n", NULL);
		return ctl_commands_print_out(out) ? CTL_EXIT_OK : CTL_EXIT_FAILED;
	}
	g_autoptr(GVariant) dict = g_variant_get_child_value(reply, 0);
	g_autoptr(ctl_bar_status) status = ctl_bar_status_new(dict);
	if (!ctl_template_check(format_t, status, &error)) {
		return ctl_commands_usage_error("status", "--format", error);
	}
	g_autofree char *line = ctl_template_render(format_t, status);
	g_autofree char *out = g_strconcat(line, "\n", NULL);
	/* The line says how the accounts are: an account in error is no
	 * failure of the command, so that bars show the line. */
	return ctl_commands_print_out(out) ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}

int ctl_commands_status(int argc, char **argv)
{
	gboolean json = FALSE;
	g_autofree char *format = NULL, *offline = NULL;
	GOptionEntry entries[] = {
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json,
	     "Print one JSON object with the fields of GetStatus", NULL},
	    {"format", 0, 0, G_OPTION_ARG_STRING, &format,
	     "Print one line from FORMAT: {unseen}, {state}, {accounts}, {unseen:ACCOUNT}, "
	     "{state:ACCOUNT}, {unseen:ACCOUNT/FOLDER}; {{ and }} for braces",
	     "FORMAT"},
	    {"offline", 0, 0, G_OPTION_ARG_STRING, &offline,
	     "With --format: print TEXT ({state} reads 'offline') and exit 0 when "
	     "imapwatchd is not running",
	     "TEXT"},
	    G_OPTION_ENTRY_NULL,
	};
	int code = CTL_EXIT_OK;
	bool any_error = false;

	if (!ctl_commands_parse_options("status", &argc, &argv, entries, 0, "takes no arguments")) {
		return CTL_EXIT_USAGE;
	}
	if (json && format != NULL) {
		return ctl_commands_usage_error("status", NULL,
		                                "--json and --format exclude each other");
	}
	if (offline != NULL && format == NULL) {
		return ctl_commands_usage_error("status", NULL, "--offline goes with --format");
	}
	if (format != NULL) {
		return status_format(format, offline);
	}
	g_autoptr(GVariant) reply =
	    ctl_commands_call_daemon("GetStatus", NULL, CTL_CALL_TIMEOUT_MS, false, &code);
	if (reply == NULL) {
		return code;
	}
	g_autoptr(GVariant) status = g_variant_get_child_value(reply, 0);
	g_autofree char *text = status_text(status, ctl_commands_colour_wanted(),
	                                    ctl_commands_terminal_width(), &any_error);
	if (!(json ? print_json(status) : ctl_commands_print_out(text))) {
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

/* How narrow the sender and subject columns may get on a narrow
 * terminal; the id (which mark-read takes) and the date stay whole. */
#define FROM_MIN_WIDTH    10
#define SUBJECT_MIN_WIDTH 12

/* The table of messages, fitted to width columns (0: whole rows). */
static char *messages_text(GVariant *messages, bool all, bool colour, gsize width)
{
	guint n_columns = all ? 5 : 4;
	struct ctl_table *table = ctl_table_new(n_columns, colour);
	GVariantIter it;
	GVariant *m;

	ctl_table_set_shrinkable(table, n_columns - 2, FROM_MIN_WIDTH);
	ctl_table_set_shrinkable(table, n_columns - 1, SUBJECT_MIN_WIDTH);
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
	char *text = ctl_table_render_width(table, width);
	ctl_table_free(table);
	return text;
}

int ctl_commands_list(int argc, char **argv)
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

	if (!ctl_commands_parse_options("list", &argc, &argv, entries, 1,
	                                "takes at most one ACCOUNT[/FOLDER]")) {
		return CTL_EXIT_USAGE;
	}
	ctl_commands_split_target(argc == 2 ? argv[1] : NULL, &account, &folder);
	g_autoptr(GVariant) reply =
	    ctl_commands_call_daemon("ListMessages", g_variant_new("(ssb)", account, folder, !all),
	                             CTL_CALL_TIMEOUT_MS, false, &code);
	if (reply == NULL) {
		return code;
	}
	g_autoptr(GVariant) messages = g_variant_get_child_value(reply, 0);
	if (json) {
		return print_json(messages) ? CTL_EXIT_OK : CTL_EXIT_FAILED;
	}
	if (g_variant_n_children(messages) == 0) {
		return ctl_commands_print_out(all ? "No messages.\n" : "No unseen messages.\n")
		           ? CTL_EXIT_OK
		           : CTL_EXIT_FAILED;
	}
	g_autofree char *text = messages_text(messages, all, ctl_commands_colour_wanted(),
	                                      ctl_commands_terminal_width());
	return ctl_commands_print_out(text) ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}
