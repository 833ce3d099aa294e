/* SPDX-License-Identifier: MIT */
#include "imapwatch/io/log.h"

#include <stdio.h>
#include <unistd.h>

static bool verbose;
static const char *program_name = "imapwatch";

static const char *level_prefix(GLogLevelFlags level)
{
	if (level & G_LOG_LEVEL_ERROR) {
		return "error";
	}
	if (level & G_LOG_LEVEL_CRITICAL) {
		return "critical";
	}
	if (level & G_LOG_LEVEL_WARNING) {
		return "warning";
	}
	if (level & G_LOG_LEVEL_MESSAGE) {
		return "notice";
	}
	if (level & G_LOG_LEVEL_INFO) {
		return "info";
	}
	return "debug";
}

static const char *log_domain(const GLogField *fields, gsize n_fields)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0) {
			return fields[i].value;
		}
	}
	return NULL;
}

static GLogWriterOutput log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                                   gpointer user_data)
{
	(void)user_data;
	if (level & G_LOG_LEVEL_DEBUG) {
		/* -v shows our own debug messages (no domain); libraries' ones
		 * only when G_MESSAGES_DEBUG asks for them, as GLib does. */
		const char *domain = log_domain(fields, n_fields);

		if (!verbose ||
		    (domain != NULL && g_log_writer_default_would_drop(level, domain))) {
			return G_LOG_WRITER_HANDLED;
		}
	}
	if (g_log_writer_is_journald(STDERR_FILENO) &&
	    g_log_writer_journald(level, fields, n_fields, NULL) == G_LOG_WRITER_HANDLED) {
		return G_LOG_WRITER_HANDLED;
	}
	const char *message = "";
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0) {
			message = fields[i].value;
		}
	}
	fprintf(stderr, "%s: %s: %s\n", program_name, level_prefix(level), message);
	fflush(stderr);
	return G_LOG_WRITER_HANDLED;
}

void log_setup(const char *program)
{
	program_name = program;
	g_log_set_writer_func(log_writer, NULL, NULL);
}

void log_set_verbose(bool on)
{
	verbose = on;
}

bool log_is_verbose(void)
{
	return verbose;
}
