/* SPDX-License-Identifier: MIT */
/*
 * State format (pure): the data model of the persistent state and its text
 * form, described in state-format.h. Bytes in, bytes out; the state store
 * does the file system.
 *
 * The parser is strict — one spelling per state, fixed field order,
 * canonical numbers and escapes — because only this module writes the
 * files: anything else was damaged, and a damaged file must be set aside,
 * not half-believed. It is bounded: lines, names, the number of shown UIDs
 * (checked before a range is expanded) and the input size all have limits.
 */
#include "imapwatch/core/state-format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#define FORMAT_MAGIC   "imapwatch-state"
#define FORMAT_VERSION 1
#define END_PREFIX     "end sha256 "
#define SHA256_HEX_LEN 64
/* A folder line holds a name of up to STATE_FORMAT_NAME_MAX bytes, each
 * escaped to at most 3; every other line is far shorter. */
#define LINE_LIMIT (3 * STATE_FORMAT_NAME_MAX + 64)
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
		g_free(folder);
	}
}

static struct state_folder *folder_new(const char *name)
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
	folder = folder_new(name);
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

enum escape_mode {
	/* File names: only [A-Za-z0-9_-] stay, so '.' and '/' never do. */
	ESCAPE_FILE,
	/* Names inside the file: only what would break the line syntax
	 * (space, controls) and '%' itself; UTF-8 stays readable. */
	ESCAPE_TEXT,
};

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
static char *unescape(const char *s, gsize len, enum escape_mode mode)
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
	g_autofree char *account = unescape(s, len, ESCAPE_FILE);

	return account != NULL;
}

/* --- writing ---------------------------------------------------------- */

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

/* The newest STATE_FORMAT_SHOWN_MAX UIDs as "a,b:c" items on "shown" lines. */
static void format_shown(GString *out, const GArray *shown)
{
	guint i = shown->len > STATE_FORMAT_SHOWN_MAX ? shown->len - STATE_FORMAT_SHOWN_MAX : 0;
	gsize line_start = 0;
	bool line_open = false;

	while (i < shown->len) {
		uint32_t lo = g_array_index(shown, uint32_t, i);
		uint32_t hi = lo;

		while (i + 1 < shown->len && g_array_index(shown, uint32_t, i + 1) == hi + 1) {
			hi++;
			i++;
		}
		i++;
		if (line_open && out->len - line_start >= SHOWN_LINE_TARGET) {
			g_string_append_c(out, '\n');
			line_open = false;
		}
		if (!line_open) {
			line_start = out->len;
			g_string_append(out, "shown ");
			line_open = true;
		} else {
			g_string_append_c(out, ',');
		}
		if (lo == hi) {
			g_string_append_printf(out, "%" PRIu32, lo);
		} else {
			g_string_append_printf(out, "%" PRIu32 ":%" PRIu32, lo, hi);
		}
	}
	if (line_open) {
		g_string_append_c(out, '\n');
	}
}

int state_format_write(const struct state_account *state, GString *out)
{
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *sum = NULL;

	if (!name_ok(state->name)) {
		return -EINVAL;
	}
	g_string_append_printf(out, "%s %d\naccount ", FORMAT_MAGIC, FORMAT_VERSION);
	escape_append(out, state->name, ESCAPE_TEXT);
	g_string_append_c(out, '\n');
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

/* --- parsing ---------------------------------------------------------- */

struct parse {
	const char *pos; /* start of the next line */
	const char *end; /* end of the body (start of the "end" line) */
	guint line;      /* number of the current line, from 1 */
	const char *key;
	gsize key_len;
	const char *value;
	gsize value_len;
	char *error;
};

static bool fail(struct parse *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *what = NULL;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_free(p->error);
	p->error = g_strdup_printf("line %u: %s", p->line, what);
	return false;
}

/* Splits the next line into "key value". Returns false at the end of the
 * body or on error (p->error set). The body always ends with '\n'. */
static bool next_line(struct parse *p)
{
	const char *nl;
	const char *space;
	gsize len;

	if (p->pos >= p->end) {
		return false;
	}
	nl = memchr(p->pos, '\n', (gsize)(p->end - p->pos));
	len = (gsize)(nl - p->pos);
	p->line++;
	if (len > LINE_LIMIT) {
		return fail(p, "line too long");
	}
	space = memchr(p->pos, ' ', len);
	if (!space || space == p->pos || space + 1 == nl) {
		return fail(p, "not a '<key> <value>' line");
	}
	p->key = p->pos;
	p->key_len = (gsize)(space - p->pos);
	p->value = space + 1;
	p->value_len = (gsize)(nl - p->value);
	p->pos = nl + 1;
	return true;
}

static bool key_is(const struct parse *p, const char *key)
{
	return p->key_len == strlen(key) && memcmp(p->key, key, p->key_len) == 0;
}

/* Canonical decimal: digits only, no sign, no leading zero. */
static bool parse_number(const char *s, gsize len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (s[0] == '0' && len > 1)) {
		return false;
	}
	for (gsize i = 0; i < len; i++) {
		unsigned d;

		if (!g_ascii_isdigit(s[i])) {
			return false;
		}
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10) {
			return false;
		}
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/*
 * One "shown" line: items "u" or "lo:hi" (lo < hi), each starting above the
 * previous one with a gap, as format_shown() writes them; *last is the
 * highest UID so far in this folder. The count is checked before a range is
 * expanded, so "1:4294967295" costs nothing.
 */
static bool parse_shown(struct parse *p, struct state_folder *f, uint64_t *last)
{
	const char *s = p->value;
	const char *end = p->value + p->value_len;

	while (s <= end) {
		const char *comma = memchr(s, ',', (gsize)(end - s));
		const char *item_end = comma ? comma : end;
		const char *colon = memchr(s, ':', (gsize)(item_end - s));
		uint64_t lo;
		uint64_t hi;

		if (!parse_number(s, (gsize)((colon ? colon : item_end) - s), UINT32_MAX, &lo)) {
			return fail(p, "bad UID in 'shown'");
		}
		hi = lo;
		if (colon &&
		    (!parse_number(colon + 1, (gsize)(item_end - colon - 1), UINT32_MAX, &hi) ||
		     hi <= lo)) {
			return fail(p, "bad UID range in 'shown'");
		}
		if (lo == 0 || (*last > 0 && lo <= *last + 1)) {
			return fail(p, "'shown' UIDs not in ascending order");
		}
		if (hi - lo + 1 > STATE_FORMAT_SHOWN_MAX - f->shown->len) {
			return fail(p, "more than %d shown UIDs", STATE_FORMAT_SHOWN_MAX);
		}
		for (uint64_t uid = lo; uid <= hi; uid++) {
			uint32_t u = (uint32_t)uid;

			g_array_append_val(f->shown, u);
		}
		*last = hi;
		if (!comma) {
			break;
		}
		s = comma + 1;
	}
	return true;
}

static const char *const folder_fields[] = {"uidvalidity", "uidnext", "watermark", "highestmodseq"};

static bool parse_field(struct parse *p, struct state_folder *f, guint field)
{
	uint64_t v;

	if (!key_is(p, folder_fields[field])) {
		return fail(p, "expected '%s'", folder_fields[field]);
	}
	if (!parse_number(p->value, p->value_len, field == 3 ? UINT64_MAX : UINT32_MAX, &v)) {
		return fail(p, "bad number for '%s'", folder_fields[field]);
	}
	switch (field) {
	case 0:
		f->uidvalidity = (uint32_t)v;
		break;
	case 1:
		f->uidnext = (uint32_t)v;
		break;
	case 2:
		f->watermark = (uint32_t)v;
		break;
	default:
		f->highestmodseq = v;
		break;
	}
	return true;
}

/* The body: "account", then per folder "folder", the four fields in order
 * and any number of "shown" lines. */
static bool parse_body(struct parse *p, struct state_account *st)
{
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *account = NULL;
	struct state_folder *f = NULL;
	guint field = 0;
	uint64_t last = 0;

	if (!next_line(p)) {
		return p->error ? false : fail(p, "no 'account' line");
	}
	if (!key_is(p, "account")) {
		return fail(p, "expected 'account'");
	}
	account = unescape(p->value, p->value_len, ESCAPE_TEXT);
	if (!account || strcmp(account, st->name) != 0) {
		return fail(p, "the file belongs to another account");
	}
	while (next_line(p)) {
		if (key_is(p, "folder")) {
			char *name;

			if (f && field < G_N_ELEMENTS(folder_fields)) {
				return fail(p, "folder record before it lacks '%s'",
				            folder_fields[field]);
			}
			name = unescape(p->value, p->value_len, ESCAPE_TEXT);
			if (!name || !g_utf8_validate(name, -1, NULL) ||
			    strlen(name) > STATE_FORMAT_NAME_MAX) {
				g_free(name);
				return fail(p, "bad folder name");
			}
			f = folder_new(name);
			g_free(name);
			g_ptr_array_add(st->folders, f);
			if (!g_hash_table_add(names, f->name)) {
				return fail(p, "folder listed twice");
			}
			field = 0;
			last = 0;
		} else if (!f) {
			return fail(p, "expected 'folder'");
		} else if (field < G_N_ELEMENTS(folder_fields)) {
			if (!parse_field(p, f, field)) {
				return false;
			}
			field++;
		} else if (key_is(p, "shown")) {
			if (!parse_shown(p, f, &last)) {
				return false;
			}
		} else {
			return fail(p, "unknown key");
		}
	}
	if (p->error) {
		return false;
	}
	if (f && field < G_N_ELEMENTS(folder_fields)) {
		return fail(p, "last folder record lacks '%s'", folder_fields[field]);
	}
	return true;
}

static bool is_lower_hex(const char *s, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isdigit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f')) {
			return false;
		}
	}
	return true;
}

/*
 * The version line is judged first, so that a file of a later version is
 * reported as such rather than as a checksum or syntax problem; then the end
 * line and the checksum, so that the body parser only ever sees complete
 * files.
 */
struct state_account *state_format_parse(const char *data, gsize len, const char *account,
                                         char **error)
{
	static const char header[] = FORMAT_MAGIC " ";
	g_autoptr(state_account) st = NULL;
	g_autofree char *sum = NULL;
	struct parse p = {0};
	const char *nl;
	const char *last;
	uint64_t version;

	if (len == 0) {
		*error = g_strdup("the file is empty");
		return NULL;
	}
	if (len > STATE_FORMAT_FILE_MAX) {
		*error = g_strdup_printf("larger than %d bytes", STATE_FORMAT_FILE_MAX);
		return NULL;
	}
	nl = memchr(data, '\n', MIN(len, (gsize)LINE_LIMIT));
	if (!nl || (gsize)(nl - data) <= strlen(header) ||
	    memcmp(data, header, strlen(header)) != 0 ||
	    !parse_number(data + strlen(header), (gsize)(nl - data) - strlen(header), UINT32_MAX,
	                  &version)) {
		*error = g_strdup("not an imapwatch state file (no 'imapwatch-state 1' line)");
		return NULL;
	}
	if (version != FORMAT_VERSION) {
		*error = g_strdup_printf("unknown format version %" PRIu64
		                         " (this imapwatchd reads version %d)",
		                         version, FORMAT_VERSION);
		return NULL;
	}
	if (data[len - 1] != '\n') {
		*error = g_strdup("truncated (no line end at the end)");
		return NULL;
	}
	last = memrchr(data, '\n', len - 1);
	last = last ? last + 1 : data;
	if (last == data || (gsize)(data + len - last) != strlen(END_PREFIX) + SHA256_HEX_LEN + 1 ||
	    memcmp(last, END_PREFIX, strlen(END_PREFIX)) != 0 ||
	    !is_lower_hex(last + strlen(END_PREFIX), SHA256_HEX_LEN)) {
		*error = g_strdup("truncated (no 'end' line)");
		return NULL;
	}
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data,
	                                  (gsize)(last - data));
	if (memcmp(sum, last + strlen(END_PREFIX), SHA256_HEX_LEN) != 0) {
		*error = g_strdup("checksum mismatch (the file was changed or partly written)");
		return NULL;
	}
	st = state_account_new(account);
	p.pos = nl + 1;
	p.end = last;
	p.line = 1;
	if (!parse_body(&p, st)) {
		*error = p.error;
		return NULL;
	}
	return g_steal_pointer(&st);
}
