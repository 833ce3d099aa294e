/* SPDX-License-Identifier: MIT */
#include "state-store-harness.h"

#include <string.h>

#include <glib/gstdio.h>

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

void fx_setup(struct fixture *fx, gconstpointer data)
{
	GError *error = NULL;

	(void)data;
	fx->dir = g_dir_make_tmp("imapwatch-state-XXXXXX", &error);
	g_assert_no_error(error);
}

void fx_teardown(struct fixture *fx, gconstpointer data)
{
	(void)data;
	rm_rf(fx->dir);
	g_free(fx->dir);
}

int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *dir_names(const char *dir)
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

guint count_with_infix(const char *dir, const char *infix)
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

char *state_path(const char *dir, const char *account)
{
	g_autofree char *stem = NULL;
	g_autofree char *file = NULL;

	g_assert_cmpint(state_format_account_stem(account, &stem), ==, 0);
	file = g_strconcat(stem, ".state", NULL);
	return g_build_filename(dir, file, NULL);
}

void write_bytes(const char *path, const char *data, gsize len)
{
	GError *error = NULL;

	g_file_set_contents(path, data, (gssize)len, &error);
	g_assert_no_error(error);
}

char *read_bytes(const char *path, gsize *len)
{
	GError *error = NULL;
	char *data = NULL;

	g_file_get_contents(path, &data, len, &error);
	g_assert_no_error(error);
	return data;
}

void add_folder(struct state_account *st, const char *name, uint32_t uidvalidity,
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

struct state_account *sample_state(const char *account)
{
	static const uint32_t shown[] = {3, 4, 5, 9, 11, 12, 4294967295u};
	struct state_account *st = state_account_new(account);

	add_folder(st, "INBOX", 1700000001, 42, 43, 9071, shown, G_N_ELEMENTS(shown));
	add_folder(st, "Lists/dev team", 7, 0, 0, 0, NULL, 0);
	add_folder(st, "[Gmail]/All Mail", 4294967295u, 4294967295u, 4294967295u, G_MAXUINT64,
	           shown, 1);
	{
		/* Sets as the compact mode keeps them, up to the highest UID;
		 * an empty unseen set is still a set. */
		g_autoptr(uidset) all = uidset_new();
		g_autoptr(uidset) unseen = uidset_new();

		g_assert_true(uidset_parse(all, "1:40,42", 10));
		g_assert_true(uidset_parse(unseen, "3,39:40", 10));
		state_folder_set_sets(st->folders->pdata[0], all, unseen);
		uidset_clear(all);
		uidset_clear(unseen);
		uidset_add_range(all, 1, 4294967295u);
		state_folder_set_sets(st->folders->pdata[2], all, unseen);
	}
	return st;
}

void assert_state_equal(const struct state_account *a, const struct state_account *b)
{
	g_assert_cmpstr(a->name, ==, b->name);
	g_assert_cmpuint(a->idle_lifetime, ==, b->idle_lifetime);
	g_assert_cmpuint(a->idle_refresh, ==, b->idle_refresh);
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
		g_assert_cmpint(x->all == NULL, ==, y->all == NULL);
		g_assert_cmpint(x->unseen == NULL, ==, y->unseen == NULL);
		g_assert_true(x->all == NULL || uidset_equal(x->all, y->all));
		g_assert_true(x->unseen == NULL || uidset_equal(x->unseen, y->unseen));
	}
}

struct state_account *load_ok(const char *dir, const char *account)
{
	struct state_account *st = NULL;
	char *warning = NULL;

	g_assert_cmpint(state_store_load(dir, account, &st, &warning), ==, 0);
	g_assert_cmpstr(warning, ==, NULL);
	g_assert_nonnull(st);
	return st;
}

void assert_set_aside(const char *dir, const char *account, const char *reason)
{
	g_autofree char *path = state_path(dir, account);
	g_autofree char *fast = g_strconcat(path, ".fast", NULL);
	g_autofree char *warning = NULL;
	g_autoptr(state_account) st = NULL;

	/* The durable file decides only when the fast one is not whole: torn,
	 * as a power cut in mid-write leaves it. */
	if (g_file_test(fast, G_FILE_TEST_EXISTS)) {
		write_bytes(fast, "imapwatch-state 2\naccount", 25);
	}

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

void remove_corrupt_files(const char *dir)
{
	g_autoptr(GPtrArray) names = dir_names(dir);

	for (guint i = 0; i < names->len; i++) {
		if (strstr(names->pdata[i], ".corrupt-")) {
			g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);

			rm_rf(path);
		}
	}
}

GString *with_checksum(const char *body, gsize len)
{
	GString *s = g_string_new_len(body, (gssize)len);
	g_autofree char *sum =
	    g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)body, len);

	g_string_append_printf(s, "end sha256 %s\n", sum);
	return s;
}
