/* SPDX-License-Identifier: MIT */
/*
 * State store and state format, through real files in a temp dir per test.
 * Damaged files are tested in test-state-store-damaged.c.
 */
#include "state-store-harness.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* --- tests ------------------------------------------------------------ */

static void test_default_dir(void)
{
	g_autofree char *dir = state_store_default_dir();
	g_autofree char *expected = g_build_filename(g_get_user_state_dir(), "imapwatch", NULL);

	g_assert_cmpstr(dir, ==, expected);
}

static void test_round_trip(struct fixture *fx, gconstpointer data)
{
	static const char *const accounts[] = {
	    "work", "a.b c", ".", "..", "%2E", "Arbeit – Büro ✉", "-_", "A", "%41",
	};
	g_autofree char *long_name = g_strnfill(STATE_FORMAT_NAME_MAX, 'x');
	static const uint32_t shown[] = {1, 2, 3, 7, 100, 101, 4294967294u};
	g_autoptr(GPtrArray) names = NULL;

	(void)data;
	memcpy(long_name, "é/", 3);
	for (guint i = 0; i < G_N_ELEMENTS(accounts); i++) {
		g_autoptr(state_account) st = sample_state(accounts[i]);
		g_autoptr(state_account) back = NULL;
		static const char *const odd[] = {
		    "日本語/フォルダ",
		    "a=b",
		    "100%",
		    "%41",
		    "%",
		    "=",
		    "]",
		    "a]b[c",
		    " lead",
		    "trail ",
		    "two  spaces",
		    "tab\there",
		    "new\nline",
		    "cr\rx",
		    "del\x7f",
		    "🙂",
		    "a/b/c/d",
		    "\\back\"quote'",
		};

		for (guint j = 0; j < G_N_ELEMENTS(odd); j++) {
			add_folder(st, odd[j], j + 1, j * 100, 0, j, shown,
			           j % G_N_ELEMENTS(shown));
		}
		add_folder(st, long_name, 1, 2, 3, 4, shown, G_N_ELEMENTS(shown));
		g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
		back = load_ok(fx->dir, accounts[i]);
		assert_state_equal(st, back);
	}
	/* One file per account; "." and ".." are ordinary escaped names and
	 * "%41" does not collide with "A". */
	names = dir_names(fx->dir);
	g_assert_cmpuint(names->len, ==, 2 * G_N_ELEMENTS(accounts)); /* and the fast files */
	g_assert_cmpuint(count_with_infix(fx->dir, ".state.fast"), ==, G_N_ELEMENTS(accounts));
	g_assert_true(g_ptr_array_find_with_equal_func(names, "%2E.state", g_str_equal, NULL));
	g_assert_true(g_ptr_array_find_with_equal_func(names, "%2E%2E.state", g_str_equal, NULL));
	g_assert_true(g_ptr_array_find_with_equal_func(names, "%252E.state", g_str_equal, NULL));
	g_assert_true(g_ptr_array_find_with_equal_func(names, "A.state", g_str_equal, NULL));
	g_assert_true(g_ptr_array_find_with_equal_func(names, "%2541.state", g_str_equal, NULL));
	g_assert_true(
	    g_ptr_array_find_with_equal_func(names, "a%2Eb%20c.state", g_str_equal, NULL));
}

static void test_format_example(struct fixture *fx, gconstpointer data)
{
	g_autoptr(state_account) st = state_account_new("work");
	g_autoptr(GString) expected = NULL;
	g_autofree char *path = state_path(fx->dir, "work");
	g_autofree char *text = NULL;
	static const uint32_t shown[] = {17, 40, 41, 42};
	static const char body[] = "imapwatch-state 2\n"
	                           "account work\n"
	                           "folder Lists/dev%20team\n"
	                           "uidvalidity 1700000001\n"
	                           "uidnext 43\n"
	                           "watermark 42\n"
	                           "highestmodseq 9071\n"
	                           "shown 17,40:42\n"
	                           "sets 40 3\n"
	                           "uids 1:38,40:41\n"
	                           "unseen 17,40:41\n"
	                           "folder 100%25\n"
	                           "uidvalidity 0\n"
	                           "uidnext 0\n"
	                           "watermark 0\n"
	                           "highestmodseq 0\n";
	gsize len;

	(void)data;
	add_folder(st, "Lists/dev team", 1700000001, 42, 43, 9071, shown, G_N_ELEMENTS(shown));
	g_autoptr(uidset) all = uidset_new();
	g_autoptr(uidset) unseen = uidset_new();
	g_assert_true(uidset_parse(all, "1:38,40:41", 10));
	g_assert_true(uidset_parse(unseen, "17,40:41", 10));
	state_folder_set_sets(st->folders->pdata[0], all, unseen);
	state_account_get_folder(st, "100%", true);
	g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
	text = read_bytes(path, &len);
	expected = with_checksum(body, strlen(body));
	g_assert_cmpstr(text, ==, expected->str);
}

/* What the account learnt of the server's IDLE (I9) comes after the
 * account line, and only then is the file version 3: without it, older
 * versions still read the file (test_format_example). */
static void test_idle(struct fixture *fx, gconstpointer data)
{
	g_autoptr(state_account) st = sample_state("work");
	g_autofree char *path = state_path(fx->dir, "work");
	g_autofree char *text = NULL;
	gsize len;

	(void)data;
	st->idle_lifetime = 298;
	st->idle_refresh = 238;
	g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
	text = read_bytes(path, &len);
	g_assert_true(g_str_has_prefix(text, "imapwatch-state 3\naccount work\nidle 298 238\n"
	                                     "folder INBOX\n"));
	{
		g_autoptr(state_account) back = load_ok(fx->dir, "work");

		assert_state_equal(st, back);
	}
	/* The fast file says the same. */
	st->idle_lifetime = 4;
	st->idle_refresh = 3;
	g_assert_cmpint(state_store_save_fast(fx->dir, st), ==, 0);
	{
		g_autoptr(state_account) back = load_ok(fx->dir, "work");

		assert_state_equal(st, back);
	}
	/* Dropped: version 2 again, without the line. */
	st->idle_lifetime = 0;
	st->idle_refresh = 0;
	g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
	g_free(text);
	text = read_bytes(path, &len);
	g_assert_true(g_str_has_prefix(text, "imapwatch-state 2\naccount work\nfolder INBOX\n"));
	{
		g_autoptr(state_account) back = load_ok(fx->dir, "work");

		assert_state_equal(st, back);
	}
}

static void test_bad_names(struct fixture *fx, gconstpointer data)
{
	static const char *const bad[] = {"", "a/b", "/", "\xff\xfe"};
	g_autofree char *too_long = g_strnfill(STATE_FORMAT_ACCOUNT_ESCAPED_MAX / 3 + 1, '.');
	g_autofree char *just_fits = g_strnfill(STATE_FORMAT_ACCOUNT_ESCAPED_MAX / 3, '.');
	struct state_account *st = NULL;
	char *warning = NULL;

	(void)data;
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(state_account) s = state_account_new(bad[i]);

		g_assert_cmpint(state_store_load(fx->dir, bad[i], &st, &warning), ==, -EINVAL);
		g_assert_cmpint(state_store_save(fx->dir, s), ==, -EINVAL);
	}
	g_assert_cmpint(state_store_load(fx->dir, too_long, &st, &warning), ==, -ENAMETOOLONG);
	g_assert_null(st);
	g_assert_null(warning);
	{
		g_autoptr(state_account) s = state_account_new(too_long);
		g_autoptr(state_account) fits = sample_state(just_fits);
		g_autoptr(state_account) back = NULL;

		g_assert_cmpint(state_store_save(fx->dir, s), ==, -ENAMETOOLONG);
		/* The longest stem still leaves room for the corrupt suffix. */
		g_assert_cmpint(state_store_save(fx->dir, fits), ==, 0);
		back = load_ok(fx->dir, just_fits);
		assert_state_equal(fits, back);
	}
	{
		g_autofree char *path = state_path(fx->dir, just_fits);

		write_bytes(path, "x", 1);
		assert_set_aside(fx->dir, just_fits, NULL);
	}
}

static void test_missing(struct fixture *fx, gconstpointer data)
{
	g_autoptr(state_account) st = NULL;
	g_autoptr(GPtrArray) names = NULL;
	g_autofree char *nowhere = g_build_filename(fx->dir, "no", "such", "dir", NULL);
	g_autoptr(state_account) st2 = NULL;

	(void)data;
	st = load_ok(fx->dir, "work");
	g_assert_cmpstr(st->name, ==, "work");
	g_assert_cmpuint(st->folders->len, ==, 0);
	names = dir_names(fx->dir);
	g_assert_cmpuint(names->len, ==, 0);
	st2 = load_ok(nowhere, "work");
	g_assert_cmpuint(st2->folders->len, ==, 0);
	g_assert_false(g_file_test(nowhere, G_FILE_TEST_EXISTS));
}

static void test_empty_account(struct fixture *fx, gconstpointer data)
{
	g_autoptr(state_account) st = state_account_new("work");
	g_autoptr(state_account) back = NULL;

	(void)data;
	g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
	back = load_ok(fx->dir, "work");
	assert_state_equal(st, back);
}

/* The state file and its fast file, and nothing else (no temp file). */
static void assert_only_file(const char *dir, const char *name)
{
	g_autoptr(GPtrArray) names = dir_names(dir);
	g_autofree char *fast = g_strconcat(name, ".fast", NULL);

	g_assert_cmpuint(names->len, ==, 2);
	g_assert_cmpstr(names->pdata[0], ==, name);
	g_assert_cmpstr(names->pdata[1], ==, fast);
}

static void test_atomic(struct fixture *fx, gconstpointer data)
{
	g_autoptr(state_account) old = sample_state("work");
	g_autoptr(state_account) big = state_account_new("work");
	g_autofree char *file_dir = g_build_filename(fx->dir, "file", NULL);
	struct rlimit saved;
	struct rlimit small;
	int r;

	(void)data;
	for (guint i = 0; i < 5; i++) {
		g_assert_cmpint(state_store_save(fx->dir, old), ==, 0);
	}
	assert_only_file(fx->dir, "work.state");

	/* A write that fails half-way (file size limit: works as root too). */
	for (guint i = 0; i < 200; i++) {
		g_autofree char *name = g_strdup_printf("folder %u %s", i, "padding padding");

		state_account_get_folder(big, name, true);
	}
	g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &saved), ==, 0);
	small = saved;
	small.rlim_cur = 4096;
	signal(SIGXFSZ, SIG_IGN);
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
	r = state_store_save(fx->dir, big);
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &saved), ==, 0);
	signal(SIGXFSZ, SIG_DFL);
	g_assert_cmpint(r, ==, -EFBIG);
	assert_only_file(fx->dir, "work.state");
	{
		g_autoptr(state_account) back = load_ok(fx->dir, "work");

		assert_state_equal(old, back);
	}

	/* The directory is a file: nothing can be created. */
	write_bytes(file_dir, "", 0);
	r = state_store_save(file_dir, old);
	g_assert_true(r == -ENOTDIR || r == -EEXIST);
	{
		g_autofree char *warning = NULL;
		g_autoptr(state_account) st = NULL;

		g_assert_cmpint(state_store_load(file_dir, "work", &st, &warning), ==, 0);
		g_assert_cmpuint(st->folders->len, ==, 0);
		g_assert_nonnull(warning);
		g_assert_nonnull(strstr(warning, "cannot be moved aside"));
	}
	g_assert_cmpint(g_unlink(file_dir), ==, 0);

	/* A read-only directory stops only an unprivileged process. */
	if (geteuid() != 0) {
		g_assert_cmpint(g_chmod(fx->dir, 0500), ==, 0);
		g_assert_cmpint(state_store_save(fx->dir, big), ==, -EACCES);
		g_assert_cmpint(g_chmod(fx->dir, 0700), ==, 0);
		assert_only_file(fx->dir, "work.state");
		{
			g_autoptr(state_account) back = load_ok(fx->dir, "work");

			assert_state_equal(old, back);
		}
	} else {
		g_test_message("running as root: read-only directory case skipped");
	}
}

static void test_permissions(struct fixture *fx, gconstpointer data)
{
	g_autoptr(state_account) st = sample_state("work");
	g_autofree char *dir = g_build_filename(fx->dir, "state", "imapwatch", NULL);
	g_autofree char *path = state_path(dir, "work");
	mode_t old_umask;
	struct stat sb;
	int r;

	(void)data;
	/* With no umask at all the modes must still be private. */
	old_umask = umask(0);
	r = state_store_save(dir, st);
	umask(old_umask);
	g_assert_cmpint(r, ==, 0);
	g_assert_cmpint(g_stat(dir, &sb), ==, 0);
	g_assert_cmpint(sb.st_mode & 07777, ==, 0700);
	g_assert_cmpint(g_stat(path, &sb), ==, 0);
	g_assert_true(S_ISREG(sb.st_mode));
	g_assert_cmpint(sb.st_mode & 07777, ==, 0600);
	/* Overwriting keeps 0600 too. */
	old_umask = umask(0);
	r = state_store_save(dir, st);
	umask(old_umask);
	g_assert_cmpint(r, ==, 0);
	g_assert_cmpint(g_stat(path, &sb), ==, 0);
	g_assert_cmpint(sb.st_mode & 07777, ==, 0600);
}

/* N4: the fast save is what the next load finds; a durable save makes the
 * fast file agree; a torn fast file leaves the durable one in charge, with
 * no warning and nothing set aside. */
static void test_fast(struct fixture *fx, gconstpointer data)
{
	g_autoptr(state_account) st = sample_state("acct");
	g_autofree char *path = state_path(fx->dir, "acct");
	g_autofree char *fast = g_strconcat(path, ".fast", NULL);
	struct state_folder *f;

	(void)data;
	g_assert_cmpint(state_store_save_fast(fx->dir, st), ==, 0); /* makes the dir */
	g_assert_true(g_file_test(fast, G_FILE_TEST_IS_REGULAR));
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	{
		g_autoptr(state_account) back = load_ok(fx->dir, "acct");

		assert_state_equal(st, back);
	}
	g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
	f = st->folders->pdata[0];
	f->watermark += 100; /* a longer file, then a shorter one, in place */
	add_folder(st, "Later", 9, 10, 11, 12, NULL, 0);
	g_assert_cmpint(state_store_save_fast(fx->dir, st), ==, 0);
	g_ptr_array_remove_index(st->folders, st->folders->len - 1);
	g_assert_cmpint(state_store_save_fast(fx->dir, st), ==, 0);
	{
		g_autoptr(state_account) back = load_ok(fx->dir, "acct");

		assert_state_equal(st, back);
	}
	/* Torn: the durable file, one watermark behind. */
	write_bytes(fast, "imapwatch-state 2\nacc", 22);
	{
		g_autoptr(state_account) back = load_ok(fx->dir, "acct");
		const struct state_folder *b = back->folders->pdata[0];

		g_assert_cmpuint(b->watermark, ==, f->watermark - 100);
	}
	g_assert_cmpuint(count_with_infix(fx->dir, ".corrupt-"), ==, 0);
	/* A durable save leaves both alike. */
	g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
	{
		gsize a_len = 0;
		gsize b_len = 0;
		g_autofree char *a = read_bytes(path, &a_len);
		g_autofree char *b = read_bytes(fast, &b_len);

		g_assert_cmpmem(a, a_len, b, b_len);
	}
}

static void test_prune(struct fixture *fx, gconstpointer data)
{
	static const char *const accounts[] = {"a", "b", "c d", "."};
	static const char *const keep[] = {"a", "c d", "not there", "x/y", NULL};
	static const char *const others[] = {
	    "notes.txt", "README", "b.state~", "b.state.corrupt-x",    "b.state.corrupt-",
	    "%zz.state", ".state", "b.STATE",  "a.state.tmp-leftover", "b.state.tmp-12345678",
	};
	static const char *const expected[] = {
	    "README",           "a.state",           "a.state.fast",     "b.STATE",
	    "b.state.corrupt-", "b.state.corrupt-x", "b.state~",         ".state",
	    "%zz.state",        "c%20d.state",       "c%20d.state.fast", "c%20d.state.corrupt-2",
	    "notes.txt",
	};
	g_autofree char *nowhere = g_build_filename(fx->dir, "nowhere", NULL);
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(GPtrArray) want = g_ptr_array_new();

	(void)data;
	for (guint i = 0; i < G_N_ELEMENTS(accounts); i++) {
		g_autoptr(state_account) st = sample_state(accounts[i]);

		g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
	}
	for (guint i = 0; i < G_N_ELEMENTS(others); i++) {
		g_autofree char *p = g_build_filename(fx->dir, others[i], NULL);

		write_bytes(p, "x", 1);
	}
	{
		static const char *const corrupt[] = {"b.state.corrupt-1", "b.state.corrupt-1.2",
		                                      "%2E.state.corrupt-1",
		                                      "c%20d.state.corrupt-2"};

		for (guint i = 0; i < G_N_ELEMENTS(corrupt); i++) {
			g_autofree char *p = g_build_filename(fx->dir, corrupt[i], NULL);

			write_bytes(p, "x", 1);
		}
	}
	g_assert_cmpint(state_store_prune(fx->dir, keep), ==, 0);
	names = dir_names(fx->dir);
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		g_ptr_array_add(want, (char *)expected[i]);
	}
	g_ptr_array_sort(want, compare_names);
	g_assert_cmpuint(names->len, ==, want->len);
	for (guint i = 0; i < names->len; i++) {
		g_assert_cmpstr(names->pdata[i], ==, want->pdata[i]);
	}
	{
		g_autoptr(state_account) a = load_ok(fx->dir, "a");

		g_assert_cmpuint(a->folders->len, ==, 3);
	}
	/* NULL keeps nothing of ours. */
	g_assert_cmpint(state_store_prune(fx->dir, NULL), ==, 0);
	g_assert_cmpuint(count_with_infix(fx->dir, "a.state"), ==, 0);
	g_assert_cmpuint(count_with_infix(fx->dir, "notes.txt"), ==, 1);
	g_assert_cmpint(state_store_prune(nowhere, keep), ==, 0);
}

static void test_prune_folders(void)
{
	g_autoptr(state_account) st = sample_state("work");
	static const char *const keep[] = {"INBOX", "[Gmail]/All Mail", "Other", NULL};

	g_assert_cmpuint(state_account_prune_folders(st, keep), ==, 1);
	g_assert_cmpuint(st->folders->len, ==, 2);
	g_assert_nonnull(state_account_get_folder(st, "INBOX", false));
	g_assert_null(state_account_get_folder(st, "Lists/dev team", false));
	g_assert_nonnull(state_account_get_folder(st, "[Gmail]/All Mail", false));
	g_assert_null(state_account_get_folder(st, "Other", false));
	g_assert_cmpuint(state_account_prune_folders(st, NULL), ==, 2);
	g_assert_cmpuint(st->folders->len, ==, 0);
}

static void test_shown_bound(struct fixture *fx, gconstpointer data)
{
	g_autoptr(state_account) st = state_account_new("work");
	g_autoptr(state_account) back = NULL;
	struct state_folder *scattered = state_account_get_folder(st, "scattered", true);
	struct state_folder *run = state_account_get_folder(st, "run", true);
	struct state_folder *exact = state_account_get_folder(st, "exact", true);
	const struct state_folder *f;
	const guint extra = 50;

	(void)data;
	/* Even UIDs: no ranges, so the file holds 10,000 separate items. */
	for (guint i = 1; i <= STATE_FORMAT_SHOWN_MAX + extra; i++) {
		state_folder_shown_add(scattered, 2 * i);
		state_folder_shown_add(run, i);
	}
	for (guint i = 1; i <= STATE_FORMAT_SHOWN_MAX; i++) {
		state_folder_shown_add(exact, 4000000000u + 3 * i);
	}
	g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
	/* Saving does not change the caller's state. */
	g_assert_cmpuint(scattered->shown->len, ==, STATE_FORMAT_SHOWN_MAX + extra);
	back = load_ok(fx->dir, "work");

	f = state_account_get_folder(back, "scattered", false);
	g_assert_cmpuint(f->shown->len, ==, STATE_FORMAT_SHOWN_MAX);
	g_assert_cmpuint(g_array_index(f->shown, uint32_t, 0), ==, 2 * (extra + 1));
	g_assert_cmpuint(g_array_index(f->shown, uint32_t, f->shown->len - 1), ==,
	                 2 * (STATE_FORMAT_SHOWN_MAX + extra));

	f = state_account_get_folder(back, "run", false);
	g_assert_cmpuint(f->shown->len, ==, STATE_FORMAT_SHOWN_MAX);
	g_assert_cmpuint(g_array_index(f->shown, uint32_t, 0), ==, extra + 1);

	f = state_account_get_folder(back, "exact", false);
	g_assert_cmpuint(f->shown->len, ==, STATE_FORMAT_SHOWN_MAX);
	g_assert_cmpmem(f->shown->data, f->shown->len * sizeof(uint32_t), exact->shown->data,
	                exact->shown->len * sizeof(uint32_t));
}

static void test_shown_helpers(void)
{
	g_autoptr(state_account) st = state_account_new("work");
	struct state_folder *f = state_account_get_folder(st, "INBOX", true);
	static const uint32_t expected[] = {1, 5, 7, 4294967295u};

	g_assert_true(state_account_get_folder(st, "INBOX", true) == f);
	g_assert_true(state_folder_shown_add(f, 7));
	g_assert_true(state_folder_shown_add(f, 4294967295u));
	g_assert_true(state_folder_shown_add(f, 1));
	g_assert_true(state_folder_shown_add(f, 5));
	g_assert_true(state_folder_shown_add(f, 3));
	g_assert_false(state_folder_shown_add(f, 5));
	g_assert_false(state_folder_shown_add(f, 0));
	g_assert_true(state_folder_shown_remove(f, 3));
	g_assert_false(state_folder_shown_remove(f, 3));
	g_assert_false(state_folder_shown_remove(f, 2));
	g_assert_cmpmem(f->shown->data, f->shown->len * sizeof(uint32_t), expected,
	                sizeof(expected));
}

static void test_save_invalid(struct fixture *fx, gconstpointer data)
{
	g_autofree char *too_long = g_strnfill(STATE_FORMAT_NAME_MAX + 1, 'n');
	g_autoptr(GPtrArray) names = NULL;
	uint32_t uid;

	(void)data;
	{
		g_autoptr(state_account) st = sample_state("work");
		struct state_folder *dup = g_new0(struct state_folder, 1);

		dup->name = g_strdup("INBOX");
		dup->shown = g_array_new(FALSE, FALSE, sizeof(uint32_t));
		g_ptr_array_add(st->folders, dup);
		g_assert_cmpint(state_store_save(fx->dir, st), ==, -EINVAL);
	}
	{
		g_autoptr(state_account) st = sample_state("work");
		struct state_folder *f = state_account_get_folder(st, "INBOX", false);

		uid = 1;
		g_array_append_val(f->shown, uid);
		g_assert_cmpint(state_store_save(fx->dir, st), ==, -EINVAL);
	}
	{
		g_autoptr(state_account) st = state_account_new("work");
		struct state_folder *f = state_account_get_folder(st, "INBOX", true);

		uid = 0;
		g_array_append_val(f->shown, uid);
		g_assert_cmpint(state_store_save(fx->dir, st), ==, -EINVAL);
	}
	{
		g_autoptr(state_account) st = state_account_new("work");

		state_account_get_folder(st, "", true);
		g_assert_cmpint(state_store_save(fx->dir, st), ==, -EINVAL);
	}
	{
		g_autoptr(state_account) st = state_account_new("work");

		state_account_get_folder(st, "bad \xff utf-8", true);
		g_assert_cmpint(state_store_save(fx->dir, st), ==, -EINVAL);
	}
	{
		g_autoptr(state_account) st = state_account_new("work");

		state_account_get_folder(st, too_long, true);
		g_assert_cmpint(state_store_save(fx->dir, st), ==, -ENAMETOOLONG);
	}
	/* An "idle" line that could not be read back. */
	static const guint idle[][2] = {{298, 0}, {0, 238}, {238, 238}, {200, 238}, {86401, 238}};
	for (guint i = 0; i < G_N_ELEMENTS(idle); i++) {
		g_autoptr(state_account) st = sample_state("work");

		st->idle_lifetime = idle[i][0];
		st->idle_refresh = idle[i][1];
		g_assert_cmpint(state_store_save(fx->dir, st), ==, -EINVAL);
	}
	names = dir_names(fx->dir);
	g_assert_cmpuint(names->len, ==, 0);
}

static void test_too_big_to_save(struct fixture *fx, gconstpointer data)
{
	g_autoptr(state_account) st = state_account_new("work");

	(void)data;
	/* 60 folders with 10,000 scattered UIDs each is well over 4 MiB. */
	for (guint i = 0; i < 60; i++) {
		g_autofree char *name = g_strdup_printf("f%u", i);
		struct state_folder *f = state_account_get_folder(st, name, true);

		g_array_set_size(f->shown, STATE_FORMAT_SHOWN_MAX);
		for (guint j = 0; j < STATE_FORMAT_SHOWN_MAX; j++) {
			g_array_index(f->shown, uint32_t, j) = 1000000000u + 2 * j;
		}
	}
	g_assert_cmpint(state_store_save(fx->dir, st), ==, -EFBIG);
	{
		g_autoptr(GPtrArray) names = dir_names(fx->dir);

		g_assert_cmpuint(names->len, ==, 0);
	}
}

int main(int argc, char **argv)
{
	/* No G_TEST_OPTION_ISOLATE_DIRS: nothing is written to the real XDG
	 * dirs, and GLib 2.74 leaks the strings it sets per test. */
	g_test_init(&argc, &argv, NULL);
	umask(022);

	g_test_add_func("/state-store/default-dir", test_default_dir);
	ADD("/state-store/round-trip", test_round_trip);
	ADD("/state-store/format-example", test_format_example);
	ADD("/state-store/idle", test_idle);
	ADD("/state-store/bad-names", test_bad_names);
	ADD("/state-store/missing", test_missing);
	ADD("/state-store/empty-account", test_empty_account);
	ADD("/state-store/atomic", test_atomic);
	ADD("/state-store/permissions", test_permissions);
	ADD("/state-store/prune", test_prune);
	ADD("/state-store/fast", test_fast);
	g_test_add_func("/state-store/prune-folders", test_prune_folders);
	ADD("/state-store/shown-bound", test_shown_bound);
	g_test_add_func("/state-store/shown-helpers", test_shown_helpers);
	ADD("/state-store/save-invalid", test_save_invalid);
	ADD("/state-store/too-big-to-save", test_too_big_to_save);
	return g_test_run();
}
