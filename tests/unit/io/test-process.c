/* SPDX-License-Identifier: MIT */
/*
 * The process runner beyond what password_command uses: standard input from
 * memory (also when the child never reads it), extra environment, argv run
 * without a shell, output bounds, a child that cannot start. Driven by the
 * main loop; waits have deadlines.
 */
#include "imapwatch/io/process.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define DEADLINE_MS 20000

struct result {
	bool done;
	bool started;
	bool timed_out;
	int status;
	char *out;
	gsize out_len;
	bool out_truncated;
	char *end;
};

static void on_done(const struct process_result *r, void *data)
{
	struct result *res = data;

	res->done = true;
	res->started = r->error == NULL;
	res->timed_out = r->timed_out;
	res->status = r->wait_status;
	res->out = r->out ? g_strndup(r->out, r->out_len) : NULL;
	res->out_len = r->out_len;
	res->out_truncated = r->out_truncated;
	res->end = process_describe_end(r, 300);
}

static void run(const struct process_options *o, struct result *res)
{
	gint64 deadline = g_get_monotonic_time() + DEADLINE_MS * 1000;

	memset(res, 0, sizeof(*res));
	process_start(o, on_done, res);
	/* Never from inside process_start(). */
	g_assert_false(res->done);
	while (!res->done) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
}

static void result_clear(struct result *res)
{
	g_free(res->out);
	g_free(res->end);
}

static void test_input_env_argv(void)
{
	const char *argv[] = {
	    "sh", "-c", "printf '%s|%s|' \"$ONE\" \"$1\"; cat", "sh", "$(not expanded)", NULL};
	const char *env[] = {"ONE=1 and more", NULL};
	g_autoptr(GBytes) input = g_bytes_new_static("from stdin\n", 11);
	struct result res;

	run(&(struct process_options){.argv = argv,
	                              .env = env,
	                              .input = input,
	                              .timeout_ms = DEADLINE_MS,
	                              .out_limit = 1024,
	                              .err_limit = 1024},
	    &res);
	g_assert_true(res.started);
	g_assert_true(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0);
	g_assert_cmpstr(res.out, ==, "1 and more|$(not expanded)|from stdin\n");
	g_assert_cmpstr(res.end, ==, "exited with status 0");
	result_clear(&res);
}

static void test_input_never_read(void)
{
	/* Far more than a pipe holds; the child exits without reading. */
	gsize size = 4 * 1024 * 1024;
	g_autoptr(GBytes) input = g_bytes_new_take(g_malloc0(size), size);
	const char *argv[] = {"sh", "-c", "echo done; exit 4", NULL};
	struct result res;

	run(&(struct process_options){.argv = argv,
	                              .input = input,
	                              .timeout_ms = DEADLINE_MS,
	                              .out_limit = 1024,
	                              .err_limit = 1024},
	    &res);
	g_assert_cmpstr(res.out, ==, "done\n");
	g_assert_cmpstr(res.end, ==, "exited with status 4");
	result_clear(&res);
}

static void test_output_bound_and_timeout(void)
{
	const char *argv[] = {"sh", "-c", "yes | head -c 100000; sleep 30", NULL};
	struct result res;

	run(
	    &(struct process_options){
	        .argv = argv, .timeout_ms = 300, .out_limit = 10, .err_limit = 10},
	    &res);
	g_assert_true(res.timed_out);
	g_assert_cmpuint(res.out_len, ==, 10);
	g_assert_true(res.out_truncated);
	g_assert_cmpstr(res.end, ==, "did not finish within 300 ms");
	result_clear(&res);
}

static void test_cannot_start(void)
{
	const char *argv[] = {"/nonexistent/hook", NULL};
	struct result res;

	run(&(struct process_options){.argv = argv, .timeout_ms = 1000}, &res);
	g_assert_false(res.started);
	g_assert_true(g_str_has_prefix(res.end, "could not be started: "));
	result_clear(&res);
}

static void test_first_line(void)
{
	g_autofree char *a = process_first_line("a\tb\nsecond", 10, 100);
	g_autofree char *b = process_first_line("abcdef", 6, 3);

	g_assert_cmpstr(a, ==, "a b");
	g_assert_cmpstr(b, ==, "abc…");
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/process/input-env-argv", test_input_env_argv);
	g_test_add_func("/process/input-never-read", test_input_never_read);
	g_test_add_func("/process/output-bound-and-timeout", test_output_bound_and_timeout);
	g_test_add_func("/process/cannot-start", test_cannot_start);
	g_test_add_func("/process/first-line", test_first_line);
	return g_test_run();
}
