/* SPDX-License-Identifier: MIT */
/*
 * password_command runner against real /bin/sh commands. Everything is
 * driven by the main loop: no test sleeps, and waits have deadlines.
 */
#include "imapwatch/core/secret.h"
#include "imapwatch/io/password.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

/* Generous: valgrind makes /bin/sh slow to start. */
#define DEADLINE_MS 20000

static char *tmp_dir;

struct result {
	int calls;
	char *password;
	char *message;
	int code;
	GMainLoop *loop;
};

static void result_clear(struct result *r)
{
	secret_free(r->password);
	g_free(r->message);
	if (r->loop) {
		g_main_loop_unref(r->loop);
	}
	memset(r, 0, sizeof(*r));
}

static void on_password(const char *password, const GError *error, void *data)
{
	struct result *r = data;

	r->calls++;
	g_assert_true((password == NULL) != (error == NULL));
	if (password) {
		r->password = g_strdup(password);
	} else {
		r->message = g_strdup(error->message);
		g_assert_true(error->domain == G_IO_ERROR);
		r->code = error->code;
	}
	if (r->loop) {
		g_main_loop_quit(r->loop);
	}
}

static gboolean deadline_passed(void *data)
{
	bool *passed = data;

	*passed = true;
	return G_SOURCE_REMOVE;
}

/* Runs the main loop until *done or the deadline; false on the deadline. */
static bool loop_until(const bool *done, const int *calls, guint ms)
{
	bool passed = false;
	guint id = g_timeout_add(ms, deadline_passed, &passed);

	while (!passed && !(done && *done) && !(calls && *calls > 0)) {
		g_main_context_iteration(NULL, TRUE);
	}
	if (!passed) {
		g_source_remove(id);
	}
	return !passed;
}

static void run_command(const char *command, guint timeout, struct result *r)
{
	struct password_request *req;

	memset(r, 0, sizeof(*r));
	req = password_request_start(command, timeout, on_password, r);
	g_assert_nonnull(req);
	/* Never from inside the call that asked. */
	g_assert_cmpint(r->calls, ==, 0);
	g_assert_true(loop_until(NULL, &r->calls, DEADLINE_MS));
	g_assert_cmpint(r->calls, ==, 1);
}

static void test_password_cases(void)
{
	static const struct {
		const char *command;
		const char *password; /* NULL: expect message */
		const char *message;
	} cases[] = {
	    {"printf 'secret\\nmore'", "secret", NULL},
	    {"printf 'secret\\r\\n'", "secret", NULL},
	    {"printf 'secret'", "secret", NULL},
	    {"printf ' spaced pw \\n'", " spaced pw ", NULL},
	    {"echo 'no such entry' >&2; echo leaked-stdout; exit 3", NULL,
	     "password_command exited with status 3: no such entry"},
	    {"exit 1", NULL, "password_command exited with status 1 (it printed no error message)"},
	    {"printf '\\tfirst\\r\\nsecond\\n' >&2; exit 2", NULL,
	     "password_command exited with status 2: first"},
	    {"true", NULL, "password_command printed nothing"},
	    {"printf '\\nfoo\\n'", NULL, "password_command printed nothing"},
	    {"printf '\\r\\n'", NULL, "password_command printed nothing"},
	    /* stdin is /dev/null: cat ends at once instead of waiting. */
	    {"cat", NULL, "password_command printed nothing"},
	    {"printf 'a\\000b\\n'", NULL, "password_command printed a NUL byte in its first line"},
	    {"kill -TERM $$", NULL, "password_command was killed by signal 15 (Terminated)"},
	    {"", NULL, "password_command is empty"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct result r;

		g_test_message("command: %s", cases[i].command);
		run_command(cases[i].command, 10, &r);
		g_assert_cmpstr(r.password, ==, cases[i].password);
		g_assert_cmpstr(r.message, ==, cases[i].message);
		result_clear(&r);
	}
}

static void test_password_environment(void)
{
	struct result r;

	g_setenv("IMAPWATCH_TEST_SECRET", "from-env", TRUE);
	run_command("printf '%s\\n' \"$IMAPWATCH_TEST_SECRET\"", 10, &r);
	g_assert_cmpstr(r.password, ==, "from-env");
	result_clear(&r);
	g_unsetenv("IMAPWATCH_TEST_SECRET");
}

static void test_password_timeout(void)
{
	gint64 start = g_get_monotonic_time();
	struct result r;

	run_command("sleep 10", 1, &r);
	g_assert_cmpstr(r.message, ==, "password_command did not finish within 1 s");
	g_assert_cmpint(r.code, ==, G_IO_ERROR_TIMED_OUT);
	g_assert_null(r.password);
	/* 1 s timeout, not the 10 s of the command. */
	g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
	result_clear(&r);
}

static char *pid_file_path(void)
{
	return g_build_filename(tmp_dir, "pid", NULL);
}

static pid_t pid_file_read(const char *path)
{
	g_autofree char *text = NULL;
	guint64 pid = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL)) {
		return 0;
	}
	g_strstrip(text);
	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT, &pid, NULL)) {
		return 0;
	}
	return (pid_t)pid;
}

/* Gone, or a zombie waiting for a parent that is not us (in a container the
 * init process may never reap). */
static bool process_is_dead(pid_t pid)
{
	g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);
	g_autofree char *stat = NULL;
	const char *paren;

	if (kill(pid, 0) != 0 && errno == ESRCH) {
		return true;
	}
	if (!g_file_get_contents(stat_path, &stat, NULL, NULL)) {
		return true;
	}
	paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && paren[2] == 'Z';
}

static gboolean tick(void *data)
{
	guint *ticks = data;

	(*ticks)++;
	return G_SOURCE_CONTINUE;
}

/* Polls a condition every 10 ms from the main loop, up to ms. */
static bool loop_wait_for(bool (*condition)(void *), void *data, guint ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	guint ticks = 0;
	guint id = g_timeout_add(10, tick, &ticks);

	while (!condition(data) && g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, TRUE);
	}
	g_source_remove(id);
	return condition(data);
}

static bool pid_file_has_pid(void *data)
{
	return pid_file_read(data) > 0;
}

static bool pid_is_dead(void *data)
{
	return process_is_dead((pid_t)GPOINTER_TO_INT(data));
}

/* Gone for good: killed and reaped. */
static bool pid_is_gone(void *data)
{
	return kill((pid_t)GPOINTER_TO_INT(data), 0) != 0 && errno == ESRCH;
}

static void test_password_timeout_kills_group(void)
{
	g_autofree char *pid_file = pid_file_path();
	g_autofree char *command = NULL;
	struct result r;
	pid_t pid;

	g_unlink(pid_file);
	/* The shell waits for a background child: killing only the shell
	 * would leave the sleep behind. */
	command = g_strdup_printf("sleep 10 & echo $! > '%s'; wait", pid_file);
	run_command(command, 1, &r);
	g_assert_cmpstr(r.message, ==, "password_command did not finish within 1 s");
	pid = pid_file_read(pid_file);
	g_assert_cmpint(pid, >, 0);
	g_assert_true(loop_wait_for(pid_is_dead, GINT_TO_POINTER(pid), 2000));
	result_clear(&r);
}

static void test_password_cancel(void)
{
	g_autofree char *pid_file = pid_file_path();
	g_autofree char *command = NULL;
	struct password_request *req;
	struct result r = {0};
	bool done = false;
	pid_t pid;

	g_unlink(pid_file);
	command = g_strdup_printf("echo $$ > '%s'; exec sleep 10", pid_file);
	req = password_request_start(command, 10, on_password, &r);
	g_assert_true(loop_wait_for(pid_file_has_pid, pid_file, DEADLINE_MS));
	pid = pid_file_read(pid_file);
	password_request_cancel(req);

	/* The child is killed, and reaped by us: it is our child, so no
	 * zombie may be left either. */
	g_assert_true(loop_wait_for(pid_is_gone, GINT_TO_POINTER(pid), DEADLINE_MS));
	/* And the callback never comes. */
	g_assert_false(loop_until(&done, &r.calls, 200));
	g_assert_cmpint(r.calls, ==, 0);
	result_clear(&r);

	password_request_cancel(NULL);
}

static void test_password_cancel_start_error(void)
{
	struct result r = {0};
	struct password_request *req = password_request_start("", 10, on_password, &r);
	bool done = false;

	password_request_cancel(req);
	g_assert_false(loop_until(&done, &r.calls, 50));
	g_assert_cmpint(r.calls, ==, 0);
}

static struct password_request *cancel_me;

static void on_password_cancel_inside(const char *password, const GError *error, void *data)
{
	int *calls = data;

	(void)password;
	(void)error;
	(*calls)++;
	/* The request is about to be freed; cancelling it here is harmless. */
	password_request_cancel(cancel_me);
}

static void test_password_cancel_in_callback(void)
{
	int calls = 0;
	bool done = false;

	cancel_me = password_request_start("echo pw", 10, on_password_cancel_inside, &calls);
	g_assert_true(loop_until(NULL, &calls, DEADLINE_MS));
	g_assert_false(loop_until(&done, NULL, 50));
	g_assert_cmpint(calls, ==, 1);
	cancel_me = NULL;
}

static void test_password_large_output(void)
{
	struct result r;

	/* 1 MiB, first line short: the rest is read and dropped, and the
	 * writer is not stopped by a full pipe or SIGPIPE. */
	run_command("yes | head -c 1048576", 10, &r);
	g_assert_cmpstr(r.password, ==, "y");
	result_clear(&r);

	run_command("printf 'pw\\n'; head -c 1048576 /dev/zero; exit 0", 10, &r);
	g_assert_cmpstr(r.password, ==, "pw");
	result_clear(&r);

	run_command("head -c 1048576 /dev/zero | tr '\\000' a", 10, &r);
	g_assert_cmpstr(r.message, ==, "password_command printed a first line longer than 64 KiB");
	result_clear(&r);

	/* A flood on stderr stays out of the message beyond one short line. */
	run_command("head -c 100000 /dev/zero | tr '\\000' e >&2; exit 4", 10, &r);
	g_assert_nonnull(r.message);
	g_assert_true(g_str_has_prefix(r.message, "password_command exited with status 4: eee"));
	g_assert_cmpuint(g_utf8_strlen(r.message, -1), <=, 260);
	g_assert_true(g_str_has_suffix(r.message, "…"));
	result_clear(&r);
}

static void test_password_responsive(void)
{
	struct result r = {0};
	guint ticks = 0;
	guint id = g_timeout_add(10, tick, &ticks);

	run_command("sleep 0.5; echo pw", 10, &r);
	g_source_remove(id);
	g_assert_cmpstr(r.password, ==, "pw");
	/* About 50 ticks happen during half a second; any blocking wait in
	 * the module would leave almost none. */
	g_test_message("ticks: %u", ticks);
	g_assert_cmpuint(ticks, >=, 20);
	result_clear(&r);
}

static guint fd_count(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
	guint n = 0;

	g_assert_nonnull(dir);
	while (g_dir_read_name(dir)) {
		n++;
	}
	return n;
}

static void test_password_no_fd_leak(void)
{
	guint before = fd_count();
	struct result r;

	run_command("echo pw", 10, &r);
	result_clear(&r);
	run_command("sleep 10", 1, &r);
	result_clear(&r);
	run_command("exit 5", 10, &r);
	result_clear(&r);
	g_assert_cmpuint(fd_count(), ==, before);
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	tmp_dir = g_dir_make_tmp("imapwatch-test-password-XXXXXX", NULL);
	g_assert_nonnull(tmp_dir);

	g_test_add_func("/password/cases", test_password_cases);
	g_test_add_func("/password/environment", test_password_environment);
	g_test_add_func("/password/timeout", test_password_timeout);
	g_test_add_func("/password/timeout-kills-group", test_password_timeout_kills_group);
	g_test_add_func("/password/cancel", test_password_cancel);
	g_test_add_func("/password/cancel-start-error", test_password_cancel_start_error);
	g_test_add_func("/password/cancel-in-callback", test_password_cancel_in_callback);
	g_test_add_func("/password/large-output", test_password_large_output);
	g_test_add_func("/password/responsive", test_password_responsive);
	g_test_add_func("/password/no-fd-leak", test_password_no_fd_leak);
	ret = g_test_run();

	{
		g_autofree char *pid_file = pid_file_path();

		g_unlink(pid_file);
		g_rmdir(tmp_dir);
		g_free(tmp_dir);
	}
	return ret;
}
