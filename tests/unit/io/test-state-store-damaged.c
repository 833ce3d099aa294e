/* SPDX-License-Identifier: MIT */
/*
 * Damaged state files, through real files in a temp dir per test. The
 * damaged-file tests check the whole promise each time: load returns 0,
 * an empty state and a warning naming the file, and the file itself has
 * been moved to a ".corrupt-" name.
 */
#include "state-store-harness.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

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
	static const char v4[] = "imapwatch-state 4\naccount work\nsomething new\n";
	static const char v1[] = "imapwatch-state 1\naccount work\nfolder INBOX\nuidvalidity 1\n"
	                         "uidnext 5\nwatermark 4\nhighestmodseq 0\nshown 3\n";
	static const char v1_sets[] = "imapwatch-state 1\naccount work\nfolder INBOX\n"
	                              "uidvalidity 1\nuidnext 5\nwatermark 4\nhighestmodseq 0\n"
	                              "sets 0 0\n";
	static const char v3[] = "imapwatch-state 3\naccount work\nidle 298 238\nfolder INBOX\n"
	                         "uidvalidity 1\nuidnext 5\nwatermark 4\nhighestmodseq 0\n";
	static const char v2_idle[] = "imapwatch-state 2\naccount work\nidle 298 238\n";
	g_autoptr(GString) text = with_checksum(v4, strlen(v4));
	g_autoptr(GString) idle = with_checksum(v3, strlen(v3));
	g_autoptr(GString) idle_v2 = with_checksum(v2_idle, strlen(v2_idle));
	g_autoptr(GString) old = with_checksum(v1, strlen(v1));
	g_autoptr(GString) old_sets = with_checksum(v1_sets, strlen(v1_sets));

	(void)data;
	write_bytes(path, text->str, text->len);
	assert_set_aside(fx->dir, "work", "unknown format version 4");
	/* Version 3 adds what was learnt of the server's IDLE (I9). */
	write_bytes(path, idle->str, idle->len);
	{
		g_autoptr(state_account) st = load_ok(fx->dir, "work");
		const struct state_folder *f = st->folders->pdata[0];

		g_assert_cmpuint(st->idle_lifetime, ==, 298);
		g_assert_cmpuint(st->idle_refresh, ==, 238);
		g_assert_cmpuint(f->watermark, ==, 4);
	}
	write_bytes(path, idle_v2->str, idle_v2->len);
	assert_set_aside(fx->dir, "work", "line 3: expected 'folder'");
	/* Version 1, from before the sets, is still read; sets are not. */
	write_bytes(path, old->str, old->len);
	{
		g_autoptr(state_account) st = load_ok(fx->dir, "work");
		const struct state_folder *f = st->folders->pdata[0];

		g_assert_cmpuint(f->watermark, ==, 4);
		g_assert_null(f->all);
		g_assert_cmpuint(st->idle_refresh, ==, 0);
	}
	write_bytes(path, old_sets->str, old_sets->len);
	assert_set_aside(fx->dir, "work", "line 8: unknown key");
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
#define H  "imapwatch-state 2\naccount work\n"
#define H3 "imapwatch-state 3\naccount work\n"
#define F  "folder INBOX\nuidvalidity 1\nuidnext 5\nwatermark 4\nhighestmodseq 0\n"
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
	    {H F "uids 1\n", "unknown key"},
	    {H F "sets 1 0\nsets 1 0\n", "'sets' twice"},
	    {H F "sets 1\n", "bad counts for 'sets'"},
	    {H F "sets 2 0\nuids 1\n", "do not hold as many"},
	    {H F "sets 1 1\nuids 1\nunseen 2\n", "'unseen' names UIDs"},
	    {H F "sets 2 0\nuids 2,1\n", "not in ascending order"},
	    {H F "sets 3 0\nuids 1:2,3\n", "not in ascending order"},
	    {H F "sets 2 1\nunseen 1\nuids 1:2\n", "unknown key"},
	    {H F "sets 1 0\nuids 0\n", "'uids' UIDs not in ascending"},
	    {H F "sets 1 0\nuids 1\nshown 3\n", "unknown key"},
	    {H F "sets 1 0\nuids 1\n" F, "folder listed twice"},
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
	    {H3 "idle 298\n", "bad values for 'idle'"},
	    {H3 "idle 298 0\n", "bad values for 'idle'"},
	    {H3 "idle 0 0\n", "bad values for 'idle'"},
	    {H3 "idle 238 238\n", "bad values for 'idle'"},
	    {H3 "idle 238 298\n", "bad values for 'idle'"},
	    {H3 "idle 86401 238\n", "bad values for 'idle'"},
	    {H3 "idle 0298 238\n", "bad values for 'idle'"},
	    {H3 "idle 298  238\n", "bad values for 'idle'"},
	    {H3 "idle 298 238 1\n", "bad values for 'idle'"},
	    {H3 "idle 298 238\nidle 298 238\n", "line 4: expected 'folder'"},
	    {H3 F "idle 298 238\n", "unknown key"},
	    {H "end sha256 0000000000000000000000000000000000000000000000000000000000000000\n",
	     "expected 'folder'"},
	};
#undef H
#undef H3
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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	umask(022);

	ADD("/state-store/truncated", test_truncated);
	ADD("/state-store/flipped", test_flipped);
	ADD("/state-store/checksum", test_checksum);
	ADD("/state-store/version", test_version);
	ADD("/state-store/bad-content", test_bad_content);
	ADD("/state-store/bad-bytes", test_bad_bytes);
	ADD("/state-store/huge", test_huge);
	ADD("/state-store/not-regular", test_not_regular);
	ADD("/state-store/corrupt-keep", test_corrupt_keep);
	return g_test_run();
}
