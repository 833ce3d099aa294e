/* SPDX-License-Identifier: MIT */
/*
 * State store and state format, through real files in a temp dir per test.
 * The damaged-file tests check the whole promise each time: load returns 0,
 * an empty state and a warning naming the file, and the file itself has
 * been moved to a ".corrupt-" name.
 */
#include "imapwatch/state-store.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

struct fixture {
	char *dir;
};

static void rm_rf(const char *path)
{
	GDir *d;
	const char *name;

	/* Tests make directories read-only; undo that before emptying. */
	(void)g_chmod(path, 0700);
	d = g_dir_open(path, 0, NULL);
	if (d) {
		while ((name = g_dir_read_name(d))) {
			g_autofree char *child = g_build_filename(path, name, NULL);

			rm_rf(child);
		}
		g_dir_close(d);
		g_assert_cmpint(g_rmdir(path), ==, 0);
	} else {
		g_assert_cmpint(g_remove(path), ==, 0);
	}
}

static void fx_setup(struct fixture *fx, gconstpointer data)
{
	GError *error = NULL;

	(void)data;
	fx->dir = g_dir_make_tmp("imapwatch-state-XXXXXX", &error);
	g_assert_no_error(error);
}

static void fx_teardown(struct fixture *fx, gconstpointer data)
{
	(void)data;
	rm_rf(fx->dir);
	g_free(fx->dir);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir. */
static GPtrArray *dir_names(const char *dir)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		g_ptr_array_add(names, g_strdup(name));
	}
	g_dir_close(d);
	g_ptr_array_sort(names, compare_names);
	return names;
}

static guint count_with_infix(const char *dir, const char *infix)
{
	g_autoptr(GPtrArray) names = dir_names(dir);
	guint n = 0;

	for (guint i = 0; i < names->len; i++) {
		if (strstr(names->pdata[i], infix)) {
			n++;
		}
	}
	return n;
}

static char *state_path(const char *dir, const char *account)
{
	g_autofree char *stem = NULL;
	g_autofree char *file = NULL;

	g_assert_cmpint(state_format_account_stem(account, &stem), ==, 0);
	file = g_strconcat(stem, ".state", NULL);
	return g_build_filename(dir, file, NULL);
}

static void write_bytes(const char *path, const char *data, gsize len)
{
	GError *error = NULL;

	g_file_set_contents(path, data, (gssize)len, &error);
	g_assert_no_error(error);
}

static char *read_bytes(const char *path, gsize *len)
{
	GError *error = NULL;
	char *data = NULL;

	g_file_get_contents(path, &data, len, &error);
	g_assert_no_error(error);
	return data;
}

static void add_folder(struct state_account *st, const char *name, uint32_t uidvalidity,
                       uint32_t watermark, uint32_t uidnext, uint64_t modseq, const uint32_t *shown,
                       guint n_shown)
{
	struct state_folder *f = state_account_get_folder(st, name, true);

	f->uidvalidity = uidvalidity;
	f->watermark = watermark;
	f->uidnext = uidnext;
	f->highestmodseq = modseq;
	for (guint i = 0; i < n_shown; i++) {
		g_assert_true(state_folder_shown_add(f, shown[i]));
	}
}

static struct state_account *sample_state(const char *account)
{
	static const uint32_t shown[] = {3, 4, 5, 9, 11, 12, 4294967295u};
	struct state_account *st = state_account_new(account);

	add_folder(st, "INBOX", 1700000001, 42, 43, 9071, shown, G_N_ELEMENTS(shown));
	add_folder(st, "Lists/dev team", 7, 0, 0, 0, NULL, 0);
	add_folder(st, "[Gmail]/All Mail", 4294967295u, 4294967295u, 4294967295u, G_MAXUINT64,
	           shown, 1);
	return st;
}

static void assert_state_equal(const struct state_account *a, const struct state_account *b)
{
	g_assert_cmpstr(a->name, ==, b->name);
	g_assert_cmpuint(a->folders->len, ==, b->folders->len);
	for (guint i = 0; i < a->folders->len; i++) {
		const struct state_folder *x = a->folders->pdata[i];
		const struct state_folder *y = b->folders->pdata[i];

		g_assert_cmpstr(x->name, ==, y->name);
		g_assert_cmpuint(x->uidvalidity, ==, y->uidvalidity);
		g_assert_cmpuint(x->watermark, ==, y->watermark);
		g_assert_cmpuint(x->uidnext, ==, y->uidnext);
		g_assert_cmpuint(x->highestmodseq, ==, y->highestmodseq);
		g_assert_cmpmem(x->shown->data, x->shown->len * sizeof(uint32_t), y->shown->data,
		                y->shown->len * sizeof(uint32_t));
	}
}

static struct state_account *load_ok(const char *dir, const char *account)
{
	struct state_account *st = NULL;
	char *warning = NULL;

	g_assert_cmpint(state_store_load(dir, account, &st, &warning), ==, 0);
	g_assert_cmpstr(warning, ==, NULL);
	g_assert_nonnull(st);
	return st;
}

/* The file of account is unusable: it must be set aside, with a warning
 * naming it (and containing reason, if given), and an empty state. */
static void assert_set_aside(const char *dir, const char *account, const char *reason)
{
	g_autofree char *path = state_path(dir, account);
	g_autofree char *warning = NULL;
	g_autoptr(state_account) st = NULL;

	g_assert_cmpint(state_store_load(dir, account, &st, &warning), ==, 0);
	g_assert_nonnull(warning);
	g_assert_nonnull(st);
	if (!strstr(warning, path) || (reason && !strstr(warning, reason))) {
		g_error("warning '%s' lacks '%s' or '%s'", warning, path, reason ? reason : "");
	}
	g_assert_cmpstr(st->name, ==, account);
	g_assert_cmpuint(st->folders->len, ==, 0);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(count_with_infix(dir, ".state.corrupt-"), >=, 1);
	g_assert_nonnull(strstr(warning, ".state.corrupt-"));
}

static void remove_corrupt_files(const char *dir)
{
	g_autoptr(GPtrArray) names = dir_names(dir);

	for (guint i = 0; i < names->len; i++) {
		if (strstr(names->pdata[i], ".corrupt-")) {
			g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);

			rm_rf(path);
		}
	}
}

/* body plus its "end" line, as the writer would produce. */
static GString *with_checksum(const char *body, gsize len)
{
	GString *s = g_string_new_len(body, (gssize)len);
	g_autofree char *sum =
	    g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)body, len);

	g_string_append_printf(s, "end sha256 %s\n", sum);
	return s;
}

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
	g_assert_cmpuint(names->len, ==, G_N_ELEMENTS(accounts));
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
	static const char body[] = "imapwatch-state 1\n"
	                           "account work\n"
	                           "folder Lists/dev%20team\n"
	                           "uidvalidity 1700000001\n"
	                           "uidnext 43\n"
	                           "watermark 42\n"
	                           "highestmodseq 9071\n"
	                           "shown 17,40:42\n"
	                           "folder 100%25\n"
	                           "uidvalidity 0\n"
	                           "uidnext 0\n"
	                           "watermark 0\n"
	                           "highestmodseq 0\n";
	gsize len;

	(void)data;
	add_folder(st, "Lists/dev team", 1700000001, 42, 43, 9071, shown, G_N_ELEMENTS(shown));
	state_account_get_folder(st, "100%", true);
	g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
	text = read_bytes(path, &len);
	expected = with_checksum(body, strlen(body));
	g_assert_cmpstr(text, ==, expected->str);
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

/* Every proper prefix of a good file is set aside; only the whole file
 * loads. */
static void test_truncated(struct fixture *fx, gconstpointer data)
{
	g_autoptr(state_account) st = sample_state("work");
	g_autofree char *path = state_path(fx->dir, "work");
	g_autofree char *good = NULL;
	gsize len;

	(void)data;
	g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
	good = read_bytes(path, &len);
	for (gsize n = 0; n < len; n++) {
		write_bytes(path, good, n);
		assert_set_aside(fx->dir, "work", NULL);
		remove_corrupt_files(fx->dir);
	}
	write_bytes(path, good, len);
	{
		g_autoptr(state_account) back = load_ok(fx->dir, "work");

		assert_state_equal(st, back);
	}
}

static void test_flipped(struct fixture *fx, gconstpointer data)
{
	g_autoptr(state_account) st = sample_state("work");
	g_autofree char *path = state_path(fx->dir, "work");
	g_autofree char *good = NULL;
	static const unsigned char masks[] = {0x01, 0x20, 0x80};
	gsize len;

	(void)data;
	g_assert_cmpint(state_store_save(fx->dir, st), ==, 0);
	good = read_bytes(path, &len);
	for (gsize i = 0; i < len; i++) {
		for (guint m = 0; m < G_N_ELEMENTS(masks); m++) {
			g_autofree char *bad = g_memdup2(good, len);

			bad[i] = (char)(bad[i] ^ masks[m]);
			write_bytes(path, bad, len);
			assert_set_aside(fx->dir, "work", NULL);
			remove_corrupt_files(fx->dir);
		}
	}
}

static void test_checksum(struct fixture *fx, gconstpointer data)
{
	g_autofree char *path = state_path(fx->dir, "work");
	static const char body[] = "imapwatch-state 1\naccount work\n";
	static const char good_body[] = "imapwatch-state 1\naccount work\nfolder INBOX\n"
	                                "uidvalidity 1\nuidnext 5\nwatermark 4\nhighestmodseq 0\n";
	g_autoptr(GString) text = with_checksum(body, strlen(body));
	g_autoptr(GString) other = with_checksum(good_body, strlen(good_body));

	(void)data;
	/* Valid syntax, checksum of something else. */
	g_string_truncate(text, strlen(body));
	g_string_append(text, other->str + strlen(good_body));
	write_bytes(path, text->str, text->len);
	assert_set_aside(fx->dir, "work", "checksum mismatch");

	/* Upper-case hex is not what the writer produces. */
	g_string_assign(text, other->str);
	for (gsize i = strlen(good_body) + strlen("end sha256 "); i < text->len; i++) {
		text->str[i] = g_ascii_toupper(text->str[i]);
	}
	write_bytes(path, text->str, text->len);
	assert_set_aside(fx->dir, "work", "truncated");

	/* Anything after the end line. */
	g_string_assign(text, other->str);
	g_string_append(text, "x\n");
	write_bytes(path, text->str, text->len);
	assert_set_aside(fx->dir, "work", "truncated");
	g_string_assign(text, other->str);
	g_string_append(text, "\n");
	write_bytes(path, text->str, text->len);
	assert_set_aside(fx->dir, "work", "truncated");

	/* The sanity check: this body with its own checksum is fine. */
	write_bytes(path, other->str, other->len);
	{
		g_autoptr(state_account) st = load_ok(fx->dir, "work");
		const struct state_folder *f = state_account_get_folder(st, "INBOX", false);

		g_assert_nonnull(f);
		g_assert_cmpuint(f->watermark, ==, 4);
		g_assert_cmpuint(f->uidnext, ==, 5);
	}
}

static void test_version(struct fixture *fx, gconstpointer data)
{
	g_autofree char *path = state_path(fx->dir, "work");
	static const char v2[] = "imapwatch-state 2\naccount work\nsomething new\n";
	g_autoptr(GString) text = with_checksum(v2, strlen(v2));

	(void)data;
	write_bytes(path, text->str, text->len);
	assert_set_aside(fx->dir, "work", "unknown format version 2");
	write_bytes(path, "imapwatch-state 99999\n", 22);
	assert_set_aside(fx->dir, "work", "unknown format version 99999");
	write_bytes(path, "[state]\nwatermark=4\n", 20);
	assert_set_aside(fx->dir, "work", "not an imapwatch state file");
	write_bytes(path, "imapwatch-state 01\n", 19);
	assert_set_aside(fx->dir, "work", "not an imapwatch state file");
	write_bytes(path, "", 0);
	assert_set_aside(fx->dir, "work", "empty");
}

/* Files with a correct checksum whose content is wrong: each is set aside
 * with the reason given. */
static void test_bad_content(struct fixture *fx, gconstpointer data)
{
#define H "imapwatch-state 1\naccount work\n"
#define F "folder INBOX\nuidvalidity 1\nuidnext 5\nwatermark 4\nhighestmodseq 0\n"
	static const struct {
		const char *body;
		const char *reason;
	} cases[] = {
	    {"imapwatch-state 1\n", "no 'account' line"},
	    {"imapwatch-state 1\naccount home\n", "another account"},
	    {"imapwatch-state 1\naccount work%20\n", "another account"},
	    {"imapwatch-state 1\nfolder INBOX\n", "expected 'account'"},
	    {H F F, "line 8: folder listed twice"},
	    {H "folder INBOX\nuidvalidity 1\nuidnext 5\nwatermark 4\n", "lacks 'highestmodseq'"},
	    {H "folder INBOX\nuidvalidity 1\n" F, "lacks 'uidnext'"},
	    {H "folder INBOX\nuidnext 5\nuidvalidity 1\n", "expected 'uidvalidity'"},
	    {H "uidvalidity 1\n", "expected 'folder'"},
	    {H "folder INBOX\nuidvalidity 04\n", "bad number for 'uidvalidity'"},
	    {H "folder INBOX\nuidvalidity 4294967296\n", "bad number"},
	    {H "folder INBOX\nuidvalidity 1\nuidnext 5\nwatermark 4\n"
	       "highestmodseq 18446744073709551616\n",
	     "bad number for 'highestmodseq'"},
	    {H "folder INBOX\nuidvalidity -1\n", "bad number"},
	    {H "folder INBOX\nuidvalidity +1\n", "bad number"},
	    {H "folder INBOX\nuidvalidity  1\n", "bad number"},
	    {H "folder INBOX\nuidvalidity 1 \n", "bad number"},
	    {H "folder INBOX\nuidvalidity 0x1\n", "bad number"},
	    {H "folder INBOX\nuidvalidity 1\r\n", "bad number"},
	    {H F "colour blue\n", "unknown key"},
	    {H F "shown 5:3\n", "bad UID range"},
	    {H F "shown 5:5\n", "bad UID range"},
	    {H F "shown 5:\n", "bad UID range"},
	    {H F "shown :5\n", "bad UID"},
	    {H F "shown 1:2:3\n", "bad UID range"},
	    {H F "shown 5,3\n", "ascending"},
	    {H F "shown 3,4\n", "ascending"},
	    {H F "shown 1:3,3\n", "ascending"},
	    {H F "shown 5\nshown 3\n", "line 9: 'shown' UIDs not in ascending"},
	    {H F "shown 0\n", "ascending"},
	    {H F "shown 0:3\n", "ascending"},
	    {H F "shown 1,,3\n", "bad UID"},
	    {H F "shown 1,\n", "bad UID"},
	    {H F "shown ,1\n", "bad UID"},
	    {H F "shown 4294967296\n", "bad UID"},
	    {H F "shown 1:10001\n", "more than 10000"},
	    {H F "shown 1:4294967295\n", "more than 10000"},
	    {H F "shown 1:6000\nshown 6002:12000\n", "line 9: more than 10000"},
	    {H F "shown\n", "not a '<key> <value>' line"},
	    {H F "shown \n", "not a '<key> <value>' line"},
	    {H "\n", "line 3: not a '<key> <value>' line"},
	    {H " folder INBOX\n", "not a '<key> <value>' line"},
	    {H "folder a%2Fb\n", "bad folder name"},
	    {H "folder a%2fb\n", "bad folder name"},
	    {H "folder a%G0\n", "bad folder name"},
	    {H "folder a%2\n", "bad folder name"},
	    {H "folder a%\n", "bad folder name"},
	    {H "folder a%00b\n", "bad folder name"},
	    {H "folder a\tb\n", "bad folder name"},
	    {H "folder a b\n", "bad folder name"},
	    {H "folder INBOX\r\n", "bad folder name"},
	    {H "folder \xff\xfe\n", "bad folder name"},
	    {H "folder \xc3\n", "bad folder name"},
	    {H "end sha256 0000000000000000000000000000000000000000000000000000000000000000\n",
	     "expected 'folder'"},
	};
#undef H
#undef F
	g_autofree char *path = state_path(fx->dir, "work");

	(void)data;
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GString) text = with_checksum(cases[i].body, strlen(cases[i].body));

		write_bytes(path, text->str, text->len);
		assert_set_aside(fx->dir, "work", cases[i].reason);
		remove_corrupt_files(fx->dir);
	}
}

static void test_bad_bytes(struct fixture *fx, gconstpointer data)
{
	g_autofree char *path = state_path(fx->dir, "work");
	static const char nul[] = "imapwatch-state 1\naccount work\nfolder IN\0BOX\n";
	g_autoptr(GString) text = with_checksum(nul, sizeof(nul) - 1);
	g_autoptr(GString) line = g_string_new("imapwatch-state 1\naccount work\nfolder ");
	g_autofree char *name_too_long = g_strnfill(STATE_FORMAT_NAME_MAX + 1, 'n');
	g_autoptr(GString) long_name = g_string_new("imapwatch-state 1\naccount work\nfolder ");

	(void)data;
	write_bytes(path, text->str, text->len);
	assert_set_aside(fx->dir, "work", "bad folder name");

	/* A line over the limit is refused before it is looked at. */
	for (guint i = 0; i < 3 * STATE_FORMAT_NAME_MAX; i++) {
		g_string_append(line, "%25");
	}
	g_string_append(line,
	                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
	g_string_free(text, TRUE);
	text = with_checksum(line->str, line->len);
	write_bytes(path, text->str, text->len);
	assert_set_aside(fx->dir, "work", "line too long");

	g_string_append_printf(long_name, "%s\n", name_too_long);
	g_string_free(text, TRUE);
	text = with_checksum(long_name->str, long_name->len);
	write_bytes(path, text->str, text->len);
	assert_set_aside(fx->dir, "work", "bad folder name");

	/* A first line that never ends. */
	g_string_set_size(line, 100000);
	memset(line->str, 'i', line->len);
	write_bytes(path, line->str, line->len);
	assert_set_aside(fx->dir, "work", "not an imapwatch state file");
	remove_corrupt_files(fx->dir);

	/* Random garbage, with and without a valid header and checksum. */
	for (guint i = 0; i < 300; i++) {
		gsize len = (gsize)g_test_rand_int_range(0, 2000);
		g_autoptr(GString) junk = g_string_new(i % 2 ? "imapwatch-state 1\n" : "");
		g_autoptr(GString) file = NULL;

		for (gsize j = 0; j < len; j++) {
			/* Mostly format characters, to get past the first checks. */
			static const char alphabet[] = "0123456789:, \n%folder shown";

			g_string_append_c(
			    junk, i % 3 ? alphabet[g_test_rand_int_range(0, sizeof(alphabet) - 1)]
			                : (char)g_test_rand_int_range(0, 256));
		}
		file = i % 4 < 2 ? with_checksum(junk->str, junk->len)
		                 : g_string_new_len(junk->str, (gssize)junk->len);
		write_bytes(path, file->str, file->len);
		assert_set_aside(fx->dir, "work", NULL);
		remove_corrupt_files(fx->dir);
	}
}

static void test_huge(struct fixture *fx, gconstpointer data)
{
	g_autofree char *path = state_path(fx->dir, "work");
	gsize len = STATE_FORMAT_FILE_MAX + 1;
	g_autofree char *big = g_malloc(len);

	(void)data;
	memset(big, 'x', len);
	write_bytes(path, big, len);
	assert_set_aside(fx->dir, "work", "larger than");
}

static void test_not_regular(struct fixture *fx, gconstpointer data)
{
	g_autofree char *path = state_path(fx->dir, "work");

	(void)data;
	g_assert_cmpint(g_mkdir(path, 0700), ==, 0);
	assert_set_aside(fx->dir, "work", "not a regular file");
	remove_corrupt_files(fx->dir);
	/* A FIFO must not block the load. */
	g_assert_cmpint(mkfifo(path, 0600), ==, 0);
	assert_set_aside(fx->dir, "work", "not a regular file");
}

/* Older corrupt files beyond three are deleted, the newest three stay. */
static void test_corrupt_keep(struct fixture *fx, gconstpointer data)
{
	g_autofree char *path = state_path(fx->dir, "work");
	g_autoptr(GPtrArray) names = NULL;
	g_autofree char *other = state_path(fx->dir, "home");

	(void)data;
	/* Another account's corrupt file is not counted or touched. */
	write_bytes(other, "junk", 4);
	assert_set_aside(fx->dir, "home", NULL);
	for (guint i = 0; i < 6; i++) {
		g_autofree char *junk = g_strdup_printf("garbage %u", i);

		write_bytes(path, junk, strlen(junk));
		assert_set_aside(fx->dir, "work", NULL);
		g_assert_cmpuint(count_with_infix(fx->dir, "work.state.corrupt-"), ==,
		                 MIN(i + 1, STATE_STORE_CORRUPT_KEEP));
	}
	g_assert_cmpuint(count_with_infix(fx->dir, "home.state.corrupt-"), ==, 1);
	names = dir_names(fx->dir);
	{
		g_autoptr(GString) kept = g_string_new(NULL);

		for (guint i = 0; i < names->len; i++) {
			g_autofree char *p = g_build_filename(fx->dir, names->pdata[i], NULL);
			g_autofree char *text = NULL;
			gsize len;

			if (!g_str_has_prefix(names->pdata[i], "work.")) {
				continue;
			}
			text = read_bytes(p, &len);
			g_string_append_printf(kept, "%s;", text);
		}
		/* Whatever order the names sort in, the three newest remain. */
		g_assert_nonnull(strstr(kept->str, "garbage 3;"));
		g_assert_nonnull(strstr(kept->str, "garbage 4;"));
		g_assert_nonnull(strstr(kept->str, "garbage 5;"));
		g_assert_cmpuint(kept->len, ==, strlen("garbage 3;") * 3);
	}
}

static void assert_only_file(const char *dir, const char *name)
{
	g_autoptr(GPtrArray) names = dir_names(dir);

	g_assert_cmpuint(names->len, ==, 1);
	g_assert_cmpstr(names->pdata[0], ==, name);
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

static void test_prune(struct fixture *fx, gconstpointer data)
{
	static const char *const accounts[] = {"a", "b", "c d", "."};
	static const char *const keep[] = {"a", "c d", "not there", "x/y", NULL};
	static const char *const others[] = {
	    "notes.txt", "README", "b.state~", "b.state.corrupt-x",    "b.state.corrupt-",
	    "%zz.state", ".state", "b.STATE",  "a.state.tmp-leftover", "b.state.tmp-12345678",
	};
	static const char *const expected[] = {
	    "README",    "a.state", "b.STATE",   "b.state.corrupt-", "b.state.corrupt-x",
	    "b.state~",  ".state",  "%zz.state", "c%20d.state",      "c%20d.state.corrupt-2",
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

#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fx_setup, fn, fx_teardown)

int main(int argc, char **argv)
{
	/* No G_TEST_OPTION_ISOLATE_DIRS: nothing is written to the real XDG
	 * dirs, and GLib 2.74 leaks the strings it sets per test. */
	g_test_init(&argc, &argv, NULL);
	umask(022);

	g_test_add_func("/state-store/default-dir", test_default_dir);
	ADD("/state-store/round-trip", test_round_trip);
	ADD("/state-store/format-example", test_format_example);
	ADD("/state-store/bad-names", test_bad_names);
	ADD("/state-store/missing", test_missing);
	ADD("/state-store/empty-account", test_empty_account);
	ADD("/state-store/truncated", test_truncated);
	ADD("/state-store/flipped", test_flipped);
	ADD("/state-store/checksum", test_checksum);
	ADD("/state-store/version", test_version);
	ADD("/state-store/bad-content", test_bad_content);
	ADD("/state-store/bad-bytes", test_bad_bytes);
	ADD("/state-store/huge", test_huge);
	ADD("/state-store/not-regular", test_not_regular);
	ADD("/state-store/corrupt-keep", test_corrupt_keep);
	ADD("/state-store/atomic", test_atomic);
	ADD("/state-store/permissions", test_permissions);
	ADD("/state-store/prune", test_prune);
	g_test_add_func("/state-store/prune-folders", test_prune_folders);
	ADD("/state-store/shown-bound", test_shown_bound);
	g_test_add_func("/state-store/shown-helpers", test_shown_helpers);
	ADD("/state-store/save-invalid", test_save_invalid);
	ADD("/state-store/too-big-to-save", test_too_big_to_save);
	return g_test_run();
}
