/* SPDX-License-Identifier: MIT */
/*
 * imapwatch monitor: the daemon's signals as they come, as event lines for
 * people or as the JSON objects of imapwatchd --print-events.
 */
#include "ctl/ctl-commands-private.h"

#include "imapwatch/ctl/ctl-format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
	if (out->len > 0 && !ctl_commands_print_out(out->str)) {
		m->write_failed = true;
		return false;
	}
	return true;
}

int ctl_commands_monitor(int argc, char **argv)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json,
	     "One JSON object per event, exactly as 'imapwatchd --print-events' prints them", NULL},
	    G_OPTION_ENTRY_NULL,
	};
	struct monitor m = {0};
	int code = CTL_EXIT_OK;

	if (!ctl_commands_parse_options("monitor", &argc, &argv, entries, 0,
	                                "takes no arguments")) {
		return CTL_EXIT_USAGE;
	}
	m.json = json;
	m.colour = !json && ctl_commands_colour_wanted();
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
