/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_PROCESS_H
#define IMAPWATCH_PROCESS_H

/*
 * A child process driven by the GLib main loop: argv run directly (no
 * shell unless argv names one), extra environment, standard input fed from
 * memory, standard output and error read into bounded buffers (the rest is
 * read and dropped, so the child never blocks on a full pipe), a timeout
 * after which its whole process group is killed. Never blocks.
 *
 * The child starts a new session (setsid): it has no controlling terminal
 * and one kill(-pgid) reaches everything it started. The process finishes
 * when the child has exited: what is in the pipes then is read without
 * waiting for EOF, because something the child left behind may hold the
 * pipes open for ever. Buffers are wiped when freed (they may hold a
 * password).
 */

#include <glib.h>
#include <stdbool.h>

struct process;

struct process_options {
	const char *const *argv; /* argv[0] is looked up in PATH */
	const char *const *env;  /* "NAME=value" added to ours, or NULL */
	const char *cwd;         /* NULL: ours */
	GBytes *input;           /* standard input, then EOF; NULL: /dev/null */
	guint timeout_ms;        /* then the group is killed (SIGKILL) */
	gsize out_limit;         /* bytes of standard output kept */
	gsize err_limit;         /* bytes of standard error kept */
};

struct process_result {
	/* Set when the process could not be started; nothing else is then. */
	const GError *error;
	int wait_status; /* as waitpid() reports it */
	bool timed_out;
	/* What was kept, NUL-terminated after len bytes; truncated when more
	 * was written than the limit. */
	char *out;
	gsize out_len;
	bool out_truncated;
	char *err;
	gsize err_len;
	gint64 pid;
};

/* Called exactly once from the main loop (never from inside
 * process_start()) unless the process is cancelled first. The result lives
 * only during the call; the process is freed after it returns. */
typedef void (*process_done)(const struct process_result *result, void *user_data);

struct process *process_start(const struct process_options *options, process_done done,
                              void *user_data);

/* Kills the group, drops the callback and frees the process (the child is
 * still reaped). Accepts NULL; does nothing from inside the callback. */
void process_cancel(struct process *process);

/* "exited with status 1", "was killed by signal 9 (Killed)",
 * "did not finish within 5 s", "could not be started: …". New string. */
char *process_describe_end(const struct process_result *result, guint timeout_ms);

/* The first line of text (up to len), without control characters, valid
 * UTF-8, at most max characters (then "…"). New string. */
char *process_first_line(const char *text, gsize len, guint max);

#endif
