/* SPDX-License-Identifier: MIT */
/*
 * imapwatchd: loads the configuration, starts one account supervisor per
 * [account], prints watch events with --print-events, and leaves cleanly on
 * SIGTERM/SIGINT (DONE, LOGOUT) within 2 s.
 */
#include "imapwatch/account.h"
#include "imapwatch/config.h"
#include "imapwatch/event.h"
#include "imapwatch/log.h"
#include "imapwatch/stream.h"

#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

/* SIGTERM must end the process within 2 s even if a server never answers
 * LOGOUT. */
#define SHUTDOWN_GRACE_MS 1500

struct daemon {
	GMainLoop *loop;
	struct config *config;
	GPtrArray *accounts; /* struct account * */
	bool print_events;
	guint running;
	bool stopping;
	int exit_status;
};

static void daemon_event(const struct watch_event *event, void *user_data)
{
	struct daemon *d = user_data;

	if (d->print_events) {
		g_autofree char *json = watch_event_to_json(event);

		/* One object per line, flushed per line: scripts read it live. */
		fputs(json, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
}

static void account_stopped_cb(struct account *account, void *user_data)
{
	struct daemon *d = user_data;

	(void)account;
	if (d->running > 0 && --d->running == 0) {
		g_main_loop_quit(d->loop);
	}
}

static gboolean shutdown_timeout_cb(gpointer user_data)
{
	struct daemon *d = user_data;

	g_message("servers did not answer LOGOUT in time; leaving anyway");
	g_main_loop_quit(d->loop);
	return G_SOURCE_REMOVE;
}

static gboolean signal_cb(gpointer user_data)
{
	struct daemon *d = user_data;

	if (d->stopping) {
		return G_SOURCE_CONTINUE;
	}
	d->stopping = true;
	g_message("shutting down");
	d->running = d->accounts->len;
	g_timeout_add(SHUTDOWN_GRACE_MS, shutdown_timeout_cb, d);
	if (d->running == 0) {
		g_main_loop_quit(d->loop);
	}
	for (guint i = 0; i < d->accounts->len; i++) {
		account_stop(d->accounts->pdata[i], account_stopped_cb, d);
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
		fprintf(stderr, "imapwatchd: %s\n", error->message);
		return 1;
	}
	if (check_config) {
		g_autofree char *description = config_describe(config);
		fputs(description, stdout);
		return 0;
	}

	/* Writes to a closed socket or pipe must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	struct daemon d = {
	    .loop = g_main_loop_new(NULL, FALSE),
	    .config = config,
	    .accounts = g_ptr_array_new_with_free_func((GDestroyNotify)account_destroy),
	    .print_events = print_events,
	};
	struct account_options options = {
	    .password_timeout = config->password_timeout,
	    .trace = trace,
	};
	for (guint i = 0; i < config->accounts->len; i++) {
		g_ptr_array_add(d.accounts, account_create(config->accounts->pdata[i], &options,
		                                           daemon_event, &d));
	}
	g_unix_signal_add(SIGTERM, signal_cb, &d);
	g_unix_signal_add(SIGINT, signal_cb, &d);
	for (guint i = 0; i < d.accounts->len; i++) {
		account_start(d.accounts->pdata[i]);
	}
	g_main_loop_run(d.loop);

	g_ptr_array_unref(d.accounts);
	g_main_loop_unref(d.loop);
	stream_flush_tls_cache();
	return d.exit_status;
}
