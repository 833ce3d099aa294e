/* SPDX-License-Identifier: MIT */
/*
 * Compact mode of the mailbox model (N11): with QRESYNC every FETCH names
 * its UID and expunges come as VANISHED, so no sequence → UID map is
 * needed. The folder is two UID sets — the messages at or below the
 * watermark and the unseen ones — and the EXISTS count: a few ranges for a
 * folder of any size.
 *
 * A selection holds the changes it learns (QRESYNC's FETCHes, what the UID
 * search shows gone) and reports them when it completes, together with the
 * mod-sequence they bring the model to: an aborted selection reports
 * nothing and leaves the sets as they were, so the next one finds the same
 * changes again and nothing is lost or told twice.
 */
#include "core/mailbox-private.h"

void mailbox_compact_init(struct mailbox *mb)
{
	mb->all = uidset_new();
	mb->unseen = uidset_new();
	mb->deferred = g_array_new(FALSE, FALSE, sizeof(struct deferred));
	mb->own_seen = uidset_new();
}

static void deferred_clear(struct mailbox *mb)
{
	for (guint i = 0; i < mb->deferred->len; i++) {
		g_strfreev(g_array_index(mb->deferred, struct deferred, i).flags);
	}
	g_array_set_size(mb->deferred, 0);
}

static void snapshots_drop(struct mailbox *mb)
{
	g_clear_pointer(&mb->prev_all, uidset_free);
	g_clear_pointer(&mb->prev_unseen, uidset_free);
}

void mailbox_compact_clear(struct mailbox *mb)
{
	deferred_clear(mb);
	g_array_unref(mb->deferred);
	snapshots_drop(mb);
	uidset_free(mb->all);
	uidset_free(mb->unseen);
	uidset_free(mb->own_seen);
}

void mailbox_compact_forget(struct mailbox *mb)
{
	uidset_clear(mb->all);
	uidset_clear(mb->unseen);
	mb->sets_known = false;
	uidset_clear(mb->own_seen);
	deferred_clear(mb);
	/* A new UIDVALIDITY: the changes since the old mod-sequence mean
	 * nothing, and neither would the old sets after an abort. */
	mb->resync_base = 0;
	if (mb->prev_all != NULL) {
		uidset_clear(mb->prev_all);
		uidset_clear(mb->prev_unseen);
	}
}

/* Keeps only the members of set that are in within. */
static void intersect(struct uidset *set, const struct uidset *within)
{
	g_autoptr(uidset) outside = uidset_copy(set);

	uidset_remove_set(outside, within);
	uidset_remove_set(set, outside);
}

void mailbox_restore_sets(struct mailbox *mb, uint64_t modseq, const struct uidset *all,
                          const struct uidset *unseen)
{
	uidset_free(mb->all);
	uidset_free(mb->unseen);
	mb->all = uidset_copy(all);
	mb->unseen = uidset_copy(unseen);
	/* Only UIDs at or below the watermark belong to the sets. */
	uidset_remove_above(mb->all, mb->watermark);
	intersect(mb->unseen, mb->all);
	mb->modseq = modseq;
	mb->sets_known = mb->have_watermark;
	/* Sets are kept in compact mode only: a server that turns out to
	 * offer less drops them (mailbox_set_compact()). */
	mb->compact = true;
}

/* Full mode: the sets from the map, UIDs in ascending order, runs added
 * as ranges. */
static bool sets_from_map(struct mailbox *mb)
{
	uint32_t run_lo = 0;
	uint32_t run_hi = 0;
	uint32_t unseen_lo = 0;
	uint32_t unseen_hi = 0;

	uidset_clear(mb->all);
	uidset_clear(mb->unseen);
	for (guint i = 0; i < mb->seq->len; i++) {
		const struct entry *e = &g_array_index(mb->seq, struct entry, i);

		if (e->uid == 0 || e->uid > mb->watermark) {
			continue;
		}
		if (!(e->flags & FLAG_KNOWN)) {
			return false;
		}
		if (run_hi != 0 && e->uid == run_hi + 1) {
			run_hi = e->uid;
		} else {
			if (run_hi != 0) {
				uidset_add_range(mb->all, run_lo, run_hi);
			}
			run_lo = run_hi = e->uid;
		}
		if (e->flags & FLAG_SEEN) {
			continue;
		}
		if (unseen_hi != 0 && e->uid == unseen_hi + 1) {
			unseen_hi = e->uid;
		} else {
			if (unseen_hi != 0) {
				uidset_add_range(mb->unseen, unseen_lo, unseen_hi);
			}
			unseen_lo = unseen_hi = e->uid;
		}
	}
	if (run_hi != 0) {
		uidset_add_range(mb->all, run_lo, run_hi);
	}
	if (unseen_hi != 0) {
		uidset_add_range(mb->unseen, unseen_lo, unseen_hi);
	}
	return true;
}

bool mailbox_get_sets(struct mailbox *mb, const struct uidset **all, const struct uidset **unseen)
{
	if (!mb->synced || mb->selecting || !mb->have_watermark) {
		return false;
	}
	if (!mb->compact && !sets_from_map(mb)) {
		return false;
	}
	if (mb->compact && !mb->sets_known) {
		return false;
	}
	*all = mb->all;
	*unseen = mb->unseen;
	return true;
}

bool mailbox_is_compact(const struct mailbox *mb)
{
	return mb->compact;
}

void mailbox_compact_select_begin(struct mailbox *mb)
{
	snapshots_drop(mb);
	mb->prev_all = uidset_copy(mb->all);
	mb->prev_unseen = uidset_copy(mb->unseen);
	deferred_clear(mb);
	mb->resync_base = mb->modseq;
	mb->select_modseq = 0;
	mb->exists = 0;
}

void mailbox_compact_abort(struct mailbox *mb)
{
	/* Nothing of it was reported: the next selection starts from the
	 * same sets and the same mod-sequence and finds it all again. */
	if (mb->prev_all != NULL) {
		uidset_free(mb->all);
		uidset_free(mb->unseen);
		mb->all = g_steal_pointer(&mb->prev_all);
		mb->unseen = g_steal_pointer(&mb->prev_unseen);
	}
	deferred_clear(mb);
}

static void defer(struct mailbox *mb, enum watch_event_type type, uint32_t uid,
                  const char *const *flags, bool seen)
{
	struct deferred d = {
	    .type = type,
	    .uid = uid,
	    .flags = flags != NULL ? g_strdupv((char **)flags) : NULL,
	    .seen = seen,
	};

	g_array_append_val(mb->deferred, d);
}

uint32_t mailbox_search_limit(const struct mailbox *mb)
{
	return mb->have_watermark ? mb->watermark : MAILBOX_SEARCH_ALL;
}

bool mailbox_sets_resumable(const struct mailbox *mb)
{
	return mb->compact && mb->sets_known && mb->have_watermark;
}

bool mailbox_set_all(struct mailbox *mb, const struct uidset *uids)
{
	g_autoptr(uidset) now = uidset_copy(uids);

	if (!mb->have_watermark) {
		/* The baseline: everything there is, taken as known. */
		uidset_free(mb->all);
		mb->all = g_steal_pointer(&now);
		uidset_clear(mb->unseen);
		return true;
	}
	uidset_remove_above(now, mb->watermark);
	bool unknown = !mb->sets_known;
	if (mb->sets_known) {
		/* What was there and is not now was expunged meanwhile. */
		g_autoptr(uidset) gone = uidset_copy(mb->all);
		size_t n;

		uidset_remove_set(gone, now);
		const struct uid_range *r = uidset_ranges(gone, &n);
		for (size_t i = 0; i < n; i++) {
			for (uint64_t u = r[i].lo; u <= r[i].hi; u++) {
				defer(mb, WATCH_EVENT_REMOVED, (uint32_t)u, NULL, false);
			}
		}
		g_autoptr(uidset) appeared = uidset_copy(now);
		uidset_remove_set(appeared, mb->all);
		unknown = uidset_count(appeared) > 0;
		uidset_remove_set(mb->unseen, gone);
	}
	uidset_free(mb->all);
	mb->all = g_steal_pointer(&now);
	return unknown;
}

bool mailbox_unseen_agrees(struct mailbox *mb, uint64_t count)
{
	/* A count that disagrees leaves the sets known: the unseen UIDs are
	 * asked for next (mailbox_set_unseen()), and a selection aborted
	 * before they come restores sets that are still resumable, so the
	 * next one resynchronises from them and finds what went meanwhile
	 * again (N11). */
	return count == uidset_count(mb->unseen);
}

void mailbox_set_unseen(struct mailbox *mb, const struct uidset *uids)
{
	uidset_free(mb->unseen);
	mb->unseen = uidset_copy(uids);
	/* Only messages the model holds can be unseen in it. */
	intersect(mb->unseen, mb->all);
	mb->sets_known = true;
}

void mailbox_compact_select_end(struct mailbox *mb)
{
	snapshots_drop(mb);
	/* The selection compared what the server holds with what was
	 * reported: a later FETCH is news. */
	uidset_clear(mb->own_seen);
	if (!mb->have_watermark) {
		/* First selection (or new UIDVALIDITY): the baseline (N2). */
		mb->have_watermark = true;
		mb->watermark = uidset_max(mb->all);
		if (mb->uidnext > 0 && mb->uidnext - 1 > mb->watermark) {
			mb->watermark = mb->uidnext - 1;
		}
	}
	mb->modseq = MAX(mb->modseq, mb->select_modseq);
	/* The held changes go out now, against the state they lead to. */
	g_autoptr(GArray) held = g_steal_pointer(&mb->deferred);
	mb->deferred = g_array_new(FALSE, FALSE, sizeof(struct deferred));
	for (guint i = 0; i < held->len; i++) {
		struct deferred *d = &g_array_index(held, struct deferred, i);

		mailbox_emit_message(mb, d->type, d->uid, (const char *const *)d->flags, d->seen);
		g_strfreev(d->flags);
	}
}

void mailbox_compact_vanished(struct mailbox *mb, const struct uidset *uids, bool earlier)
{
	if (earlier) {
		/* QRESYNC's account of what went while we were away: the UID
		 * search of the selection shows the same, exactly for the
		 * messages we knew. */
		return;
	}
	/* What the folder held of the set: all minus (all minus set). UIDs
	 * it did not hold are ignored (N9). */
	g_autoptr(uidset) kept = uidset_copy(mb->all);
	g_autoptr(uidset) gone = uidset_copy(mb->all);
	uint32_t top = MAX(uidset_max(mb->all), mb->watermark);
	guint pending_before = (guint)g_tree_nnodes(mb->pending);

	uidset_remove_set(kept, uids);
	uidset_remove_set(gone, kept);
	mailbox_drop_pending_in(mb, uids);
	/* The count drops for every message of the folder named, and for
	 * UIDs above all we know (new, not fetched yet), as far as EXISTS
	 * has room for them. */
	uint64_t above = uidset_count(uids) - uidset_count_upto(uids, top);
	uint64_t known = uidset_count(mb->all) + pending_before;
	uint64_t unknown = mb->exists > known ? mb->exists - known : 0;
	guint dropped = pending_before - (guint)g_tree_nnodes(mb->pending);
	/* Pending messages are above the watermark too: not twice. */
	uint64_t drop = uidset_count(gone) + dropped + MIN(above - MIN(above, dropped), unknown);

	mb->exists -= (uint32_t)MIN(drop, mb->exists);
	uidset_remove_set(mb->all, gone);
	uidset_remove_set(mb->unseen, gone);
	size_t n = 0;
	const struct uid_range *r = uidset_ranges(gone, &n);

	for (size_t i = 0; i < n; i++) {
		for (uint64_t uid = r[i].lo; uid <= r[i].hi; uid++) {
			if (mb->selecting) {
				defer(mb, WATCH_EVENT_REMOVED, (uint32_t)uid, NULL, false);
			} else {
				mailbox_emit_message(mb, WATCH_EVENT_REMOVED, (uint32_t)uid, NULL,
				                     false);
			}
		}
	}
}

/* True if the details kept for uid (what its last event said) have these
 * flags. */
static bool details_flags_same(const struct mailbox *mb, uint32_t uid, uint16_t bits,
                               uint32_t keywords)
{
	const struct mailbox_message *m = mailbox_get_message(mb, uid);
	uint16_t known_bits = 0;
	uint32_t known_keywords = 0;

	if (m == NULL) {
		return false;
	}
	mailbox_flags_parse((const char *const *)m->flags, &known_bits, &known_keywords);
	return known_bits == bits && known_keywords == keywords;
}

/* True if mailbox_add_seen() reported uid read with these flags: those of
 * its details, or \Seen alone when it had none. */
static bool own_seen_reported(const struct mailbox *mb, uint32_t uid, uint16_t bits,
                              uint32_t keywords)
{
	if (!uidset_contains(mb->own_seen, uid)) {
		return false;
	}
	if (mailbox_details_has(mb, uid)) {
		return details_flags_same(mb, uid, bits, keywords);
	}
	return bits == (FLAG_KNOWN | FLAG_SEEN) && keywords == 0;
}

bool mailbox_compact_add_seen(struct mailbox *mb, uint32_t uid)
{
	if (!uidset_contains(mb->all, uid) || !uidset_contains(mb->unseen, uid)) {
		return false;
	}
	uidset_remove(mb->unseen, uid);
	uidset_add(mb->own_seen, uid);
	return true;
}

void mailbox_compact_fetch(struct mailbox *mb, const struct mailbox_fetch *f)
{
	uint16_t bits = 0;
	uint32_t keywords = 0;

	if (!f->has_uid || f->uid == 0 || !mb->have_watermark) {
		/* Every FETCH names its UID under QRESYNC; before the baseline
		 * the searches of the selection tell what there is. */
		return;
	}
	if (f->has_flags) {
		mailbox_flags_parse(f->flags, &bits, &keywords);
	}
	if (f->uid > mb->watermark) {
		mailbox_pending_update(mb, f->uid, f, bits);
		return;
	}
	bool seen = (bits & FLAG_SEEN) != 0;
	bool was_unseen = uidset_contains(mb->unseen, f->uid);
	bool known = uidset_contains(mb->all, f->uid);
	bool own = known && f->has_flags && own_seen_reported(mb, f->uid, bits, keywords);
	if (f->has_header && known && !mailbox_details_has(mb, f->uid)) {
		/* Details of a message of the baseline: for listings only. */
		mailbox_details_add(mb, f->uid, f->header, f->internaldate,
		                    f->has_flags ? f->flags : NULL, !was_unseen);
	}
	if (!f->has_flags || !known) {
		return;
	}
	if (seen) {
		uidset_remove(mb->unseen, f->uid);
	} else {
		uidset_add(mb->unseen, f->uid);
	}
	if (mb->selecting) {
		/* QRESYNC's changes since the mod-sequence we resynchronise
		 * from; anything older was reported before. A message that
		 * came since is among them with the flags it was reported
		 * with: no change, unless they differ now. */
		if ((f->modseq > mb->resync_base || (f->modseq == 0 && seen == was_unseen)) &&
		    !details_flags_same(mb, f->uid, bits, keywords) && !own) {
			defer(mb, WATCH_EVENT_CHANGED, f->uid, f->flags, seen);
		}
		return;
	}
	mb->modseq = MAX(mb->modseq, f->modseq);
	if (uidset_contains(mb->own_seen, f->uid)) {
		/* The server's word on a change we reported ourselves: news
		 * only if it says more than we did. */
		uidset_remove(mb->own_seen, f->uid);
		if (own) {
			return;
		}
	}
	/* Unasked, a FETCH of flags is a change (RFC 9051 §7.5.2); our own
	 * header fetch of details repeats flags that did not change. */
	if (!f->has_header || seen == was_unseen) {
		mailbox_emit_message(mb, WATCH_EVENT_CHANGED, f->uid, f->flags, seen);
	}
}

bool mailbox_compact_new_ready(const struct mailbox *mb)
{
	/* Every message above the watermark is collected. */
	return uidset_count(mb->all) + (uint64_t)g_tree_nnodes(mb->pending) >= mb->exists;
}

void mailbox_compact_reported(struct mailbox *mb, uint32_t uid, bool seen)
{
	uidset_add(mb->all, uid);
	if (!seen) {
		uidset_add(mb->unseen, uid);
	}
}

void mailbox_compact_missing_details(const struct mailbox *mb, size_t max, GArray *uids)
{
	size_t n;
	const struct uid_range *r = uidset_ranges(mb->unseen, &n);
	size_t looked = 0;

	/* Newest first, among the newest MAILBOX_CATCHUP_DETAILS unseen. */
	for (size_t i = n; i > 0 && looked < MAILBOX_CATCHUP_DETAILS && uids->len < max; i--) {
		for (uint64_t u = r[i - 1].hi;
		     u >= r[i - 1].lo && looked < MAILBOX_CATCHUP_DETAILS && uids->len < max; u--) {
			uint32_t uid = (uint32_t)u;

			looked++;
			if (!mailbox_details_has(mb, uid)) {
				g_array_append_val(uids, uid);
			}
		}
	}
}
