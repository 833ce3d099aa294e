/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_PASSWORD_H
#define IMAPWATCH_PASSWORD_H

/*
 * password_command: runs the user's command through /bin/sh -c, without a
 * terminal, with stdin from /dev/null, asynchronously on the GLib main loop.
 * The first line of its standard output (without the line end) is the
 * password. A command that exits non-zero, prints nothing, or does not finish
 * within the timeout fails with a message that says which (the child is
 * killed on timeout). The password never appears in messages. Never blocks.
 */

#include <glib.h>

struct password_request;

/* Called exactly once from the main loop (never from inside
 * password_request_start) unless the request is cancelled first. On success
 * password is non-NULL and error NULL; the callee must copy the password if
 * it needs it beyond the call (the buffer is wiped afterwards). On failure
 * password is NULL and error describes what happened ("password_command exited
 * with status 1: <first line of stderr>"). The request is freed after the
 * callback returns.
 *
 * Errors are in the G_IO_ERROR domain: G_IO_ERROR_TIMED_OUT for the timeout
 * ("password_command did not finish within N s"), G_IO_ERROR_INVALID_ARGUMENT
 * for an empty command, G_IO_ERROR_FAILED otherwise. Standard output is read
 * up to 64 KiB (the rest is drained and dropped), standard error up to 1 KiB.
 * Calling password_request_cancel() from inside the callback does nothing. */
typedef void (*password_callback)(const char *password, const GError *error, void *user_data);

struct password_request *password_request_start(const char *command, guint timeout_seconds,
                                                password_callback callback, void *user_data);

/* The same, delivering all of standard output (up to 64 KiB, without NUL
 * bytes) instead of its first line: what a token command prints (JSON may
 * span lines). More than 64 KiB is an error. */
struct password_request *password_request_start_output(const char *command, guint timeout_seconds,
                                                       password_callback callback, void *user_data);

/* Stops the request: the child is killed, the callback is not called, the
 * request is freed. Accepts NULL. */
void password_request_cancel(struct password_request *request);

#endif
