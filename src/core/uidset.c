/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/uidset.h"

#include <string.h>

struct uidset {
	GArray *ranges; /* struct uid_range, ascending, disjoint, not adjacent */
	uint64_t count;
};

static struct uid_range *at(const struct uidset *set, guint i)
{
	return &g_array_index(set->ranges, struct uid_range, i);
}

static uint64_t width(const struct uid_range *r)
{
	return (uint64_t)r->hi - r->lo + 1;
}

struct uidset *uidset_new(void)
{
	struct uidset *set = g_new0(struct uidset, 1);

	set->ranges = g_array_new(FALSE, FALSE, sizeof(struct uid_range));
	return set;
}

void uidset_free(struct uidset *set)
{
	if (set == NULL) {
		return;
	}
	g_array_unref(set->ranges);
	g_free(set);
}

struct uidset *uidset_copy(const struct uidset *set)
{
	struct uidset *copy = uidset_new();

	g_array_append_vals(copy->ranges, set->ranges->data, set->ranges->len);
	copy->count = set->count;
	return copy;
}

void uidset_clear(struct uidset *set)
{
	g_array_set_size(set->ranges, 0);
	set->count = 0;
}

/* The first range whose hi is at or above uid (the number of ranges when
 * there is none). */
static guint first_reaching(const struct uidset *set, uint32_t uid)
{
	guint lo = 0;
	guint hi = set->ranges->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;

		if (at(set, mid)->hi < uid) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

void uidset_add_range(struct uidset *set, uint32_t lo, uint32_t hi)
{
	g_return_if_fail(lo >= 1 && lo <= hi);
	/* Ranges that overlap lo..hi or touch it (hi + 1 == lo). */
	guint i = first_reaching(set, lo - 1);
	guint j = i;
	uint64_t removed = 0;

	while (j < set->ranges->len && (uint64_t)at(set, j)->lo <= (uint64_t)hi + 1) {
		removed += width(at(set, j));
		j++;
	}
	if (i == j) {
		struct uid_range r = {lo, hi};

		g_array_insert_val(set->ranges, i, r);
		set->count += width(&r);
		return;
	}
	struct uid_range merged = {MIN(lo, at(set, i)->lo), MAX(hi, at(set, j - 1)->hi)};
	*at(set, i) = merged;
	if (j - i > 1) {
		g_array_remove_range(set->ranges, i + 1, j - i - 1);
	}
	set->count += width(&merged) - removed;
}

bool uidset_add(struct uidset *set, uint32_t uid)
{
	if (uid == 0 || uidset_contains(set, uid)) {
		return false;
	}
	uidset_add_range(set, uid, uid);
	return true;
}

static void remove_range(struct uidset *set, uint32_t lo, uint32_t hi)
{
	guint i = first_reaching(set, lo);

	if (i >= set->ranges->len || at(set, i)->lo > hi) {
		return;
	}
	struct uid_range first = *at(set, i);
	if (first.lo < lo && first.hi > hi) {
		/* A hole in the middle: two ranges. */
		struct uid_range right = {hi + 1, first.hi};

		at(set, i)->hi = lo - 1;
		g_array_insert_val(set->ranges, i + 1, right);
		set->count -= (uint64_t)hi - lo + 1;
		return;
	}
	if (first.lo < lo) {
		set->count -= (uint64_t)first.hi - lo + 1;
		at(set, i)->hi = lo - 1;
		i++;
	}
	/* Ranges wholly inside go in one move, then a partial one at the end. */
	guint j = i;
	while (j < set->ranges->len && at(set, j)->hi <= hi) {
		set->count -= width(at(set, j));
		j++;
	}
	if (j < set->ranges->len && at(set, j)->lo <= hi) {
		set->count -= (uint64_t)hi - at(set, j)->lo + 1;
		at(set, j)->lo = hi + 1;
	}
	if (j > i) {
		g_array_remove_range(set->ranges, i, j - i);
	}
}

bool uidset_remove(struct uidset *set, uint32_t uid)
{
	if (!uidset_contains(set, uid)) {
		return false;
	}
	remove_range(set, uid, uid);
	return true;
}

static void append_range(struct uidset *set, uint32_t lo, uint32_t hi)
{
	struct uid_range r = {lo, hi};

	g_array_append_val(set->ranges, r);
	set->count += width(&r);
}

/* One pass over both sets (both are sorted): linear, whatever their sizes. */
void uidset_remove_set(struct uidset *set, const struct uidset *other)
{
	if (set->ranges->len == 0 || other->ranges->len == 0) {
		return;
	}
	g_autoptr(uidset) out = uidset_new();
	guint k = 0;

	for (guint i = 0; i < set->ranges->len; i++) {
		uint32_t lo = at(set, i)->lo;
		uint32_t hi = at(set, i)->hi;

		while (k < other->ranges->len && at(other, k)->hi < lo) {
			k++;
		}
		for (guint m = k;; m++) {
			if (m >= other->ranges->len || at(other, m)->lo > hi) {
				append_range(out, lo, hi);
				break;
			}
			if (at(other, m)->lo > lo) {
				append_range(out, lo, at(other, m)->lo - 1);
			}
			if (at(other, m)->hi >= hi) {
				break; /* the rest is removed */
			}
			lo = at(other, m)->hi + 1;
		}
	}
	GArray *t = set->ranges;
	set->ranges = out->ranges;
	out->ranges = t;
	set->count = out->count;
}

void uidset_remove_above(struct uidset *set, uint32_t uid)
{
	if (uid < UINT32_MAX) {
		remove_range(set, uid + 1, UINT32_MAX);
	}
}

bool uidset_contains(const struct uidset *set, uint32_t uid)
{
	guint i = first_reaching(set, uid);

	return uid != 0 && i < set->ranges->len && at(set, i)->lo <= uid;
}

uint64_t uidset_count(const struct uidset *set)
{
	return set->count;
}

uint64_t uidset_count_upto(const struct uidset *set, uint32_t uid)
{
	uint64_t n = 0;

	for (guint i = 0; i < set->ranges->len && at(set, i)->lo <= uid; i++) {
		n += (uint64_t)MIN(at(set, i)->hi, uid) - at(set, i)->lo + 1;
	}
	return n;
}

uint32_t uidset_max(const struct uidset *set)
{
	return set->ranges->len > 0 ? at(set, set->ranges->len - 1)->hi : 0;
}

bool uidset_equal(const struct uidset *a, const struct uidset *b)
{
	return a->ranges->len == b->ranges->len &&
	       (a->ranges->len == 0 ||
	        memcmp(a->ranges->data, b->ranges->data,
	               (size_t)a->ranges->len * sizeof(struct uid_range)) == 0);
}

const struct uid_range *uidset_ranges(const struct uidset *set, size_t *n_ranges)
{
	*n_ranges = set->ranges->len;
	return (const struct uid_range *)(void *)set->ranges->data;
}

static bool parse_uid(const char *text, size_t len, uint32_t *out)
{
	guint64 v = 0;

	if (len == 0 || len > 10) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isdigit(text[i])) {
			return false;
		}
		v = v * 10 + (guint64)(text[i] - '0');
	}
	if (v == 0 || v > UINT32_MAX) {
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static gint range_cmp(gconstpointer a, gconstpointer b)
{
	uint32_t x = ((const struct uid_range *)a)->lo;
	uint32_t y = ((const struct uid_range *)b)->lo;

	return (x > y) - (x < y);
}

bool uidset_parse(struct uidset *set, const char *text, size_t max_ranges)
{
	g_autoptr(GArray) parts = g_array_new(FALSE, FALSE, sizeof(struct uid_range));
	const char *p = text;

	/* Collected, sorted, then merged: linear after the sort, whatever
	 * order a server sends. */
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *colon = memchr(p, ':', len);
		struct uid_range r;

		if (parts->len >= max_ranges) {
			return false;
		}
		if (colon == NULL) {
			if (!parse_uid(p, len, &r.lo)) {
				return false;
			}
			r.hi = r.lo;
		} else if (!parse_uid(p, (size_t)(colon - p), &r.lo) ||
		           !parse_uid(colon + 1, len - (size_t)(colon - p) - 1, &r.hi)) {
			return false;
		}
		if (r.lo > r.hi) {
			uint32_t t = r.lo;
			r.lo = r.hi;
			r.hi = t;
		}
		g_array_append_val(parts, r);
		if (p[len] == '\0') {
			break;
		}
		p += len + 1;
	}
	g_array_sort(parts, range_cmp);
	g_autoptr(uidset) merged = uidset_new();
	for (guint i = 0; i < parts->len; i++) {
		const struct uid_range *r = &g_array_index(parts, struct uid_range, i);
		guint n = merged->ranges->len;
		struct uid_range *last = n > 0 ? at(merged, n - 1) : NULL;

		if (last != NULL && (uint64_t)r->lo <= (uint64_t)last->hi + 1) {
			if (r->hi > last->hi) {
				merged->count += (uint64_t)r->hi - last->hi;
				last->hi = r->hi;
			}
			continue;
		}
		g_array_append_val(merged->ranges, *r);
		merged->count += width(r);
	}
	if (set->ranges->len == 0) {
		g_array_append_vals(set->ranges, merged->ranges->data, merged->ranges->len);
		set->count = merged->count;
		return true;
	}
	for (guint i = 0; i < merged->ranges->len; i++) {
		uidset_add_range(set, at(merged, i)->lo, at(merged, i)->hi);
	}
	return true;
}

void uidset_append(const struct uidset *set, GString *out)
{
	for (guint i = 0; i < set->ranges->len; i++) {
		const struct uid_range *r = at(set, i);

		if (i > 0) {
			g_string_append_c(out, ',');
		}
		if (r->lo == r->hi) {
			g_string_append_printf(out, "%" G_GUINT32_FORMAT, r->lo);
		} else {
			g_string_append_printf(out, "%" G_GUINT32_FORMAT ":%" G_GUINT32_FORMAT,
			                       r->lo, r->hi);
		}
	}
}
