/* SPDX-License-Identifier: MIT */
/*
 * State format (pure): the data model of the persistent state and its text
 * form, described in state-format.h. Bytes in, bytes out; the state store
 * does the file system. This file holds the data model, the names and
 * their escapes, and the writer; the parser is in state-format-parse.c.
 */
#include "core/state-format-private.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* "shown" lines are cut near this length to keep them readable. */
#define SHOWN_LINE_TARGET 1000

/* --- data model ------------------------------------------------------- */

static void folder_free(void *data)
{
	struct state_folder *folder = data;

	if (folder) {
		g_free(folder->name);
		if (folder->shown) {
			g_array_unref(folder->shown);
		}
		uidset_free(folder->all);
		uidset_free(folder->unseen);
		g_free(folder);
	}
}

struct state_folder *state_format_folder_new(const char *name)
{
	struct state_folder *folder = g_new0(struct state_folder, 1);

	folder->name = g_strdup(name);
	folder->shown = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	return folder;
}

struct state_account *state_account_new(const char *name)
{
	struct state_account *account = g_new0(struct state_account, 1);

	account->name = g_strdup(name);
	account->folders = g_ptr_array_new_with_free_func(folder_free);
	return account;
}

void state_account_free(struct state_account *account)
{
	if (account) {
		g_free(account->name);
		if (account->folders) {
			g_ptr_array_unref(account->folders);
		}
		g_free(account);
	}
}

struct state_folder *state_account_get_folder(struct state_account *account, const char *name,
                                              bool create)
{
	struct state_folder *folder;

	for (guint i = 0; i < account->folders->len; i++) {
		folder = account->folders->pdata[i];
		if (strcmp(folder->name, name) == 0) {
			return folder;
		}
	}
	if (!create) {
		return NULL;
	}
	folder = state_format_folder_new(name);
	g_ptr_array_add(account->folders, folder);
	return folder;
}

guint state_account_prune_folders(struct state_account *account, const char *const *keep_folders)
{
	guint removed = 0;

	for (guint i = account->folders->len; i-- > 0;) {
		const struct state_folder *folder = account->folders->pdata[i];

		if (!keep_folders || !g_strv_contains(keep_folders, folder->name)) {
			g_ptr_array_remove_index(account->folders, i);
			removed++;
		}
	}
	return removed;
}

/* Index of the first element >= uid. */
static guint shown_lower_bound(const GArray *shown, uint32_t uid)
{
	guint lo = 0;
	guint hi = shown->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;

		if (g_array_index(shown, uint32_t, mid) < uid) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

bool state_folder_shown_add(struct state_folder *folder, uint32_t uid)
{
	guint i;

	if (uid == 0) {
		return false;
	}
	i = shown_lower_bound(folder->shown, uid);
	if (i < folder->shown->len && g_array_index(folder->shown, uint32_t, i) == uid) {
		return false;
	}
	g_array_insert_val(folder->shown, i, uid);
	return true;
}

bool state_folder_shown_remove(struct state_folder *folder, uint32_t uid)
{
	guint i = shown_lower_bound(folder->shown, uid);

	if (i >= folder->shown->len || g_array_index(folder->shown, uint32_t, i) != uid) {
		return false;
	}
	g_array_remove_index(folder->shown, i);
	return true;
}

/* --- names ------------------------------------------------------------ */

static bool needs_escape(unsigned char c, enum escape_mode mode)
{
	if (mode == ESCAPE_FILE) {
		return !(g_ascii_isalnum(c) || c == '_' || c == '-');
	}
	return c <= 0x20 || c == 0x7f || c == '%';
}

static void escape_append(GString *out, const char *name, enum escape_mode mode)
{
	for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
		if (needs_escape(*s, mode)) {
			g_string_append_printf(out, "%%%02X", *s);
		} else {
			g_string_append_c(out, (char)*s);
		}
	}
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/*
 * Strict inverse of escape_append(): only upper-case %XX, only for bytes
 * that are escaped, never %00, no raw byte that should have been escaped.
 * One spelling per name keeps the mapping one-to-one. Returns the name, or
 * NULL if s is not a canonical escaped non-empty name.
 */
char *state_format_unescape(const char *s, gsize len, enum escape_mode mode)
{
	g_autoptr(GString) out = g_string_sized_new(len);

	if (len == 0) {
		return NULL;
	}
	for (gsize i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi;
			int lo;

			if (i + 2 >= len) {
				return NULL;
			}
			hi = hex_digit(s[i + 1]);
			lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0) {
				return NULL;
			}
			c = (unsigned char)(hi * 16 + lo);
			if (c == 0 || !needs_escape(c, mode)) {
				return NULL;
			}
			i += 2;
		} else if (needs_escape(c, mode)) {
			return NULL;
		}
		g_string_append_c(out, (char)c);
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

int state_format_account_stem(const char *account, char **stem)
{
	g_autoptr(GString) out = NULL;

	if (!account || !*account || strchr(account, '/') || !g_utf8_validate(account, -1, NULL)) {
		return -EINVAL;
	}
	out = g_string_new(NULL);
	escape_append(out, account, ESCAPE_FILE);
	if (out->len > STATE_FORMAT_ACCOUNT_ESCAPED_MAX) {
		return -ENAMETOOLONG;
	}
	*stem = g_string_free(g_steal_pointer(&out), FALSE);
	return 0;
}

bool state_format_is_stem(const char *s, gsize len)
{
	g_autofree char *account = state_format_unescape(s, len, ESCAPE_FILE);

	return account != NULL;
}

/* --- writing ---------------------------------------------------------- */

bool state_format_idle_ok(uint64_t lifetime, uint64_t refresh)
{
	return refresh > 0 && refresh < lifetime && lifetime <= STATE_FORMAT_IDLE_MAX;
}

static bool name_ok(const char *name)
{
	return name && *name && g_utf8_validate(name, -1, NULL);
}

static bool shown_ok(const GArray *shown)
{
	uint32_t prev = 0;

	for (guint i = 0; i < shown->len; i++) {
		uint32_t uid = g_array_index(shown, uint32_t, i);

		if (uid <= prev) {
			return false;
		}
		prev = uid;
	}
	return true;
}

void state_folder_set_sets(struct state_folder *folder, const struct uidset *all,
                           const struct uidset *unseen)
{
	g_clear_pointer(&folder->all, uidset_free);
	g_clear_pointer(&folder->unseen, uidset_free);
	if (all != NULL) {
		folder->all = uidset_copy(all);
		folder->unseen = uidset_copy(unseen);
	}
}

/* A set as "a,b:c" items on lines that start with key. */
static void format_ranges(GString *out, const char *key, const struct uidset *set)
{
	size_t n;
	const struct uid_range *r = uidset_ranges(set, &n);
	gsize line_start = 0;
	bool line_open = false;

	for (size_t i = 0; i < n; i++) {
		if (line_open && out->len - line_start >= SHOWN_LINE_TARGET) {
			g_string_append_c(out, '\n');
			line_open = false;
		}
		if (!line_open) {
			line_start = out->len;
			g_string_append_printf(out, "%s ", key);
			line_open = true;
		} else {
			g_string_append_c(out, ',');
		}
		if (r[i].lo == r[i].hi) {
			g_string_append_printf(out, "%" PRIu32, r[i].lo);
		} else {
			g_string_append_printf(out, "%" PRIu32 ":%" PRIu32, r[i].lo, r[i].hi);
		}
	}
	if (line_open) {
		g_string_append_c(out, '\n');
	}
}

/* The newest STATE_FORMAT_SHOWN_MAX UIDs as "a,b:c" items on "shown" lines. */
static void format_shown(GString *out, const GArray *shown)
{
	g_autoptr(uidset) set = uidset_new();

	for (guint i = shown->len > STATE_FORMAT_SHOWN_MAX ? shown->len - STATE_FORMAT_SHOWN_MAX
	                                                   : 0;
	     i < shown->len; i++) {
		uidset_add(set, g_array_index(shown, uint32_t, i));
	}
	format_ranges(out, "shown", set);
}

int state_format_write(const struct state_account *state, GString *out)
{
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *sum = NULL;

	bool idle = state->idle_refresh != 0 || state->idle_lifetime != 0;

	if (!name_ok(state->name)) {
		return -EINVAL;
	}
	if (idle && !state_format_idle_ok(state->idle_lifetime, state->idle_refresh)) {
		return -EINVAL;
	}
	g_string_append_printf(out, "%s %d\naccount ", FORMAT_MAGIC,
	                       idle ? FORMAT_VERSION : FORMAT_VERSION_NO_IDLE);
	escape_append(out, state->name, ESCAPE_TEXT);
	g_string_append_c(out, '\n');
	if (idle) {
		g_string_append_printf(out, "idle %u %u\n", state->idle_lifetime,
		                       state->idle_refresh);
	}
	for (guint i = 0; i < state->folders->len; i++) {
		const struct state_folder *f = state->folders->pdata[i];

		if (!name_ok(f->name) || !g_hash_table_add(names, f->name) || !f->shown ||
		    !shown_ok(f->shown)) {
			return -EINVAL;
		}
		if (strlen(f->name) > STATE_FORMAT_NAME_MAX) {
			return -ENAMETOOLONG;
		}
		g_string_append(out, "folder ");
		escape_append(out, f->name, ESCAPE_TEXT);
		g_string_append_printf(out,
		                       "\nuidvalidity %" PRIu32 "\nuidnext %" PRIu32
		                       "\nwatermark %" PRIu32 "\nhighestmodseq %" PRIu64 "\n",
		                       f->uidvalidity, f->uidnext, f->watermark, f->highestmodseq);
		format_shown(out, f->shown);
		if (f->all != NULL && f->unseen != NULL) {
			g_string_append_printf(out, "sets %" PRIu64 " %" PRIu64 "\n",
			                       uidset_count(f->all), uidset_count(f->unseen));
			format_ranges(out, "uids", f->all);
			format_ranges(out, "unseen", f->unseen);
		}
		if (out->len > STATE_FORMAT_FILE_MAX) {
			return -EFBIG;
		}
	}
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)out->str, out->len);
	g_string_append_printf(out, "%s%s\n", END_PREFIX, sum);
	if (out->len > STATE_FORMAT_FILE_MAX) {
		return -EFBIG;
	}
	return 0;
}
