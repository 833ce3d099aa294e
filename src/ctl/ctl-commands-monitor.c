/* SPDX-License-Identifier: MIT */
/*
 * imapwatch monitor: the daemon's signals as they come, as event lines for
 * people or as the JSON objects of imapwatchd --print-events; or, for
 * status bars, a line (waybar: a JSON object) each time what the bar shows
 * changes, the first at once. It outlives the daemon: while none runs the
 * bars show the offline text, and it picks up the daemon that takes the
 * name next (NameOwnerChanged, no polling).
 */
#include "ctl/ctl-commands-private.h"

#include "imapwatch/ctl/ctl-bar.h"
#include "imapwatch/ctl/ctl-format.h"
#include "imapwatch/ctl/ctl-template.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* --- monitor ------------------------------------------------------------- */

enum monitor_mode {
	MONITOR_TEXT,   /* event lines for people */
	MONITOR_JSON,   /* the lines of imapwatchd --print-events */
	MONITOR_WAYBAR, /* a JSON object per change, for waybar */
	MONITOR_LINES,  /* a line of text per change (i3blocks, polybar) */
};

struct monitor {
	enum monitor_mode mode;
	bool colour;
	bool write_failed;
	struct ctl_client *client;
	bool running; /* imapwatchd is on the bus, as far as we know */
	/* The bar modes: */
	struct ctl_template *format;
	struct ctl_template *offline;
	bool stale;   /* the status must be asked for again */
	bool printed; /* a line has been printed */
	bool strict;  /* the template's names must match the first status */
	char *last;   /* the last line printed */
	char *warned; /* the last complaint about the template */
	int code;     /* the exit code when a callback stops the monitor */
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
		return ctl_commands_state_colour(ev->state);
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
	if (m->mode == MONITOR_JSON) {
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
	}
}

/* The daemon came or went: a note for people, on stderr so that --json
 * output stays the events alone. */
static void monitor_presence(struct monitor *m, bool running)
{
	/* Also when one daemon follows another without a gap. */
	m->stale = true;
	if (running == m->running) {
		return;
	}
	m->running = running;
	if (m->mode == MONITOR_TEXT || m->mode == MONITOR_JSON) {
		fputs(running ? "imapwatch: imapwatchd is running\n"
		              : "imapwatch: imapwatchd stopped; waiting for it to start again\n",
		      stderr);
	}
}

static bool monitor_signal(const char *member, GVariant *args, void *user_data)
{
	struct monitor *m = user_data;
	g_autoptr(GString) out = g_string_new(NULL);

	if (strcmp(member, "DaemonGone") == 0 || strcmp(member, "DaemonBack") == 0) {
		monitor_presence(m, member[6] == 'B');
		return true;
	}
	if (m->mode == MONITOR_WAYBAR || m->mode == MONITOR_LINES) {
		/* Whatever changes a count, a state or the accounts. */
		if (strcmp(member, "UnseenCountChanged") == 0 ||
		    strcmp(member, "AccountStateChanged") == 0 ||
		    strcmp(member, "FolderReset") == 0 ||
		    strcmp(member, "PropertiesChanged") == 0) {
			m->stale = true;
		}
		return true;
	}
	monitor_signal_text(m, out, member, args);
	if (out->len > 0 && !ctl_commands_print_out(out->str)) {
		m->write_failed = true;
		return false;
	}
	return true;
}

/* The daemon's status now; the status of no daemon when it is not
 * running (or has just left). NULL when it is there but failed to answer
 * (said on stderr). */
static struct ctl_bar_status *monitor_status(struct monitor *m)
{
	int code = CTL_EXIT_OK;

	if (!m->running) {
		return ctl_bar_status_new_offline();
	}
	g_autoptr(GVariant) reply =
	    ctl_client_call(m->client, "GetStatus", NULL, CTL_CALL_TIMEOUT_MS, &code);
	if (reply == NULL) {
		/* Gone between its last signal and this call: the signal that
		 * says so is on its way. */
		return code == CTL_EXIT_NOT_RUNNING ? ctl_bar_status_new_offline() : NULL;
	}
	g_autoptr(GVariant) dict = g_variant_get_child_value(reply, 0);
	return ctl_bar_status_new(dict);
}

/* The names of the template against a running daemon's accounts: a
 * mismatch with the daemon found at start is an error of the command
 * line; later (a reload, another daemon) it is said once and the field
 * reads "?". */
static bool monitor_check(struct monitor *m, const struct ctl_bar_status *status)
{
	g_autofree char *error = NULL;

	if (!status->running || ctl_template_check(m->format, status, &error)) {
		g_clear_pointer(&m->warned, g_free);
		m->strict = false;
		return true;
	}
	if (m->strict) {
		m->code = ctl_commands_usage_error("monitor", "--format", error);
		return false;
	}
	if (g_strcmp0(error, m->warned) != 0) {
		fprintf(stderr, "imapwatch monitor: --format: %s; it shows '?'\n", error);
		g_free(m->warned);
		m->warned = g_steal_pointer(&error);
	}
	return true;
}

/* Between bursts of signals: the bar's line, when something changed. */
static bool monitor_idle(void *user_data)
{
	struct monitor *m = user_data;

	if ((m->mode != MONITOR_WAYBAR && m->mode != MONITOR_LINES) || !m->stale) {
		return true;
	}
	m->stale = false;
	g_autoptr(ctl_bar_status) status = monitor_status(m);
	if (status == NULL && m->printed) {
		/* Keep the last line; the next signal asks again. */
		return true;
	}
	if (status == NULL) {
		/* Something to show from the start, even of a daemon that
		 * does not answer. */
		status = ctl_bar_status_new_offline();
	}
	if (!monitor_check(m, status)) {
		return false;
	}
	g_autofree char *text =
	    ctl_template_render(status->running ? m->format : m->offline, status);
	g_autofree char *line =
	    m->mode == MONITOR_WAYBAR ? ctl_bar_waybar(status, text) : g_steal_pointer(&text);
	if (m->printed && strcmp(line, m->last) == 0) {
		return true;
	}
	g_autofree char *out = g_strconcat(line, "\n", NULL);
	if (!ctl_commands_print_out(out)) {
		m->write_failed = true;
		return false;
	}
	m->printed = true;
	g_free(m->last);
	m->last = g_steal_pointer(&line);
	return true;
}

/* Which mode the options ask for; CTL_EXIT_OK, or a usage error said. */
static int monitor_mode(struct monitor *m, bool json, bool waybar, bool i3blocks,
                        const char *format, const char *offline)
{
	g_autofree char *error = NULL;

	if (json + waybar + i3blocks > 1) {
		return ctl_commands_usage_error(
		    "monitor", NULL, "--json, --waybar and --i3blocks exclude each other");
	}
	if (json && (format != NULL || offline != NULL)) {
		return ctl_commands_usage_error("monitor", NULL,
		                                "--format and --offline go with --waybar or "
		                                "--i3blocks (or alone), not with --json");
	}
	if (json) {
		m->mode = MONITOR_JSON;
	} else if (waybar) {
		m->mode = MONITOR_WAYBAR;
	} else if (i3blocks || format != NULL || offline != NULL) {
		m->mode = MONITOR_LINES;
	} else {
		m->mode = MONITOR_TEXT;
	}
	if (m->mode != MONITOR_WAYBAR && m->mode != MONITOR_LINES) {
		return CTL_EXIT_OK;
	}
	m->format = ctl_template_parse(format != NULL ? format : "{unseen}", false, &error);
	if (m->format == NULL) {
		return ctl_commands_usage_error("monitor", "--format", error);
	}
	m->offline = ctl_template_parse(offline != NULL ? offline : "{state}", true, &error);
	if (m->offline == NULL) {
		return ctl_commands_usage_error("monitor", "--offline", error);
	}
	return CTL_EXIT_OK;
}

static int monitor_run(struct monitor *m)
{
	int code = CTL_EXIT_OK;

	/* The bus alone: the daemon may come and go while we watch. */
	m->client = ctl_client_open(false, &code);
	if (m->client == NULL) {
		return code;
	}
	/* A daemon that leaves while asked is no error: it is what the
	 * NameOwnerChanged that follows tells as well. */
	ctl_client_set_quiet(m->client, true);
	code = ctl_client_subscribe(m->client);
	if (code != CTL_EXIT_OK) {
		return code;
	}
	/* Asked after subscribing: a daemon that comes meanwhile is seen
	 * twice, never missed. */
	m->running = ctl_client_daemon_running(m->client);
	m->strict = m->running;
	m->stale = true;
	if (m->mode == MONITOR_TEXT || m->mode == MONITOR_JSON) {
		/* On stderr, so --json output stays pure; scripts may wait for
		 * it to know that no later event will be missed. */
		fputs("imapwatch: monitoring imapwatchd (Ctrl-C to stop)\n", stderr);
		if (!m->running) {
			fputs("imapwatch: imapwatchd is not running; waiting for it to start\n",
			      stderr);
		}
	}
	code = ctl_client_monitor(m->client, monitor_signal, monitor_idle, STDOUT_FILENO, m);
	return m->code != CTL_EXIT_OK ? m->code : code;
}

int ctl_commands_monitor(int argc, char **argv)
{
	gboolean json = FALSE, waybar = FALSE, i3blocks = FALSE;
	g_autofree char *format = NULL, *offline = NULL;
	GOptionEntry entries[] = {
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json,
	     "One JSON object per event, exactly as 'imapwatchd --print-events' prints them", NULL},
	    {"waybar", 0, 0, G_OPTION_ARG_NONE, &waybar,
	     "One JSON object per change for waybar (text, alt, tooltip, class), the first at once",
	     NULL},
	    {"i3blocks", 0, 0, G_OPTION_ARG_NONE, &i3blocks,
	     "One line of text per change (i3blocks with interval=persist, polybar with tail = "
	     "true), the first at once",
	     NULL},
	    {"format", 0, 0, G_OPTION_ARG_STRING, &format,
	     "The text of --waybar and --i3blocks (alone: as --i3blocks), with the fields of "
	     "'imapwatch status --format' (default: {unseen})",
	     "FORMAT"},
	    {"offline", 0, 0, G_OPTION_ARG_STRING, &offline,
	     "The text while imapwatchd is not running, where {state} reads 'offline' "
	     "(default: offline)",
	     "TEXT"},
	    G_OPTION_ENTRY_NULL,
	};
	struct monitor m = {0};
	int code;

	if (!ctl_commands_parse_options("monitor", &argc, &argv, entries, 0,
	                                "takes no arguments")) {
		return CTL_EXIT_USAGE;
	}
	code = monitor_mode(&m, json, waybar, i3blocks, format, offline);
	if (code == CTL_EXIT_OK) {
		m.colour = m.mode == MONITOR_TEXT && ctl_commands_colour_wanted();
		code = monitor_run(&m);
	}
	ctl_client_free(m.client);
	ctl_template_free(m.format);
	ctl_template_free(m.offline);
	g_free(m.last);
	g_free(m.warned);
	/* A reader that went away (| head) ends the stream normally. */
	return m.write_failed && errno != EPIPE ? CTL_EXIT_FAILED : code;
}
