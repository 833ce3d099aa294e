/* SPDX-License-Identifier: MIT */
/*
 * password_command: a process (process.h) running /bin/sh -c COMMAND, whose
 * output becomes the password, or an error that says what went wrong.
 */
#include "imapwatch/io/password.h"

#include "imapwatch/io/process.h"

#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

#include <gio/gio.h>

/* Password managers print a line; 64 KiB is far beyond any real password
 * and bounds what a runaway command can make us hold. */
#define STDOUT_LIMIT (64 * 1024)
/* Only the first line of stderr goes into the message. */
#define STDERR_LIMIT  1024
#define MESSAGE_LIMIT 200

struct password_request {
	password_callback callback;
	void *user_data;
	guint timeout_seconds;
	struct process *process;
	bool whole; /* deliver all of standard output, not its first line */
	bool empty; /* the command is "" */
};

/* Turns the finished child into (password, error). The password points
 * into r->out. */
static const char *request_result(struct password_request *req, const struct process_result *r,
                                  GError **error)
{
	gsize line_len;
	char *nl;

	if (req->empty) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		                    "password_command is empty");
		return NULL;
	}
	if (r->error != NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		            "password_command could not be started: %s", r->error->message);
		return NULL;
	}
	if (r->timed_out) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
		            "password_command did not finish within %u s", req->timeout_seconds);
		return NULL;
	}
	if (WIFSIGNALED(r->wait_status) || !WIFEXITED(r->wait_status) ||
	    WEXITSTATUS(r->wait_status) != 0) {
		g_autofree char *end = process_describe_end(r, 0);
		g_autofree char *line = WIFSIGNALED(r->wait_status)
		                            ? g_strdup("")
		                            : process_first_line(r->err, r->err_len, MESSAGE_LIMIT);

		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "password_command %s%s%s", end,
		            WIFSIGNALED(r->wait_status)
		                ? ""
		                : (*line ? ": " : " (it printed no error message)"),
		            line);
		return NULL;
	}
	if (req->whole) {
		/* A token command's JSON may span lines: all of it, as text. */
		if (r->out_truncated) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			            "password_command printed more than %u KiB",
			            STDOUT_LIMIT / 1024);
			return NULL;
		}
		if (memchr(r->out, '\0', r->out_len)) {
			g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			                    "password_command printed a NUL byte");
			return NULL;
		}
		return r->out;
	}
	nl = memchr(r->out, '\n', r->out_len);
	if (!nl && r->out_truncated) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		            "password_command printed a first line longer than %u KiB",
		            STDOUT_LIMIT / 1024);
		return NULL;
	}
	line_len = nl ? (gsize)(nl - r->out) : r->out_len;
	if (line_len > 0 && r->out[line_len - 1] == '\r') {
		line_len--;
	}
	r->out[line_len] = '\0';
	if (line_len == 0) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		                    "password_command printed nothing");
		return NULL;
	}
	if (memchr(r->out, '\0', line_len)) {
		/* A password cut at a NUL byte would fail later as a wrong
		 * password, which is much harder to understand. */
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		                    "password_command printed a NUL byte in its first line");
		return NULL;
	}
	return r->out;
}

static void request_done(const struct process_result *r, void *user_data)
{
	struct password_request *req = user_data;
	g_autoptr(GError) error = NULL;
	const char *password = request_result(req, r, &error);

	req->process = NULL;
	req->callback(password, error, req->user_data);
	g_free(req);
}

struct password_request *password_request_start_output(const char *command, guint timeout_seconds,
                                                       password_callback callback, void *user_data)
{
	struct password_request *req =
	    password_request_start(command, timeout_seconds, callback, user_data);

	req->whole = true;
	return req;
}

struct password_request *password_request_start(const char *command, guint timeout_seconds,
                                                password_callback callback, void *user_data)
{
	const char *argv[] = {"/bin/sh", "-c", command, NULL};
	const char *none[] = {NULL};
	struct password_request *req;

	g_return_val_if_fail(command != NULL, NULL);
	g_return_val_if_fail(callback != NULL, NULL);

	req = g_new0(struct password_request, 1);
	req->callback = callback;
	req->user_data = user_data;
	req->timeout_seconds = timeout_seconds;
	req->empty = *command == '\0';
	/* An empty command fails to start, reported from the main loop like
	 * every other failure. */
	req->process = process_start(
	    &(struct process_options){
	        .argv = *command != '\0' ? argv : none,
	        .timeout_ms = MIN(timeout_seconds, G_MAXUINT / 1000) * 1000,
	        .out_limit = STDOUT_LIMIT,
	        .err_limit = STDERR_LIMIT,
	    },
	    request_done, req);
	return req;
}

void password_request_cancel(struct password_request *req)
{
	if (req == NULL || req->process == NULL) {
		/* From inside the callback the request is about to be freed
		 * anyway. */
		return;
	}
	process_cancel(req->process);
	g_free(req);
}
