/* SPDX-License-Identifier: MIT */
/*
 * Child processes on the main loop. The child is spawned with g_spawn
 * (pipes are O_CLOEXEC in the parent, every other fd is closed in the
 * child) and then driven only by main-loop sources: one fd source per pipe,
 * one child watch, one timeout. Nothing here waits.
 */
#include "imapwatch/io/process.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

/* What is drained after the child exits, in case something it left behind
 * keeps writing. */
#define DRAIN_LIMIT (1024 * 1024)
/* One pipe buffer per wakeup, so that a flood cannot starve the loop. */
#define READ_BURST (64 * 1024)

struct pipe_reader {
	int fd; /* -1 once closed */
	GSource *source;
	char *buf;
	gsize len;
	gsize limit;
	bool truncated;
};

struct pipe_writer {
	int fd; /* -1 once closed */
	GSource *source;
	GBytes *data;
	gsize done;
};

struct process {
	process_done done;
	void *user_data;
	GMainContext *context;
	guint timeout_ms;
	GPid pid; /* 0 after reaping */
	GSource *child_watch;
	GSource *timeout;
	GSource *idle; /* reports a failure to start */
	GError *start_error;
	struct pipe_reader out;
	struct pipe_reader err;
	struct pipe_writer in;
	bool timed_out;
	bool in_callback;
};

static void source_drop(GSource **source)
{
	if (*source) {
		g_source_destroy(*source);
		g_source_unref(*source);
		*source = NULL;
	}
}

/* ---- reading ---- */

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
	if (r->buf != NULL) {
		/* memset() before free() may be optimised away. */
		explicit_bzero(r->buf, r->limit + 1);
		g_free(r->buf);
		r->buf = NULL;
	}
}

/* Reads what is available, keeping up to r->limit bytes and dropping the
 * rest. Returns false at EOF or on a read error (the pipe is closed then),
 * or once max_total bytes were read in this call. */
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
		gsize keep = MIN((gsize)n, r->limit - r->len);

		memcpy(r->buf + r->len, scratch, keep);
		r->len += keep;
		r->truncated = r->truncated || keep < (gsize)n;
	}
	/* What was dropped may hold secrets too (pass prints whole
	 * entries). */
	explicit_bzero(scratch, sizeof(scratch));
	return r->fd >= 0;
}

static gboolean reader_ready(int fd, GIOCondition condition, void *data)
{
	struct pipe_reader *r = data;

	(void)fd;
	(void)condition;
	if (!reader_read(r, READ_BURST)) {
		/* reader_close() destroyed the source; drop our reference only. */
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void reader_start(struct process *p, struct pipe_reader *r, int fd, gsize limit)
{
	r->fd = fd;
	r->limit = limit;
	r->buf = g_malloc(limit + 1);
	g_unix_set_fd_nonblocking(fd, TRUE, NULL);
	r->source = g_unix_fd_source_new(fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
	g_source_set_callback(r->source, G_SOURCE_FUNC(reader_ready), r, NULL);
	g_source_attach(r->source, p->context);
}

/* ---- writing ---- */

static void writer_close(struct pipe_writer *w)
{
	source_drop(&w->source);
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	g_clear_pointer(&w->data, g_bytes_unref);
}

/* Writes what the pipe takes; closes it when all is written or the child
 * stopped reading (EPIPE: SIGPIPE is ignored by the daemon). */
static gboolean writer_ready(int fd, GIOCondition condition, void *data)
{
	struct pipe_writer *w = data;
	gsize size = 0;
	const char *bytes = g_bytes_get_data(w->data, &size);

	(void)condition;
	while (w->done < size) {
		ssize_t n = write(fd, bytes + w->done, size - w->done);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return G_SOURCE_CONTINUE;
		}
		if (n < 0) {
			break;
		}
		w->done += (gsize)n;
	}
	/* Destroying the source from its own dispatch is allowed. */
	writer_close(w);
	return G_SOURCE_REMOVE;
}

static void writer_start(struct process *p, int fd, GBytes *data)
{
	struct pipe_writer *w = &p->in;

	w->fd = fd;
	w->data = g_bytes_ref(data);
	g_unix_set_fd_nonblocking(fd, TRUE, NULL);
	w->source = g_unix_fd_source_new(fd, G_IO_OUT | G_IO_ERR | G_IO_HUP);
	g_source_set_callback(w->source, G_SOURCE_FUNC(writer_ready), w, NULL);
	g_source_attach(w->source, p->context);
}

/* ---- the child ---- */

static void process_free(struct process *p)
{
	source_drop(&p->child_watch);
	source_drop(&p->timeout);
	source_drop(&p->idle);
	writer_close(&p->in);
	reader_finish(&p->out);
	reader_finish(&p->err);
	g_clear_error(&p->start_error);
	g_main_context_unref(p->context);
	g_free(p);
}

static void deliver(struct process *p, int wait_status)
{
	struct process_result result = {
	    .error = p->start_error,
	    .wait_status = wait_status,
	    .timed_out = p->timed_out,
	    .out = p->out.buf,
	    .out_len = p->out.len,
	    .out_truncated = p->out.truncated,
	    .err = p->err.buf,
	    .err_len = p->err.len,
	    .pid = p->pid,
	};

	if (result.out != NULL) {
		result.out[result.out_len] = '\0';
	}
	if (result.err != NULL) {
		result.err[result.err_len] = '\0';
	}
	p->in_callback = true;
	p->done(&result, p->user_data);
	process_free(p);
}

static void child_exited(GPid pid, int wait_status, void *data)
{
	struct process *p = data;

	g_spawn_close_pid(pid);
	/* The source is finished after this call; forget it without
	 * destroying it from inside its own dispatch. */
	g_clear_pointer(&p->child_watch, g_source_unref);
	source_drop(&p->timeout);
	writer_close(&p->in);
	/* Everything the child wrote is in the pipes now. */
	reader_read(&p->out, DRAIN_LIMIT);
	reader_read(&p->err, DRAIN_LIMIT);
	reader_close(&p->out);
	reader_close(&p->err);
	deliver(p, wait_status);
}

static void child_kill(struct process *p)
{
	if (p->pid > 0) {
		/* The group first (the child and what it started), then the
		 * child itself in case setsid() did not happen. */
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
	}
}

static gboolean timed_out(void *data)
{
	struct process *p = data;

	p->timed_out = true;
	child_kill(p);
	g_clear_pointer(&p->timeout, g_source_unref);
	/* The child watch reports (and reaps) the killed child. */
	return G_SOURCE_REMOVE;
}

static gboolean report_start_error(void *data)
{
	struct process *p = data;

	g_clear_pointer(&p->idle, g_source_unref);
	deliver(p, 0);
	return G_SOURCE_REMOVE;
}

static void child_setup(void *data)
{
	(void)data;
	/* Between fork and exec: only async-signal-safe calls. */
	setsid();
}

/* Reaps a child whose process was cancelled. */
static void child_reap(GPid pid, int wait_status, void *data)
{
	(void)wait_status;
	(void)data;
	g_spawn_close_pid(pid);
}

struct process *process_start(const struct process_options *o, process_done done, void *user_data)
{
	struct process *p;
	g_auto(GStrv) envp = NULL;
	GError *error = NULL;
	int in_fd = -1;
	int out_fd = -1;
	int err_fd = -1;
	GSpawnFlags flags = G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH;

	g_return_val_if_fail(o != NULL && o->argv != NULL && done != NULL, NULL);

	p = g_new0(struct process, 1);
	p->done = done;
	p->user_data = user_data;
	p->context = g_main_context_ref_thread_default();
	p->timeout_ms = o->timeout_ms;
	p->out.fd = -1;
	p->err.fd = -1;
	p->in.fd = -1;

	if (o->env != NULL) {
		envp = g_get_environ();
		for (guint i = 0; o->env[i] != NULL; i++) {
			const char *eq = strchr(o->env[i], '=');
			g_autofree char *name =
			    g_strndup(o->env[i], eq ? (gsize)(eq - o->env[i]) : strlen(o->env[i]));

			envp = g_environ_setenv(envp, name, eq ? eq + 1 : "", TRUE);
		}
	}
	if (o->input == NULL) {
		flags |= G_SPAWN_STDIN_FROM_DEV_NULL;
	}
	if (o->argv[0] == NULL) {
		g_set_error_literal(&error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT,
		                    "no command to run");
	} else if (!g_spawn_async_with_pipes_and_fds(
	               o->cwd, o->argv, (const char *const *)envp, flags, child_setup, NULL, -1, -1,
	               -1, NULL, NULL, 0, &p->pid, o->input != NULL ? &in_fd : NULL, &out_fd,
	               &err_fd, &error)) {
		/* error says why */
	}
	if (error != NULL) {
		/* Completions never run inside the call that asked for them. */
		p->pid = 0;
		p->start_error = error;
		p->idle = g_idle_source_new();
		g_source_set_callback(p->idle, report_start_error, p, NULL);
		g_source_attach(p->idle, p->context);
		return p;
	}
	reader_start(p, &p->out, out_fd, o->out_limit);
	reader_start(p, &p->err, err_fd, o->err_limit);
	if (in_fd >= 0) {
		writer_start(p, in_fd, o->input);
	}
	p->child_watch = g_child_watch_source_new(p->pid);
	g_source_set_callback(p->child_watch, G_SOURCE_FUNC(child_exited), p, NULL);
	g_source_attach(p->child_watch, p->context);
	/* Millisecond timer: a seconds timer may fire up to a second late. */
	p->timeout = g_timeout_source_new(o->timeout_ms);
	g_source_set_callback(p->timeout, timed_out, p, NULL);
	g_source_attach(p->timeout, p->context);
	return p;
}

void process_cancel(struct process *p)
{
	if (p == NULL || p->in_callback) {
		/* From inside the callback the process is about to be freed
		 * anyway. */
		return;
	}
	if (p->child_watch != NULL) {
		child_kill(p);
		/* The watch stays attached, now owned by the context alone, and
		 * still reaps the child. Replacing it with a new watch could
		 * lose the exit status GLib already collected for this one. */
		g_source_set_callback(p->child_watch, G_SOURCE_FUNC(child_reap), NULL, NULL);
		g_clear_pointer(&p->child_watch, g_source_unref);
	}
	process_free(p);
}

char *process_describe_end(const struct process_result *r, guint timeout_ms)
{
	if (r->error != NULL) {
		return g_strdup_printf("could not be started: %s", r->error->message);
	}
	if (r->timed_out) {
		g_autofree char *limit = timeout_ms % 1000 == 0
		                             ? g_strdup_printf("%u s", timeout_ms / 1000)
		                             : g_strdup_printf("%u ms", timeout_ms);

		return g_strdup_printf("did not finish within %s", limit);
	}
	if (WIFSIGNALED(r->wait_status)) {
		return g_strdup_printf("was killed by signal %d (%s)", WTERMSIG(r->wait_status),
		                       g_strsignal(WTERMSIG(r->wait_status)));
	}
	return g_strdup_printf("exited with status %d",
	                       WIFEXITED(r->wait_status) ? WEXITSTATUS(r->wait_status) : -1);
}

char *process_first_line(const char *text, gsize len, guint max)
{
	gsize n = 0;
	g_autofree char *raw = NULL;
	g_autofree char *line = NULL;

	while (n < len && text[n] != '\n' && text[n] != '\0') {
		n++;
	}
	raw = g_strndup(text, n);
	for (char *c = raw; *c; c++) {
		if (g_ascii_iscntrl(*c)) {
			*c = ' ';
		}
	}
	line = g_utf8_make_valid(g_strstrip(raw), -1);
	if (g_utf8_strlen(line, -1) > max) {
		const char *end = g_utf8_offset_to_pointer(line, max);
		g_autofree char *head = g_strndup(line, (gsize)(end - line));

		return g_strconcat(head, "…", NULL);
	}
	return g_steal_pointer(&line);
}
