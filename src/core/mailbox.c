/* SPDX-License-Identifier: MIT */
#include "core/mailbox-private.h"

#include <string.h>

struct mailbox *mailbox_create(const char *account, const char *folder, mailbox_sink sink,
                               void *user_data)
{
	struct mailbox *mb = g_new0(struct mailbox, 1);

	mb->account = g_strdup(account);
	mb->folder = g_strdup(folder);
	mb->sink = sink;
	mb->user_data = user_data;
	mb->seq = g_array_new(FALSE, TRUE, sizeof(struct entry));
	mb->pending = g_tree_new_full(mailbox_uid_cmp, NULL, NULL, mailbox_pending_free);
	mailbox_details_init(mb);
	mailbox_compact_init(mb);
	return mb;
}

void mailbox_destroy(struct mailbox *mb)
{
	if (mb == NULL) {
		return;
	}
	g_free(mb->account);
	g_free(mb->folder);
	g_array_unref(mb->seq);
	if (mb->prev != NULL) {
		g_array_unref(mb->prev);
	}
	g_tree_unref(mb->pending);
	mailbox_details_free(mb);
	mailbox_compact_clear(mb);
	g_free(mb->special_use);
	g_free(mb);
}

const char *mailbox_get_folder(const struct mailbox *mb)
{
	return mb->folder;
}

bool mailbox_same_folder(const char *a, const char *b)
{
	return strcmp(a, b) == 0 ||
	       (g_ascii_strcasecmp(a, "INBOX") == 0 && g_ascii_strcasecmp(b, "INBOX") == 0);
}

void mailbox_restore(struct mailbox *mb, uint32_t uidvalidity, uint32_t watermark)
{
	mb->have_uidvalidity = true;
	mb->uidvalidity = uidvalidity;
	mb->have_watermark = true;
	mb->watermark = watermark;
	mb->restored = true;
}

static const struct {
	const char *name;
	uint16_t bit;
} system_flags[] = {
    {"\\Seen", FLAG_SEEN},       {"\\Answered", FLAG_ANSWERED}, {"\\Flagged", FLAG_FLAGGED},
    {"\\Deleted", FLAG_DELETED}, {"\\Draft", FLAG_DRAFT},
};

void mailbox_flags_add_names(uint16_t bits, GStrvBuilder *names)
{
	for (size_t j = 0; j < G_N_ELEMENTS(system_flags); j++) {
		if (bits & system_flags[j].bit) {
			g_strv_builder_add(names, system_flags[j].name);
		}
	}
}

void mailbox_flags_parse(const char *const *flags, uint16_t *bits, uint32_t *keywords)
{
	*bits = FLAG_KNOWN;
	*keywords = 0;
	for (size_t i = 0; flags != NULL && flags[i] != NULL; i++) {
		bool found = false;

		for (size_t j = 0; j < G_N_ELEMENTS(system_flags); j++) {
			if (g_ascii_strcasecmp(flags[i], system_flags[j].name) == 0) {
				*bits |= system_flags[j].bit;
				found = true;
			}
		}
		/* \Recent is per session (M8): it must not look like a change. */
		if (!found && g_ascii_strcasecmp(flags[i], "\\Recent") != 0) {
			g_autofree char *lower = g_ascii_strdown(flags[i], -1);
			*keywords += g_str_hash(lower);
		}
	}
}

static bool flags_differ(const struct entry *a, uint16_t bits, uint32_t keywords)
{
	if (!(a->flags & FLAG_KNOWN)) {
		return false;
	}
	if (a->flags & FLAG_PARTIAL) {
		return (a->flags & FLAG_SEEN) != (bits & FLAG_SEEN);
	}
	return a->flags != bits || a->keywords != keywords;
}

/* A FETCH of flags for a message whose flags came from saved sets: a
 * change if \Seen differs, or if it is news — unasked, or named by a
 * CHANGEDSINCE resync as changed after the saved mod-sequence (N7). */
static bool partial_changed(const struct mailbox *mb, const struct entry *old, uint16_t bits,
                            const struct mailbox_fetch *f)
{
	if ((old->flags & FLAG_SEEN) != (bits & FLAG_SEEN)) {
		return true;
	}
	if (mb->selecting) {
		return f->modseq != 0 && mb->resync_base != 0 && f->modseq > mb->resync_base;
	}
	return !f->has_header;
}

/* The saved sets as a map of every message at or below the watermark,
 * \Seen known and the other flags not (N1): what a selection without
 * QRESYNC compares with, so that what changed and went while the daemon
 * was stopped is reported on any server. */
static void map_from_sets(struct mailbox *mb)
{
	size_t n;
	const struct uid_range *r = uidset_ranges(mb->all, &n);

	g_array_set_size(mb->seq, 0);
	for (size_t i = 0; i < n; i++) {
		for (uint64_t u = r[i].lo; u <= r[i].hi; u++) {
			struct entry e = {
			    .uid = (uint32_t)u,
			    .flags = FLAG_KNOWN | FLAG_PARTIAL |
			             (uidset_contains(mb->unseen, (uint32_t)u) ? 0 : FLAG_SEEN),
			};
			g_array_append_val(mb->seq, e);
		}
	}
}

void mailbox_set_compact(struct mailbox *mb, bool compact)
{
	if (mb->compact == compact) {
		return;
	}
	/* The other mode's knowledge does not carry over, except saved sets
	 * into a map; the watermark does, and the next selection lists the
	 * folder afresh. */
	mb->compact = compact;
	g_array_set_size(mb->seq, 0);
	if (!compact && mb->sets_known && mb->have_watermark) {
		map_from_sets(mb);
	}
	mailbox_compact_forget(mb);
}

static void forget_messages(struct mailbox *mb)
{
	mailbox_details_clear(mb);
	mailbox_compact_forget(mb);
	/* The size stays: "* n EXISTS" of this selection may have come before
	 * its [UIDVALIDITY] (Dovecot sends it first). Only identities go. */
	if (mb->seq->len > 0) {
		memset(mb->seq->data, 0, (size_t)mb->seq->len * sizeof(struct entry));
	}
	if (mb->prev != NULL) {
		g_array_set_size(mb->prev, 0);
	}
	mailbox_pending_clear(mb);
}

void mailbox_select_begin(struct mailbox *mb)
{
	if (mb->compact) {
		mailbox_compact_select_begin(mb);
		mailbox_pending_clear(mb);
		mb->selecting = true;
		return;
	}
	GArray *prev = g_array_sized_new(FALSE, FALSE, sizeof(struct entry), mb->seq->len);

	for (guint i = 0; i < mb->seq->len; i++) {
		struct entry *e = &g_array_index(mb->seq, struct entry, i);

		/* Only messages with an identity can be compared later; the
		 * seq order of a selection is UID order (RFC 9051 §2.3.1.2). */
		if (e->uid != 0) {
			g_array_append_val(prev, *e);
		}
	}
	if (mb->prev != NULL) {
		g_array_unref(mb->prev);
	}
	mb->prev = prev;
	mb->resync_base = mb->modseq;
	g_array_set_size(mb->seq, 0);
	mailbox_pending_clear(mb);
	mb->selecting = true;
}

bool mailbox_set_uidvalidity(struct mailbox *mb, uint32_t uidvalidity)
{
	bool changed = mb->have_uidvalidity && mb->uidvalidity != uidvalidity;

	if (changed) {
		/* M3/N2: old UIDs mean nothing now; re-baseline, and sum it up
		 * in one reset event when the selection completes. A selection
		 * that was aborted before keeps the value reported last. */
		if (!mb->reset_pending) {
			mb->reset_pending = true;
			mb->reset_from = mb->uidvalidity;
		}
		forget_messages(mb);
		mb->modseq = 0;
		mb->have_watermark = false;
		mb->watermark = 0;
		mb->synced = false;
	}
	mb->have_uidvalidity = true;
	mb->uidvalidity = uidvalidity;
	return changed;
}

void mailbox_set_uidnext(struct mailbox *mb, uint32_t uidnext)
{
	mb->uidnext = uidnext;
}

static const struct entry *prev_find(const struct mailbox *mb, uint32_t uid)
{
	guint lo = 0;
	guint hi = mb->prev != NULL ? mb->prev->len : 0;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		const struct entry *e = &g_array_index(mb->prev, struct entry, mid);

		if (e->uid == uid) {
			return e;
		}
		if (e->uid < uid) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}
static int entry_cmp_uid(gconstpointer a, gconstpointer b)
{
	uint32_t x = ((const struct entry *)a)->uid;
	uint32_t y = ((const struct entry *)b)->uid;

	return (x > y) - (x < y);
}

/* Only the fetch that follows the first selection after a restart reports
 * mail that came while we were not running. */
static void select_done(struct mailbox *mb)
{
	mb->catchup = mb->restored && !mb->synced && mailbox_wants_new(mb);
	mb->synced = true;
	mailbox_emit_reset(mb);
	mailbox_flush_unseen(mb);
}

void mailbox_select_end(struct mailbox *mb)
{
	uint32_t max_uid = 0;

	if (mb->compact) {
		mb->selecting = false;
		mailbox_compact_select_end(mb);
		select_done(mb);
		return;
	}
	g_autoptr(GArray) now = g_array_sized_new(FALSE, FALSE, sizeof(struct entry), mb->seq->len);

	mb->selecting = false;
	for (guint i = 0; i < mb->seq->len; i++) {
		const struct entry *e = &g_array_index(mb->seq, struct entry, i);

		if (e->uid != 0) {
			g_array_append_val(now, *e);
			max_uid = MAX(max_uid, e->uid);
		}
	}
	g_array_sort(now, entry_cmp_uid);

	if (!mb->have_watermark) {
		/* First selection (or new UIDVALIDITY): what is there now is the
		 * baseline, not news (N2). */
		mb->have_watermark = true;
		mb->watermark = max_uid;
		if (mb->uidnext > 0 && mb->uidnext - 1 > mb->watermark) {
			mb->watermark = mb->uidnext - 1;
		}
	} else if (mb->prev != NULL) {
		/* Messages known before that are gone now were expunged while
		 * we were away. Both arrays are in UID order. */
		guint j = 0;

		for (guint i = 0; i < mb->prev->len; i++) {
			const struct entry *old = &g_array_index(mb->prev, struct entry, i);

			while (j < now->len && g_array_index(now, struct entry, j).uid < old->uid) {
				j++;
			}
			bool present =
			    j < now->len && g_array_index(now, struct entry, j).uid == old->uid;
			if (!present && old->uid <= mb->watermark) {
				mailbox_emit_message(mb, WATCH_EVENT_REMOVED, old->uid, NULL,
				                     false);
			}
		}
	}
	if (mb->prev != NULL) {
		g_array_unref(mb->prev);
		mb->prev = NULL;
	}
	select_done(mb);
}

void mailbox_exists(struct mailbox *mb, uint32_t count)
{
	/* Untrusted input: a count far beyond what we can hold is refused by
	 * the caller (IMAP_SESSION_MAX_EXISTS); GArray grows as needed. EXISTS never shrinks
	 * the mailbox (H1); a smaller value means the server disagrees with
	 * our map, so trust it. */
	if (mb->compact) {
		mb->exists = count;
		return;
	}
	g_array_set_size(mb->seq, count);
}

static void entry_removed(struct mailbox *mb, const struct entry *e)
{
	if (e->uid == 0) {
		return;
	}
	if (g_tree_remove(mb->pending, GUINT_TO_POINTER(e->uid))) {
		return;
	}
	if (!mb->selecting && mb->have_watermark && e->uid <= mb->watermark) {
		mailbox_emit_message(mb, WATCH_EVENT_REMOVED, e->uid, NULL, false);
	}
}

bool mailbox_expunge(struct mailbox *mb, uint32_t seq)
{
	if (mb->compact) {
		return false;
	}
	if (seq == 0 || seq > mb->seq->len) {
		return true;
	}
	struct entry e = g_array_index(mb->seq, struct entry, seq - 1);
	g_array_remove_index(mb->seq, seq - 1);
	entry_removed(mb, &e);
	return true;
}

/* Index of uid in the selection, or -1. Outside a selection the map is in
 * UID order with unknown entries only at the end, so a binary search over
 * the known part finds it; while a selection is being listed, entries fill
 * in any order and a linear scan is used. */
gssize mailbox_seq_find(const struct mailbox *mb, uint32_t uid)
{
	guint known = mb->seq->len;

	while (known > 0 && g_array_index(mb->seq, struct entry, known - 1).uid == 0) {
		known--;
	}
	if (!mb->selecting) {
		guint lo = 0;
		guint hi = known;

		while (lo < hi) {
			guint mid = lo + (hi - lo) / 2;
			uint32_t v = g_array_index(mb->seq, struct entry, mid).uid;

			if (v == uid) {
				return mid;
			}
			if (v < uid && v != 0) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}
		return -1;
	}
	for (guint k = 0; k < known; k++) {
		if (g_array_index(mb->seq, struct entry, k).uid == uid) {
			return k;
		}
	}
	return -1;
}

static gboolean collect_pending_in(gpointer key, gpointer value, gpointer data)
{
	void **args = data;

	uint32_t uid = GPOINTER_TO_UINT(key);

	(void)value;
	if (uidset_contains(args[0], uid)) {
		g_array_append_val((GArray *)args[1], uid);
	}
	return FALSE;
}

void mailbox_drop_pending_in(struct mailbox *mb, const struct uidset *uids)
{
	g_autoptr(GArray) drop = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	void *args[] = {(void *)uids, drop};

	g_tree_foreach(mb->pending, collect_pending_in, args);
	for (guint i = 0; i < drop->len; i++) {
		g_tree_remove(mb->pending, GUINT_TO_POINTER(g_array_index(drop, uint32_t, i)));
	}
}

void mailbox_vanished(struct mailbox *mb, const struct uidset *uids, bool earlier)
{
	guint kept = 0;
	uint32_t max_known = 0;

	if (mb->compact) {
		mailbox_compact_vanished(mb, uids, earlier);
		return;
	}
	mailbox_drop_pending_in(mb, uids);
	if (earlier) {
		/* Already gone before this selection; the full listing will
		 * not contain them, select_end reports them. */
		return;
	}
	/* One pass that keeps what stays: a folder emptied at once (VANISHED
	 * 1:n) costs O(n), not O(n²). UIDs the selection does not hold are
	 * ignored (N9). */
	for (guint k = 0; k < mb->seq->len; k++) {
		struct entry e = g_array_index(mb->seq, struct entry, k);

		max_known = MAX(max_known, e.uid);
		if (e.uid != 0 && uidset_contains(uids, e.uid)) {
			entry_removed(mb, &e);
			continue;
		}
		g_array_index(mb->seq, struct entry, kept++) = e;
	}
	g_array_set_size(mb->seq, kept);
	/* Messages announced by EXISTS whose UID we never learned are the
	 * unknown entries at the end, above every known UID: as many of them
	 * go as the set names UIDs up there (N9). */
	uint64_t above = uidset_count(uids) - uidset_count_upto(uids, max_known);

	for (guint j = mb->seq->len; j > 0 && above > 0; j--) {
		if (g_array_index(mb->seq, struct entry, j - 1).uid == 0) {
			g_array_remove_index(mb->seq, j - 1);
			above--;
		}
	}
}
void mailbox_fetch(struct mailbox *mb, const struct mailbox_fetch *f)
{
	uint16_t bits = 0;
	uint32_t keywords = 0;

	if (mb->compact) {
		mailbox_compact_fetch(mb, f);
		return;
	}
	if (f->seq == 0 || f->seq > mb->seq->len) {
		return; /* not a message of this selection: ignore (P1) */
	}
	struct entry *e = &g_array_index(mb->seq, struct entry, f->seq - 1);
	if (f->has_uid && f->uid != 0) {
		e->uid = f->uid;
	}
	if (f->has_flags) {
		mailbox_flags_parse(f->flags, &bits, &keywords);
	}
	if (e->uid == 0) {
		if (f->has_flags) {
			e->flags = bits;
			e->keywords = keywords;
		}
		return;
	}

	if (mb->selecting) {
		const struct entry *old = prev_find(mb, e->uid);

		if (f->has_flags && old != NULL &&
		    ((old->flags & FLAG_PARTIAL) ? partial_changed(mb, old, bits, f)
		                                 : flags_differ(old, bits, keywords))) {
			mailbox_emit_message(mb, WATCH_EVENT_CHANGED, e->uid, f->flags,
			                     (bits & FLAG_SEEN) != 0);
		}
	} else if (mb->have_watermark && e->uid > mb->watermark) {
		mailbox_pending_update(mb, e->uid, f, bits);
	} else {
		if (f->has_header && !mailbox_details_has(mb, e->uid)) {
			/* Details of a message known before (an unseen one from
			 * the baseline): kept for listings, never reported as
			 * new. The flags are those known before this FETCH so
			 * that a change below is still reported. */
			bool seen = (e->flags & FLAG_SEEN) != 0;

			mailbox_details_add(mb, e->uid, f->header, f->internaldate,
			                    f->has_flags ? f->flags : NULL, seen);
		}
		if (f->has_flags && ((e->flags & FLAG_PARTIAL) ? partial_changed(mb, e, bits, f)
		                                               : flags_differ(e, bits, keywords))) {
			/* Update before emitting so a listener that asks for the
			 * unseen count sees the new state. */
			e->flags = bits;
			e->keywords = keywords;
			mailbox_emit_message(mb, WATCH_EVENT_CHANGED, e->uid, f->flags,
			                     (bits & FLAG_SEEN) != 0);
		}
	}
	if (f->has_flags) {
		e->flags = bits;
		e->keywords = keywords;
	}
}

bool mailbox_new_ready(const struct mailbox *mb)
{
	if (g_tree_nnodes(mb->pending) == 0 || mb->pending_overflow) {
		return false;
	}
	for (guint i = 0; i < mb->seq->len; i++) {
		if (g_array_index(mb->seq, struct entry, i).uid == 0) {
			return false;
		}
	}
	if (mb->compact && !mailbox_compact_new_ready(mb)) {
		return false;
	}
	for (GTreeNode *node = g_tree_node_first(mb->pending); node != NULL;
	     node = g_tree_node_next(node)) {
		const struct pending *p = g_tree_node_value(node);

		if (!p->has_header) {
			return false;
		}
	}
	return true;
}

bool mailbox_wants_new(const struct mailbox *mb)
{
	if (mb->compact) {
		/* The sets hold every message at or below the watermark. */
		return mb->exists > uidset_count(mb->all);
	}
	for (guint i = mb->seq->len; i > 0; i--) {
		const struct entry *e = &g_array_index(mb->seq, struct entry, i - 1);

		/* UID order = seq order: unknown or new entries are at the end. */
		if (e->uid == 0 || (mb->have_watermark && e->uid > mb->watermark)) {
			return true;
		}
		return false;
	}
	return false;
}

uint32_t mailbox_get_fetch_start(const struct mailbox *mb)
{
	return mb->watermark == UINT32_MAX ? UINT32_MAX : mb->watermark + 1;
}

/* How many messages at the start of the map are known and at or below the
 * watermark: a prefix, since UID order is sequence order. */
static uint32_t known_prefix(const struct mailbox *mb)
{
	guint lo = 0;
	guint hi = mb->seq->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		uint32_t uid = g_array_index(mb->seq, struct entry, mid).uid;

		if (uid != 0 && uid <= mb->watermark) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

bool mailbox_count_new(const struct mailbox *mb, uint64_t *count)
{
	uint64_t known = mb->compact ? uidset_count(mb->all) : known_prefix(mb);
	uint64_t exists = mailbox_get_exists(mb);

	if (!mb->have_watermark || mb->selecting) {
		return false;
	}
	*count = exists > known ? exists - known : 0;
	return true;
}

void mailbox_abort(struct mailbox *mb)
{
	mailbox_pending_clear(mb);
	if (mb->selecting && mb->compact) {
		mb->selecting = false;
		mailbox_compact_abort(mb);
		return;
	}
	if (mb->selecting) {
		/* Keep what was known before this selection for the next one. */
		mb->selecting = false;
		if (mb->prev != NULL) {
			g_array_set_size(mb->seq, 0);
			g_array_append_vals(mb->seq, mb->prev->data, mb->prev->len);
			g_array_unref(mb->prev);
			mb->prev = NULL;
		}
	}
}

bool mailbox_set_uids(struct mailbox *mb, const uint32_t *uids, size_t n)
{
	if (!mb->selecting || n != mb->seq->len) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &g_array_index(mb->seq, struct entry, i);

		if ((e->uid != 0 && e->uid != uids[i]) || uids[i] == 0 ||
		    (i > 0 && uids[i] <= uids[i - 1])) {
			return false;
		}
		e->uid = uids[i];
		if (!(e->flags & FLAG_KNOWN)) {
			/* Unchanged since the last selection: carry the flags. */
			const struct entry *old = prev_find(mb, e->uid);

			if (old != NULL) {
				e->flags = old->flags;
				e->keywords = old->keywords;
			}
		}
	}
	return true;
}
