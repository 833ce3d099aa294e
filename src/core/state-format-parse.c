/* SPDX-License-Identifier: MIT */
/*
 * State format: the parser of the text form (state-format.h).
 *
 * The parser is strict — one spelling per state, fixed field order,
 * canonical numbers and escapes — because only this module writes the
 * files: anything else was damaged, and a damaged file must be set aside,
 * not half-believed. It is bounded: lines, names, the number of shown UIDs
 * (checked before a range is expanded) and the input size all have limits.
 */
#include "core/state-format-private.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#define SHA256_HEX_LEN 64
/* A folder line holds a name of up to STATE_FORMAT_NAME_MAX bytes, each
 * escaped to at most 3; every other line is far shorter. */
#define LINE_LIMIT (3 * STATE_FORMAT_NAME_MAX + 64)

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
	uint64_t version; /* of the file */
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
 * One line of UIDs, "shown" (into shown, at most STATE_FORMAT_SHOWN_MAX in
 * the folder) or "uids" / "unseen" (into set): items "u" or "lo:hi"
 * (lo < hi), each starting above the previous one with a gap, as
 * format_ranges() writes them; *last is the highest UID so far in this
 * folder's shown UIDs or this set. The count is checked before a range is
 * expanded, so "1:4294967295" costs nothing.
 */
static bool parse_uid_line(struct parse *p, const char *key, GArray *shown, struct uidset *set,
                           uint64_t *last)
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
			return fail(p, "bad UID in '%s'", key);
		}
		hi = lo;
		if (colon &&
		    (!parse_number(colon + 1, (gsize)(item_end - colon - 1), UINT32_MAX, &hi) ||
		     hi <= lo)) {
			return fail(p, "bad UID range in '%s'", key);
		}
		if (lo == 0 || (*last > 0 && lo <= *last + 1)) {
			return fail(p, "'%s' UIDs not in ascending order", key);
		}
		if (shown != NULL) {
			if (hi - lo + 1 > STATE_FORMAT_SHOWN_MAX - shown->len) {
				return fail(p, "more than %d shown UIDs", STATE_FORMAT_SHOWN_MAX);
			}
			for (uint64_t uid = lo; uid <= hi; uid++) {
				uint32_t u = (uint32_t)uid;

				g_array_append_val(shown, u);
			}
		} else {
			uidset_add_range(set, (uint32_t)lo, (uint32_t)hi);
		}
		*last = hi;
		if (!comma) {
			break;
		}
		s = comma + 1;
	}
	return true;
}

/* "sets <count of all> <count of unseen>". */
static bool parse_sets(struct parse *p, struct state_folder *f, uint64_t *counts)
{
	const char *space = memchr(p->value, ' ', p->value_len);

	if (f->all != NULL) {
		return fail(p, "'sets' twice in one folder");
	}
	if (space == NULL ||
	    !parse_number(p->value, (gsize)(space - p->value), UINT32_MAX, &counts[0]) ||
	    !parse_number(space + 1, p->value_len - (gsize)(space - p->value) - 1, UINT32_MAX,
	                  &counts[1])) {
		return fail(p, "bad counts for 'sets'");
	}
	f->all = uidset_new();
	f->unseen = uidset_new();
	return true;
}

/* The sets of the folder just read hold what its "sets" line said. */
static bool sets_complete(struct parse *p, const struct state_folder *f, const uint64_t *counts)
{
	if (f == NULL || f->all == NULL) {
		return true;
	}
	if (uidset_count(f->all) != counts[0] || uidset_count(f->unseen) != counts[1]) {
		return fail(p, "the sets do not hold as many UIDs as 'sets' says");
	}
	g_autoptr(uidset) outside = uidset_copy(f->unseen);
	uidset_remove_set(outside, f->all);
	if (uidset_count(outside) > 0) {
		return fail(p, "'unseen' names UIDs that 'uids' does not");
	}
	return true;
}

/* "idle <lifetime> <refresh>" (version 3). */
static bool parse_idle(struct parse *p, struct state_account *st)
{
	const char *space = memchr(p->value, ' ', p->value_len);
	uint64_t lifetime;
	uint64_t refresh;

	if (space == NULL ||
	    !parse_number(p->value, (gsize)(space - p->value), UINT32_MAX, &lifetime) ||
	    !parse_number(space + 1, p->value_len - (gsize)(space - p->value) - 1, UINT32_MAX,
	                  &refresh) ||
	    !state_format_idle_ok(lifetime, refresh)) {
		return fail(p, "bad values for 'idle'");
	}
	st->idle_lifetime = (guint)lifetime;
	st->idle_refresh = (guint)refresh;
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

/* The body: "account", "idle" (version 3, optional), then per folder
 * "folder", the four fields in order and any number of "shown" lines. */
static bool parse_body(struct parse *p, struct state_account *st)
{
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *account = NULL;
	struct state_folder *f = NULL;
	guint field = 0;
	uint64_t last = 0;
	uint64_t counts[2] = {0, 0};
	uint64_t last_set = 0;
	int set_part = 0; /* 0: none yet, 1: uids, 2: unseen */

	if (!next_line(p)) {
		return p->error ? false : fail(p, "no 'account' line");
	}
	if (!key_is(p, "account")) {
		return fail(p, "expected 'account'");
	}
	account = state_format_unescape(p->value, p->value_len, ESCAPE_TEXT);
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
			if (!sets_complete(p, f, counts)) {
				return false;
			}
			name = state_format_unescape(p->value, p->value_len, ESCAPE_TEXT);
			if (!name || !g_utf8_validate(name, -1, NULL) ||
			    strlen(name) > STATE_FORMAT_NAME_MAX) {
				g_free(name);
				return fail(p, "bad folder name");
			}
			f = state_format_folder_new(name);
			g_free(name);
			g_ptr_array_add(st->folders, f);
			if (!g_hash_table_add(names, f->name)) {
				return fail(p, "folder listed twice");
			}
			field = 0;
			last = 0;
			set_part = 0;
		} else if (key_is(p, "idle") && !f && st->idle_refresh == 0 && p->version >= 3) {
			if (!parse_idle(p, st)) {
				return false;
			}
		} else if (!f) {
			return fail(p, "expected 'folder'");
		} else if (field < G_N_ELEMENTS(folder_fields)) {
			if (!parse_field(p, f, field)) {
				return false;
			}
			field++;
		} else if (key_is(p, "shown") && f->all == NULL) {
			if (!parse_uid_line(p, "shown", f->shown, NULL, &last)) {
				return false;
			}
		} else if (key_is(p, "sets") && p->version >= 2) {
			if (!parse_sets(p, f, counts)) {
				return false;
			}
			set_part = 0;
			last_set = 0;
		} else if (key_is(p, "uids") && f->all != NULL && set_part <= 1) {
			set_part = 1;
			if (!parse_uid_line(p, "uids", NULL, f->all, &last_set)) {
				return false;
			}
		} else if (key_is(p, "unseen") && f->all != NULL) {
			if (set_part < 2) {
				set_part = 2;
				last_set = 0;
			}
			if (!parse_uid_line(p, "unseen", NULL, f->unseen, &last_set)) {
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
	return sets_complete(p, f, counts);
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
	if (version < FORMAT_VERSION_MIN || version > FORMAT_VERSION) {
		*error = g_strdup_printf("unknown format version %" PRIu64
		                         " (this imapwatchd reads versions %d to %d)",
		                         version, FORMAT_VERSION_MIN, FORMAT_VERSION);
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
	p.version = version;
	if (!parse_body(&p, st)) {
		*error = p.error;
		return NULL;
	}
	return g_steal_pointer(&st);
}
