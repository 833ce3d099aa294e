/* SPDX-License-Identifier: MIT */
/*
 * imapwatchd: loads the configuration, starts one account supervisor per
 * [account], prints watch events with --print-events, and leaves cleanly on
 * SIGTERM/SIGINT (DONE, LOGOUT) within 2 s.
 */
#include "imapwatch/listeners/bus.h"
#include "imapwatch/listeners/hooks.h"
#include "imapwatch/listeners/mailnag.h"
#include "imapwatch/daemon/daemon.h"
#include "imapwatch/core/config.h"
#include "imapwatch/core/event.h"
#include "imapwatch/io/log.h"
#include "imapwatch/io/sleep-monitor.h"
#include "imapwatch/listeners/notifier.h"
#include "imapwatch/io/stream.h"

#include <errno.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

struct program {
	GMainLoop *loop;
	struct daemon *daemon;
	bool stopping;
};

static void print_event(const struct watch_event *event, void *user_data)
{
	(void)user_data;
	g_autofree char *json = watch_event_to_json(event);

	/* One object per line, flushed per line: scripts read it live. */
	fputs(json, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* A password in a file others can read is not a secret any more. */
static void warn_if_readable(const struct config *config)
{
	if (config_password_readable(config)) {
		g_warning(
		    "%s contains a password and can be read by other users; run: chmod 600 %s",
		    config->path, config->path);
	}
}

static void resumed_cb(void *user_data)
{
	struct program *p = user_data;

	daemon_probe(p->daemon);
}

static void stopped_cb(void *user_data)
{
	struct program *p = user_data;

	g_main_loop_quit(p->loop);
}

static gboolean sigterm_cb(gpointer user_data)
{
	struct program *p = user_data;

	if (!p->stopping) {
		p->stopping = true;
		g_message("shutting down");
		daemon_stop(p->daemon, stopped_cb, p);
	}
	return G_SOURCE_CONTINUE;
}

static gboolean sighup_cb(gpointer user_data)
{
	struct program *p = user_data;
	g_autoptr(GError) error = NULL;

	if (!p->stopping && !daemon_reload(p->daemon, &error)) {
		/* One log line per problem of the file. */
		g_auto(GStrv) lines = g_strsplit(error->message, "\n", -1);

		for (guint i = 0; lines[i] != NULL; i++) {
			g_warning("configuration not reloaded: %s", lines[i]);
		}
	}
	return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
	g_autofree char *config_path = NULL;
	gboolean check_config = FALSE;
	gboolean print_events = FALSE;
	gboolean verbose = FALSE;
	gboolean trace = FALSE;
	gboolean version = FALSE;
	GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
	     "Read the configuration from PATH", "PATH"},
	    {"check-config", 0, 0, G_OPTION_ARG_NONE, &check_config,
	     "Validate the configuration, print the resolved accounts and exit", NULL},
	    {"print-events", 0, 0, G_OPTION_ARG_NONE, &print_events,
	     "Write watch events to stdout as JSON lines", NULL},
	    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL},
	    {"trace-imap", 0, 0, G_OPTION_ARG_NONE, &trace,
	     "Log the IMAP protocol (credentials redacted)", NULL},
	    {"version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;

	setlocale(LC_ALL, "");
	log_setup("imapwatchd");
	g_option_context_set_summary(context,
	                             "Watches IMAP folders with IDLE and reports new, changed and "
	                             "removed messages.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "imapwatchd: %s\nTry 'imapwatchd --help'.\n", error->message);
		return 2;
	}
	if (argc > 1) {
		fprintf(stderr, "imapwatchd: unexpected argument '%s'\nTry 'imapwatchd --help'.\n",
		        argv[1]);
		return 2;
	}
	if (version) {
		printf("imapwatchd %s\n", IMAPWATCH_VERSION);
		return 0;
	}
	log_set_verbose(verbose || trace);
	if (config_path == NULL) {
		config_path = config_default_path();
	}

	g_autoptr(config) config = config_load_file(config_path, &error);
	if (config == NULL) {
		/* Every problem of the file, one a line. */
		g_auto(GStrv) lines = g_strsplit(error->message, "\n", -1);

		for (guint i = 0; lines[i] != NULL; i++) {
			fprintf(stderr, "imapwatchd: %s\n", lines[i]);
		}
		return 1;
	}
	warn_if_readable(config);
	if (check_config) {
		g_autofree char *description = config_describe(config);
		fputs(description, stdout);
		return 0;
	}

	/* Writes to a closed socket or pipe must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	/* Single instance: decided before any account or state is touched. */
	struct bus_service *bus = NULL;
	if (bus_service_create(&bus) == -EEXIST) {
		fputs("imapwatchd is already running\n", stderr);
		return 0;
	}

	struct daemon_options options = {
	    .trace = trace,
	    .config_path = config_path,
	};
	struct program p = {
	    .loop = g_main_loop_new(NULL, FALSE),
	    .daemon = daemon_create(g_steal_pointer(&config), &options),
	};
	if (print_events) {
		daemon_add_listener(p.daemon, print_event, NULL);
	}
	/* NULL when notifications = false: no thread at all. */
	struct notifier *notifier = notifier_create(p.daemon);
	struct hooks *hooks = hooks_create(p.daemon);
	g_unix_signal_add(SIGTERM, sigterm_cb, &p);
	g_unix_signal_add(SIGINT, sigterm_cb, &p);
	g_unix_signal_add(SIGHUP, sighup_cb, &p);
	struct sleep_monitor *sleep = sleep_monitor_create(resumed_cb, &p);
	bus_service_start(bus, p.daemon);
	/* mailnag's D-Bus face, on the same connection (mailnag_compat). */
	struct mailnag_service *mailnag =
	    mailnag_service_create(p.daemon, bus_service_get_connection(bus));
	daemon_start(p.daemon);
	g_main_loop_run(p.loop);

	mailnag_service_destroy(mailnag);
	bus_service_destroy(bus);
	sleep_monitor_destroy(sleep);
	notifier_destroy(notifier);
	hooks_destroy(hooks);
	daemon_destroy(p.daemon);
	g_main_loop_unref(p.loop);
	stream_flush_tls_cache();
	return 0;
}
