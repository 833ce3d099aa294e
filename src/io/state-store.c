/* SPDX-License-Identifier: MIT */
/*
 * State store: one small text file per account (the text itself is
 * state-format's business; this file only moves bytes to and from disk).
 *
 * What makes a restart safe:
 * - A file is replaced only by rename(2) of a complete, fsynced temp file
 *   in the same directory, and the directory is fsynced afterwards, so the
 *   name always refers to an old or a new complete file.
 * - Between those durable saves, the newest state goes to a second file,
 *   "<stem>.state.fast", rewritten in place without fsync: a write to an
 *   open file costs microseconds where creating and renaming one costs a
 *   journal commit, so it can come before every announcement (N4). A
 *   process that dies after the write finds it on restart; a power cut may
 *   leave it old or torn, and then the checksum sends loading to the
 *   durable file. Every durable save also syncs it, so the fast file is
 *   never older than the durable one once both are on disk, and loading
 *   prefers it whenever it is whole.
 * - The format's checksum line means a file cut short (a file system that
 *   lost the tail, an interrupted copy) is never half-loaded: loading half
 *   a folder list would silently re-baseline the missing folders.
 * - A bad file is renamed aside, not deleted, so a human can look at it,
 *   and loading carries on with an empty state — the mailbox model then
 *   re-baselines (no flood of old messages) instead of refusing to run.
 * - Errors that say nothing about the file (out of fds or memory) are
 *   returned instead: setting a good file aside for them would lose state.
 */
#include "imapwatch/io/state-store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_SUFFIX   ".state"
#define FAST_SUFFIX    ".state.fast"
#define CORRUPT_SUFFIX ".state.corrupt-"
#define TEMP_SUFFIX    ".state.tmp-"
#define TEMP_ATTEMPTS  100
/* Same-second corrupt files get ".1", ".2", …; beyond this we give up. */
#define CORRUPT_ATTEMPTS 100

/* --- file names ------------------------------------------------------- */

enum file_kind {
	FILE_OTHER,
	FILE_STATE,
	FILE_FAST,
	FILE_CORRUPT,
	FILE_TEMP,
};

static bool all_digits(const char *s, gsize len)
{
	if (len == 0 || len > 19) {
		return false;
	}
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isdigit(s[i])) {
			return false;
		}
	}
	return true;
}

/*
 * What a directory entry is: "<stem>.state", "<stem>.state.fast",
 * "<stem>.state.corrupt-<time>"
 * or "<stem>.state.corrupt-<time>.<n>", "<stem>.state.tmp-<suffix>", or
 * something not ours. The stem is returned in *stem (stems never contain
 * '.'); for corrupt files also the time and n (0 without one).
 */
static enum file_kind classify(const char *name, char **stem, uint64_t *when, uint64_t *n)
{
	const char *dot = strchr(name, '.');
	const char *rest;

	if (!dot || dot == name) {
		return FILE_OTHER;
	}
	if (!state_format_is_stem(name, (gsize)(dot - name))) {
		return FILE_OTHER;
	}
	*stem = g_strndup(name, (gsize)(dot - name));
	if (strcmp(dot, STATE_SUFFIX) == 0) {
		return FILE_STATE;
	}
	if (strcmp(dot, FAST_SUFFIX) == 0) {
		return FILE_FAST;
	}
	if (g_str_has_prefix(dot, TEMP_SUFFIX) && dot[strlen(TEMP_SUFFIX)] != '\0') {
		return FILE_TEMP;
	}
	if (g_str_has_prefix(dot, CORRUPT_SUFFIX)) {
		const char *seq;

		rest = dot + strlen(CORRUPT_SUFFIX);
		seq = strchr(rest, '.');
		if (all_digits(rest, seq ? (gsize)(seq - rest) : strlen(rest)) &&
		    (!seq || all_digits(seq + 1, strlen(seq + 1)))) {
			*when = g_ascii_strtoull(rest, NULL, 10);
			*n = seq ? g_ascii_strtoull(seq + 1, NULL, 10) : 0;
			return FILE_CORRUPT;
		}
	}
	g_clear_pointer(stem, g_free);
	return FILE_OTHER;
}

/* --- file system ------------------------------------------------------ */

char *state_store_default_dir(void)
{
	return g_build_filename(g_get_user_state_dir(), "imapwatch", NULL);
}

/* Errors that say nothing about the file, only about this process now. */
static bool is_passing_error(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM;
}

/*
 * Reads path whole. Returns 0, -ENOENT, a passing error, or another negative
 * errno with *reason saying why the file is unusable.
 */
static int read_state_file(const char *path, char **data, gsize *len, char **reason)
{
	g_autofree char *buf = NULL;
	gsize cap;
	gsize have = 0;
	struct stat st;
	int fd;
	int err;

	/* O_NONBLOCK: a FIFO put in place of the file must not hang the
	 * daemon in open(); it is harmless for regular files. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = errno;
		*reason = g_strdup_printf("cannot be opened: %s", g_strerror(err));
		return -err;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		*reason = g_strdup_printf("cannot be examined: %s", g_strerror(err));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
		*reason = g_strdup("is not a regular file");
		goto fail;
	}
	if (st.st_size > STATE_FORMAT_FILE_MAX) {
		err = EFBIG;
		*reason = g_strdup_printf("is larger than %d bytes", STATE_FORMAT_FILE_MAX);
		goto fail;
	}
	/* One byte more than the size, to notice a file that grew. */
	cap = (gsize)st.st_size + 1;
	buf = g_malloc(cap);
	for (;;) {
		ssize_t n;

		if (have == cap) {
			if (cap > STATE_FORMAT_FILE_MAX) {
				err = EFBIG;
				*reason = g_strdup_printf("is larger than %d bytes",
				                          STATE_FORMAT_FILE_MAX);
				goto fail;
			}
			cap = MIN(cap * 2, (gsize)STATE_FORMAT_FILE_MAX + 1);
			buf = g_realloc(buf, cap);
		}
		n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			err = errno;
			*reason = g_strdup_printf("cannot be read: %s", g_strerror(err));
			goto fail;
		}
		if (n == 0) {
			break;
		}
		have += (gsize)n;
	}
	close(fd);
	*data = g_steal_pointer(&buf);
	*len = have;
	return 0;

fail:
	close(fd);
	return -err;
}

struct corrupt_file {
	char *name;
	uint64_t when;
	uint64_t n;
};

static void corrupt_file_clear(void *data)
{
	struct corrupt_file *c = data;

	g_free(c->name);
}

static int corrupt_file_compare(const void *a, const void *b)
{
	const struct corrupt_file *x = a;
	const struct corrupt_file *y = b;

	if (x->when != y->when) {
		return x->when < y->when ? -1 : 1;
	}
	if (x->n != y->n) {
		return x->n < y->n ? -1 : 1;
	}
	return 0;
}

/* Reads the names in dir (without "." and ".."). NULL if it cannot be
 * opened, with errno set. */
static GPtrArray *list_dir(const char *dir)
{
	GPtrArray *names;
	struct dirent *de;
	DIR *d;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		return NULL;
	}
	d = fdopendir(fd);
	if (!d) {
		int err = errno;

		close(fd);
		errno = err;
		return NULL;
	}
	names = g_ptr_array_new_with_free_func(g_free);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			g_ptr_array_add(names, g_strdup(de->d_name));
		}
	}
	closedir(d);
	return names;
}

/* Deletes the oldest corrupt files of stem beyond STATE_STORE_CORRUPT_KEEP,
 * never the one just made (the clock may have stepped back). Best effort:
 * the worst outcome of a failure is an extra file. */
static void rotate_corrupt(const char *dir, const char *stem, const char *newest)
{
	g_autoptr(GPtrArray) names = list_dir(dir);
	g_autoptr(GArray) found = NULL;
	guint excess;

	if (!names) {
		return;
	}
	found = g_array_new(FALSE, FALSE, sizeof(struct corrupt_file));
	g_array_set_clear_func(found, corrupt_file_clear);
	for (guint i = 0; i < names->len; i++) {
		const char *name = names->pdata[i];
		struct corrupt_file c = {0};
		g_autofree char *s = NULL;

		if (classify(name, &s, &c.when, &c.n) == FILE_CORRUPT && strcmp(s, stem) == 0 &&
		    strcmp(name, newest) != 0) {
			c.name = g_strdup(name);
			g_array_append_val(found, c);
		}
	}
	if (found->len < STATE_STORE_CORRUPT_KEEP) {
		return;
	}
	g_array_sort(found, corrupt_file_compare);
	excess = found->len - (STATE_STORE_CORRUPT_KEEP - 1);
	for (guint i = 0; i < excess; i++) {
		g_autofree char *path =
		    g_build_filename(dir, g_array_index(found, struct corrupt_file, i).name, NULL);

		/* A directory set aside in place of the file stays: it is
		 * rare and removing trees is not this module's business. */
		(void)unlink(path);
	}
}

/* The first free ".<n>" for corrupt files of stem made at time now: above
 * every existing one (not merely unused), so that the order of the names
 * stays the order of events even after rotation deleted older ones. */
static uint64_t next_corrupt_seq(const char *dir, const char *stem, uint64_t now)
{
	g_autoptr(GPtrArray) names = list_dir(dir);
	uint64_t next = 0;

	for (guint i = 0; names && i < names->len; i++) {
		g_autofree char *s = NULL;
		uint64_t when;
		uint64_t n;

		if (classify(names->pdata[i], &s, &when, &n) == FILE_CORRUPT &&
		    strcmp(s, stem) == 0 && when == now && n >= next) {
			next = n + 1;
		}
	}
	return next;
}

/* Moves the unusable file aside and returns the warning for the log. */
static char *set_aside(const char *dir, const char *stem, const char *path, const char *account,
                       const char *reason)
{
	uint64_t now = (uint64_t)(g_get_real_time() / G_USEC_PER_SEC);
	uint64_t n = next_corrupt_seq(dir, stem, now);
	g_autofree char *target = NULL;
	g_autofree char *base = NULL;
	int err = EEXIST;

	for (int i = 0; i < CORRUPT_ATTEMPTS; i++, n++) {
		struct stat st;

		g_free(target);
		target = n == 0 ? g_strdup_printf("%s.corrupt-%" PRIu64, path, now)
		                : g_strdup_printf("%s.corrupt-%" PRIu64 ".%" PRIu64, path, now, n);
		/* rename() would replace an existing file: look first. Only
		 * this process writes here, so nothing can slip in between. */
		if (lstat(target, &st) == 0) {
			continue;
		}
		err = rename(path, target) == 0 ? 0 : errno;
		break;
	}
	if (err != 0) {
		return g_strdup_printf("state file '%s' for account '%s' %s and cannot be moved "
		                       "aside: %s; starting with an empty state",
		                       path, account, reason, g_strerror(err));
	}
	base = g_path_get_basename(target);
	rotate_corrupt(dir, stem, base);
	return g_strdup_printf("state file '%s' for account '%s' %s; moved to '%s', starting with "
	                       "an empty state",
	                       path, account, reason, target);
}

/* The fast file, if it is there and whole; else NULL, and the durable file
 * decides (a torn or old fast file after a power cut is expected, and says
 * nothing about the state). */
static struct state_account *load_fast(const char *dir, const char *stem, const char *account)
{
	g_autofree char *file = g_strconcat(stem, FAST_SUFFIX, NULL);
	g_autofree char *path = g_build_filename(dir, file, NULL);
	g_autofree char *data = NULL;
	g_autofree char *reason = NULL;
	g_autofree char *error = NULL;
	gsize len = 0;

	if (read_state_file(path, &data, &len, &reason) < 0) {
		return NULL;
	}
	return state_format_parse(data, len, account, &error);
}

int state_store_load(const char *dir, const char *account, struct state_account **out,
                     char **warning)
{
	g_autofree char *stem = NULL;
	g_autofree char *file = NULL;
	g_autofree char *path = NULL;
	g_autofree char *data = NULL;
	g_autofree char *reason = NULL;
	g_autofree char *error = NULL;
	struct state_account *st;
	gsize len = 0;
	int r;

	r = state_format_account_stem(account, &stem);
	if (r < 0) {
		return r;
	}
	st = load_fast(dir, stem, account);
	if (st != NULL) {
		*out = st;
		*warning = NULL;
		return 0;
	}
	file = g_strconcat(stem, STATE_SUFFIX, NULL);
	path = g_build_filename(dir, file, NULL);
	r = read_state_file(path, &data, &len, &reason);
	if (r == -ENOENT) {
		*out = state_account_new(account);
		*warning = NULL;
		return 0;
	}
	if (r < 0 && is_passing_error(-r)) {
		return r;
	}
	if (r == 0) {
		st = state_format_parse(data, len, account, &error);
		if (st) {
			*out = st;
			*warning = NULL;
			return 0;
		}
		reason = g_strdup_printf("is unusable: %s", error);
	}
	*warning = set_aside(dir, stem, path, account, reason);
	*out = state_account_new(account);
	return 0;
}

static int write_all(int fd, const char *buf, gsize len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		buf += n;
		len -= (gsize)n;
	}
	return 0;
}

/* Creates "<stem>.state.tmp-<random>" in dirfd, mode 0600. Returns the fd
 * and the name in *name, or a negative errno. */
static int create_temp(int dirfd, const char *stem, char **name)
{
	for (int i = 0; i < TEMP_ATTEMPTS; i++) {
		g_autofree char *n =
		    g_strdup_printf("%s%s%08" PRIx32, stem, TEMP_SUFFIX, g_random_int());
		int fd =
		    openat(dirfd, n, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd >= 0) {
			*name = g_steal_pointer(&n);
			return fd;
		}
		if (errno != EEXIST) {
			return -errno;
		}
	}
	return -EEXIST;
}

/* Rewrites the fast file in place (created once), and syncs it if asked. */
static int write_fast(const char *dir, const char *stem, const GString *text, bool sync)
{
	g_autofree char *file = g_strconcat(stem, FAST_SUFFIX, NULL);
	g_autofree char *path = g_build_filename(dir, file, NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r;

	if (fd < 0) {
		return -errno;
	}
	r = write_all(fd, text->str, text->len);
	if (r == 0 && ftruncate(fd, (off_t)text->len) < 0) {
		r = -errno;
	}
	if (r == 0 && sync && fdatasync(fd) < 0) {
		r = -errno;
	}
	if (close(fd) < 0 && r == 0) {
		r = -errno;
	}
	return r;
}

static int format(const struct state_account *state, char **stem, GString *text)
{
	int r = state_format_account_stem(state->name, stem);

	if (r < 0) {
		return r;
	}
	return state_format_write(state, text);
}

int state_store_save(const char *dir, const struct state_account *state)
{
	g_autoptr(GString) text = g_string_sized_new(4096);
	g_autofree char *stem = NULL;
	g_autofree char *file = NULL;
	g_autofree char *temp = NULL;
	int dirfd;
	int fd;
	int r;

	r = format(state, &stem, text);
	if (r < 0) {
		return r;
	}
	if (g_mkdir_with_parents(dir, 0700) < 0) {
		return -errno;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		return -errno;
	}
	fd = create_temp(dirfd, stem, &temp);
	if (fd < 0) {
		close(dirfd);
		return fd;
	}
	r = write_all(fd, text->str, text->len);
	/* The data must be on disk before the rename makes it the state:
	 * otherwise a power cut could leave the new name on an empty file. */
	if (r == 0 && fsync(fd) < 0) {
		r = -errno;
	}
	if (close(fd) < 0 && r == 0) {
		r = -errno;
	}
	file = g_strconcat(stem, STATE_SUFFIX, NULL);
	if (r == 0 && renameat(dirfd, temp, dirfd, file) < 0) {
		r = -errno;
	}
	if (r < 0) {
		(void)unlinkat(dirfd, temp, 0);
		close(dirfd);
		return r;
	}
	/* The rename itself is durable only once the directory is synced. */
	if (fsync(dirfd) < 0) {
		r = -errno;
	}
	close(dirfd);
	/* The fast file is never older on disk than this one. */
	if (r == 0) {
		r = write_fast(dir, stem, text, true);
	}
	return r;
}

int state_store_save_fast(const char *dir, const struct state_account *state)
{
	g_autoptr(GString) text = g_string_sized_new(4096);
	g_autofree char *stem = NULL;
	int r = format(state, &stem, text);

	if (r < 0) {
		return r;
	}
	r = write_fast(dir, stem, text, false);
	if (r == -ENOENT && g_mkdir_with_parents(dir, 0700) == 0) {
		r = write_fast(dir, stem, text, false);
	}
	return r;
}

int state_store_prune(const char *dir, const char *const *keep_accounts)
{
	g_autoptr(GHashTable) keep = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) names = list_dir(dir);
	int result = 0;

	if (!names) {
		return errno == ENOENT ? 0 : -errno;
	}
	for (const char *const *a = keep_accounts; a && *a; a++) {
		char *stem = NULL;

		if (state_format_account_stem(*a, &stem) == 0) {
			g_hash_table_add(keep, stem);
		}
	}
	for (guint i = 0; i < names->len; i++) {
		const char *name = names->pdata[i];
		g_autofree char *stem = NULL;
		g_autofree char *path = NULL;
		uint64_t when;
		uint64_t n;
		enum file_kind kind = classify(name, &stem, &when, &n);

		if (kind == FILE_OTHER ||
		    (kind != FILE_TEMP && g_hash_table_contains(keep, stem))) {
			continue;
		}
		path = g_build_filename(dir, name, NULL);
		if (unlink(path) < 0 && errno != ENOENT && result == 0) {
			result = -errno;
		}
	}
	return result;
}
