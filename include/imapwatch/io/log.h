/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_LOG_H
#define IMAPWATCH_LOG_H

/*
 * Logging through GLib structured logging: to the journal when stderr is
 * connected to it (started by systemd), otherwise one line per message on
 * stderr. Debug messages appear only after log_set_verbose(true).
 */

#include <glib.h>
#include <stdbool.h>

void log_setup(const char *program);
void log_set_verbose(bool verbose);
bool log_is_verbose(void);

#endif
