/* SPDX-License-Identifier: MIT */
/*
 * password_command runner. The child is spawned with g_spawn (pipes are
 * O_CLOEXEC in the parent, every other fd is closed in the child) and then
 * driven only by main-loop sources: one fd source per pipe, one child watch,
 * one timeout. Nothing here waits.
 *
 * The child starts a new session (setsid), so it has no controlling
 * terminal — a pinentry cannot hang on a tty nobody looks at — and the
 * timeout can kill the whole process group, including what the shell
 * started, with one kill(-pgid, SIGKILL).
 *
 * The request finishes when the shell has exited (reaped by the child
 * watch): what is still in the pipes is read then, without waiting for EOF,
 * because a background process the command left behind may hold the pipe
 * open for ever.
 */
#include "imapwatch/io/password.h"

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

/* Password managers print a line; 64 KiB is far beyond any real password
 * and bounds what a runaway command can make us hold. */
#define STDOUT_LIMIT (64 * 1024)
/* Only the first line of stderr goes into the message. */
#define STDERR_LIMIT  1024
#define MESSAGE_LIMIT 200
/* What is drained after the child exits, in case something it left behind
 * keeps writing. */
#define DRAIN_LIMIT (1024 * 1024)

struct pipe_reader {
	int fd; /* -1 once closed */
	GSource *source;
	char *buf;
	gsize len;
	gsize limit;
};

struct password_request {
	password_callback callback;
	void *user_data;
	GMainContext *context;
	guint timeout_seconds;
	GPid pid; /* 0 after reaping */
	GSource *child_watch;
	GSource *timeout;
	GSource *idle; /* reports a failure to start */
	GError *start_error;
	struct pipe_reader out;
	struct pipe_reader err;
	bool timed_out;
	bool whole; /* deliver all of standard output, not its first line */
	bool in_callback;
};

static void wipe(void *buf, gsize len)
{
	if (buf && len > 0) {
		/* memset() before free() may be optimised away. */
		explicit_bzero(buf, len);
	}
}

static void source_drop(GSource **source)
{
	if (*source) {
		g_source_destroy(*source);
		g_source_unref(*source);
		*source = NULL;
	}
}

static void reader_close(struct pipe_reader *r)
{
	source_drop(&r->source);
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
}

static void reader_finish(struct pipe_reader *r)
{
	reader_close(r);
	wipe(r->buf, r->limit + 1);
	g_free(r->buf);
	r->buf = NULL;
}

/* Reads what is available, keeping up to r->limit bytes and discarding the
 * rest so that the child never blocks on a full pipe. Returns false at EOF
 * or on a read error (the pipe is closed then), or once max_total bytes were
 * read in this call. */
static bool reader_read(struct pipe_reader *r, gsize max_total)
{
	char scratch[4096];
	gsize total = 0;

	while (r->fd >= 0 && total < max_total) {
		ssize_t n = read(r->fd, scratch, sizeof(scratch));

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		}
		if (n <= 0) {
			reader_close(r);
			break;
		}
		total += (gsize)n;
		if (r->len < r->limit) {
			gsize keep = MIN((gsize)n, r->limit - r->len);

			memcpy(r->buf + r->len, scratch, keep);
			r->len += keep;
		}
	}
	/* The rest of stdout may hold other secrets (pass prints whole
	 * entries). */
	wipe(scratch, sizeof(scratch));
	return r->fd >= 0;
}

static gboolean reader_ready(int fd, GIOCondition condition, void *data)
{
	struct pipe_reader *r = data;

	(void)fd;
	(void)condition;
	/* One pipe buffer per wakeup, so a flood cannot starve the loop. */
	if (!reader_read(r, 64 * 1024)) {
		/* reader_close() destroyed the source; drop our reference only. */
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void reader_start(struct password_request *req, struct pipe_reader *r, int fd, gsize limit)
{
	r->fd = fd;
	r->limit = limit;
	r->buf = g_malloc(limit + 1);
	g_unix_set_fd_nonblocking(fd, TRUE, NULL);
	r->source = g_unix_fd_source_new(fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
	g_source_set_callback(r->source, G_SOURCE_FUNC(reader_ready), r, NULL);
	g_source_attach(r->source, req->context);
}

static void request_free(struct password_request *req)
{
	source_drop(&req->child_watch);
	source_drop(&req->timeout);
	source_drop(&req->idle);
	reader_finish(&req->out);
	reader_finish(&req->err);
	g_clear_error(&req->start_error);
	g_main_context_unref(req->context);
	g_free(req);
}

/* The first line of stderr, without control characters, valid UTF-8 and
 * short, for a one-line message. */
static char *stderr_first_line(const struct pipe_reader *r)
{
	gsize n = 0;
	g_autofree char *raw = NULL;
	g_autofree char *line = NULL;

	while (n < r->len && r->buf[n] != '\n' && r->buf[n] != '\0') {
		n++;
	}
	raw = g_strndup(r->buf, n);
	for (char *c = raw; *c; c++) {
		if (g_ascii_iscntrl(*c)) {
			*c = ' ';
		}
	}
	line = g_utf8_make_valid(g_strstrip(raw), -1);
	if (g_utf8_strlen(line, -1) > MESSAGE_LIMIT) {
		const char *end = g_utf8_offset_to_pointer(line, MESSAGE_LIMIT);
		g_autofree char *head = g_strndup(line, (gsize)(end - line));

		return g_strconcat(head, "…", NULL);
	}
	return g_steal_pointer(&line);
}

/* Turns the finished child into (password, error). The password points
 * into req->out.buf. */
static const char *request_result(struct password_request *req, int wait_status, GError **error)
{
	struct pipe_reader *out = &req->out;
	gsize line_len;
	char *nl;

	if (req->timed_out) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
		            "password_command did not finish within %u s", req->timeout_seconds);
		return NULL;
	}
	if (WIFSIGNALED(wait_status)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		            "password_command was killed by signal %d (%s)", WTERMSIG(wait_status),
		            g_strsignal(WTERMSIG(wait_status)));
		return NULL;
	}
	if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
		g_autofree char *line = stderr_first_line(&req->err);

		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		            "password_command exited with status %d%s%s",
		            WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1,
		            *line ? ": " : " (it printed no error message)", line);
		return NULL;
	}
	if (req->whole) {
		/* A token command's JSON may span lines: all of it, as text. */
		if (out->len == out->limit) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			            "password_command printed more than %u KiB",
			            STDOUT_LIMIT / 1024);
			return NULL;
		}
		if (memchr(out->buf, '\0', out->len)) {
			g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			                    "password_command printed a NUL byte");
			return NULL;
		}
		out->buf[out->len] = '\0';
		return out->buf;
	}
	nl = memchr(out->buf, '\n', out->len);
	if (!nl && out->len == out->limit) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		            "password_command printed a first line longer than %u KiB",
		            STDOUT_LIMIT / 1024);
		return NULL;
	}
	line_len = nl ? (gsize)(nl - out->buf) : out->len;
	if (line_len > 0 && out->buf[line_len - 1] == '\r') {
		line_len--;
	}
	out->buf[line_len] = '\0';
	if (line_len == 0) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		                    "password_command printed nothing");
		return NULL;
	}
	if (memchr(out->buf, '\0', line_len)) {
		/* A password cut at a NUL byte would fail later as a wrong
		 * password, which is much harder to understand. */
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		                    "password_command printed a NUL byte in its first line");
		return NULL;
	}
	return out->buf;
}

static void request_deliver(struct password_request *req, const char *password, const GError *error)
{
	req->in_callback = true;
	req->callback(password, error, req->user_data);
	request_free(req);
}

static void child_exited(GPid pid, int wait_status, void *data)
{
	struct password_request *req = data;
	g_autoptr(GError) error = NULL;
	const char *password;

	g_spawn_close_pid(pid);
	req->pid = 0;
	/* The source is finished after this call; forget it without destroying
	 * it from inside its own dispatch. */
	g_clear_pointer(&req->child_watch, g_source_unref);
	source_drop(&req->timeout);
	/* Everything the shell wrote is in the pipes now. */
	reader_read(&req->out, DRAIN_LIMIT);
	reader_read(&req->err, DRAIN_LIMIT);
	password = request_result(req, wait_status, &error);
	request_deliver(req, password, error);
}

static void child_kill(struct password_request *req)
{
	if (req->pid > 0) {
		/* The group first (the shell and what it started), then the
		 * shell itself in case setsid() did not happen. */
		kill(-req->pid, SIGKILL);
		kill(req->pid, SIGKILL);
	}
}

static gboolean request_timed_out(void *data)
{
	struct password_request *req = data;

	req->timed_out = true;
	child_kill(req);
	g_clear_pointer(&req->timeout, g_source_unref);
	/* The child watch reports (and reaps) the killed child. */
	return G_SOURCE_REMOVE;
}

static gboolean request_report_start_error(void *data)
{
	struct password_request *req = data;

	g_clear_pointer(&req->idle, g_source_unref);
	request_deliver(req, NULL, req->start_error);
	return G_SOURCE_REMOVE;
}

static void child_setup(void *data)
{
	(void)data;
	/* Runs between fork and exec: only async-signal-safe calls. */
	setsid();
}

/* Reaps a child whose request was cancelled. */
static void child_reap(GPid pid, int wait_status, void *data)
{
	(void)wait_status;
	(void)data;
	g_spawn_close_pid(pid);
}

struct password_request *password_request_start_output(const char *command, guint timeout_seconds,
                                                       password_callback callback, void *user_data)
{
	struct password_request *req =
	    password_request_start(command, timeout_seconds, callback, user_data);

	if (req != NULL) {
		req->whole = true;
	}
	return req;
}

struct password_request *password_request_start(const char *command, guint timeout_seconds,
                                                password_callback callback, void *user_data)
{
	struct password_request *req;
	const char *argv[] = {"/bin/sh", "-c", command, NULL};
	GError *error = NULL;
	int out_fd = -1;
	int err_fd = -1;

	g_return_val_if_fail(command != NULL, NULL);
	g_return_val_if_fail(callback != NULL, NULL);

	req = g_new0(struct password_request, 1);
	req->callback = callback;
	req->user_data = user_data;
	req->context = g_main_context_ref_thread_default();
	req->timeout_seconds = timeout_seconds;
	req->out.fd = -1;
	req->err.fd = -1;

	if (*command == '\0') {
		g_set_error_literal(&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		                    "password_command is empty");
	} else if (!g_spawn_async_with_pipes_and_fds(
	               NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
	               child_setup, NULL, -1, -1, -1, NULL, NULL, 0, &req->pid, NULL, &out_fd,
	               &err_fd, &error)) {
		g_prefix_error(&error, "password_command could not be started: ");
	}
	if (error) {
		/* Completions never run inside the call that asked for them. */
		req->start_error = error;
		req->idle = g_idle_source_new();
		g_source_set_callback(req->idle, request_report_start_error, req, NULL);
		g_source_attach(req->idle, req->context);
		return req;
	}

	reader_start(req, &req->out, out_fd, STDOUT_LIMIT);
	reader_start(req, &req->err, err_fd, STDERR_LIMIT);
	req->child_watch = g_child_watch_source_new(req->pid);
	g_source_set_callback(req->child_watch, G_SOURCE_FUNC(child_exited), req, NULL);
	g_source_attach(req->child_watch, req->context);
	/* Millisecond timer: a seconds timer may fire up to a second late. */
	req->timeout = g_timeout_source_new(MIN(timeout_seconds, G_MAXUINT / 1000) * 1000);
	g_source_set_callback(req->timeout, request_timed_out, req, NULL);
	g_source_attach(req->timeout, req->context);
	return req;
}

void password_request_cancel(struct password_request *req)
{
	if (!req || req->in_callback) {
		/* From inside the callback the request is about to be freed
		 * anyway. */
		return;
	}
	if (req->child_watch) {
		child_kill(req);
		/* The watch stays attached, now owned by the context alone, and
		 * still reaps the child. Replacing it with a new watch could
		 * lose the exit status GLib already collected for this one. */
		g_source_set_callback(req->child_watch, G_SOURCE_FUNC(child_reap), NULL, NULL);
		g_clear_pointer(&req->child_watch, g_source_unref);
	}
	request_free(req);
}
