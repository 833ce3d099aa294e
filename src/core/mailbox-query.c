/* SPDX-License-Identifier: MIT */
/*
 * What the sessions and the account ask of the mailbox model — validity,
 * watermark, counts, which UIDs it knows and which still lack details or
 * flags — and the facts they hand it that report nothing by themselves:
 * the mod-sequence and the special use. Changes are in mailbox.c and
 * mailbox-compact.c.
 */
#include "core/mailbox-private.h"

uint32_t mailbox_get_uidvalidity(const struct mailbox *mb)
{
	return mb->uidvalidity;
}

uint32_t mailbox_get_watermark(const struct mailbox *mb)
{
	return mb->watermark;
}

uint32_t mailbox_get_uidnext(const struct mailbox *mb)
{
	return mb->uidnext;
}

uint32_t mailbox_get_exists(const struct mailbox *mb)
{
	return mb->compact ? mb->exists : mb->seq->len;
}

uint32_t mailbox_get_unseen(const struct mailbox *mb)
{
	uint32_t n = 0;

	if (mb->compact) {
		return (uint32_t)MIN(uidset_count(mb->unseen), UINT32_MAX);
	}
	for (guint i = 0; i < mb->seq->len; i++) {
		const struct entry *e = &g_array_index(mb->seq, struct entry, i);

		if ((e->flags & FLAG_KNOWN) && !(e->flags & FLAG_SEEN)) {
			n++;
		}
	}
	return n;
}

bool mailbox_is_synced(const struct mailbox *mb)
{
	return mb->synced && !mb->selecting;
}

void mailbox_get_unseen_uids(const struct mailbox *mb, GArray *uids)
{
	if (mb->compact) {
		size_t n;
		const struct uid_range *r = uidset_ranges(mb->unseen, &n);

		for (size_t i = 0; i < n; i++) {
			for (uint64_t u = r[i].lo; u <= r[i].hi; u++) {
				uint32_t uid = (uint32_t)u;
				g_array_append_val(uids, uid);
			}
		}
		return;
	}
	for (guint i = 0; i < mb->seq->len; i++) {
		const struct entry *e = &g_array_index(mb->seq, struct entry, i);

		if (e->uid != 0 && (e->flags & FLAG_KNOWN) && !(e->flags & FLAG_SEEN)) {
			g_array_append_val(uids, e->uid);
		}
	}
}

bool mailbox_has_uid(const struct mailbox *mb, uint32_t uid)
{
	if (mb->compact) {
		return uidset_contains(mb->all, uid);
	}
	return mailbox_seq_find(mb, uid) >= 0;
}

void mailbox_get_missing_details(const struct mailbox *mb, size_t max, GArray *uids)
{
	size_t looked = 0;

	if (mb->compact) {
		mailbox_compact_missing_details(mb, max, uids);
		return;
	}
	/* Newest first: the most recent unseen mail matters most. */
	for (guint i = mb->seq->len; i > 0 && uids->len < max && looked < MAILBOX_CATCHUP_DETAILS;
	     i--) {
		const struct entry *e = &g_array_index(mb->seq, struct entry, i - 1);

		if (e->uid == 0 || e->uid > mb->watermark || !(e->flags & FLAG_KNOWN) ||
		    (e->flags & FLAG_SEEN)) {
			continue;
		}
		looked++;
		if (!mailbox_details_has(mb, e->uid)) {
			g_array_append_val(uids, e->uid);
		}
	}
}

void mailbox_set_modseq(struct mailbox *mb, uint64_t modseq)
{
	if (mb->compact && mb->selecting && modseq > 0) {
		/* Applied when the selection completes, with its changes. */
		mb->select_modseq = modseq;
		return;
	}
	mb->modseq = modseq;
}

uint64_t mailbox_get_modseq(const struct mailbox *mb)
{
	return mb->modseq;
}

void mailbox_get_unknown_flags(const struct mailbox *mb, size_t max, GArray *uids)
{
	for (guint i = 0; i < mb->seq->len && uids->len < max; i++) {
		const struct entry *e = &g_array_index(mb->seq, struct entry, i);

		/* Above the watermark the header fetch brings the flags. */
		if (e->uid != 0 && !(e->flags & FLAG_KNOWN) &&
		    (!mb->have_watermark || e->uid <= mb->watermark)) {
			g_array_append_val(uids, e->uid);
		}
	}
}

void mailbox_set_special_use(struct mailbox *mb, const char *use)
{
	g_free(mb->special_use);
	mb->special_use = g_strdup(use);
}

const char *mailbox_get_special_use(const struct mailbox *mb)
{
	return mb->special_use;
}
