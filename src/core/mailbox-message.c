/* SPDX-License-Identifier: MIT */
/*
 * The messages of the model: the details kept for listings (bounded), the
 * new messages collected during a header fetch and their report in UID
 * order, and the watch events (new, changed, removed, reset, unseen).
 */
#include "core/mailbox-private.h"

#include <string.h>

void mailbox_message_free(gpointer p)
{
	struct mailbox_message *m = p;

	g_free(m->message_id);
	g_free(m->from_name);
	g_free(m->from_addr);
	g_free(m->subject);
	g_strfreev(m->flags);
	g_free(m);
}

/* Keeps at most MAILBOX_MAX_DETAILS: the oldest seen message goes first,
 * else the oldest one. */
void mailbox_details_init(struct mailbox *mb)
{
	mb->details = g_tree_new_full(mailbox_uid_cmp, NULL, NULL, mailbox_message_free);
	mb->details_seen = g_tree_new_full(mailbox_uid_cmp, NULL, NULL, NULL);
}

void mailbox_details_clear(struct mailbox *mb)
{
	g_tree_remove_all(mb->details);
	g_tree_remove_all(mb->details_seen);
}

void mailbox_details_free(struct mailbox *mb)
{
	g_tree_unref(mb->details);
	g_tree_unref(mb->details_seen);
}

bool mailbox_details_has(const struct mailbox *mb, uint32_t uid)
{
	return g_tree_lookup(mb->details, GUINT_TO_POINTER(uid)) != NULL;
}

static void details_remove(struct mailbox *mb, uint32_t uid)
{
	g_tree_remove(mb->details, GUINT_TO_POINTER(uid));
	g_tree_remove(mb->details_seen, GUINT_TO_POINTER(uid));
}

static void details_set_seen(struct mailbox *mb, struct mailbox_message *m, bool seen)
{
	m->seen = seen;
	if (seen) {
		g_tree_insert(mb->details_seen, GUINT_TO_POINTER(m->uid), NULL);
	} else {
		g_tree_remove(mb->details_seen, GUINT_TO_POINTER(m->uid));
	}
}

/* Over the bound, the oldest seen message goes first, else the oldest:
 * the first node of an ordered tree, so a burst of any size costs the
 * same per message. */
static void details_trim(struct mailbox *mb)
{
	while (g_tree_nnodes(mb->details) > MAILBOX_MAX_DETAILS) {
		GTreeNode *oldest = g_tree_node_first(mb->details_seen);

		if (oldest == NULL) {
			oldest = g_tree_node_first(mb->details);
		}
		details_remove(mb, GPOINTER_TO_UINT(g_tree_node_key(oldest)));
	}
}

/* A copy of header text (valid UTF-8) cut to MAILBOX_MAX_TEXT characters:
 * what the model keeps per message stays bounded whatever the server sends. */
static char *text_dup(const char *s)
{
	if (s == NULL) {
		return g_strdup("");
	}
	/* No more bytes than the limit: no more characters either. */
	if (strlen(s) > MAILBOX_MAX_TEXT && g_utf8_strlen(s, -1) > MAILBOX_MAX_TEXT) {
		return g_utf8_substring(s, 0, MAILBOX_MAX_TEXT);
	}
	return g_strdup(s);
}

void mailbox_details_add(struct mailbox *mb, uint32_t uid, const struct header_fields *h,
                         gint64 internaldate, const char *const *flags, bool seen)
{
	struct mailbox_message *m = g_new0(struct mailbox_message, 1);

	m->uid = uid;
	m->message_id = text_dup(h != NULL ? h->message_id : NULL);
	m->from_name = text_dup(h != NULL ? h->from_name : NULL);
	m->from_addr = text_dup(h != NULL ? h->from_addr : NULL);
	m->subject = text_dup(h != NULL ? h->subject : NULL);
	m->date = h != NULL && h->date != 0 ? h->date : internaldate;
	m->flags = flags != NULL ? g_strdupv((char **)flags) : g_new0(char *, 1);
	g_tree_replace(mb->details, GUINT_TO_POINTER(uid), m);
	details_set_seen(mb, m, seen);
	details_trim(mb);
}

gint mailbox_uid_cmp(gconstpointer a, gconstpointer b, gpointer user_data)
{
	guint x = GPOINTER_TO_UINT(a);
	guint y = GPOINTER_TO_UINT(b);

	(void)user_data;
	return (x > y) - (x < y);
}

void mailbox_pending_clear(struct mailbox *mb)
{
	g_tree_remove_all(mb->pending);
	mb->pending_overflow = false;
}

void mailbox_pending_free(gpointer p)
{
	struct pending *pending = p;

	g_strfreev(pending->flags);
	header_fields_clear(&pending->header);
	g_free(pending);
}
void mailbox_pending_update(struct mailbox *mb, uint32_t uid, const struct mailbox_fetch *f,
                            uint16_t bits)
{
	struct pending *p = g_tree_lookup(mb->pending, GUINT_TO_POINTER(uid));

	if (p == NULL) {
		if (g_tree_nnodes(mb->pending) >= MAILBOX_MAX_PENDING) {
			/* One burst at most: keep the lowest UIDs so that the
			 * watermark never passes a message not yet reported. */
			GTreeNode *last = g_tree_node_last(mb->pending);
			gpointer highest = g_tree_node_key(last);

			mb->pending_overflow = true;
			if (uid > GPOINTER_TO_UINT(highest)) {
				return;
			}
			g_tree_remove(mb->pending, highest);
		}
		p = g_new0(struct pending, 1);
		p->uid = uid;
		g_tree_insert(mb->pending, GUINT_TO_POINTER(uid), p);
	}
	if (f->has_flags) {
		g_strfreev(p->flags);
		p->flags = g_strdupv((char **)f->flags);
		p->seen = (bits & FLAG_SEEN) != 0;
	}
	if (f->has_header && !p->has_header) {
		p->has_header = true;
		p->header.from_name = text_dup(f->header->from_name);
		p->header.from_addr = text_dup(f->header->from_addr);
		p->header.subject = text_dup(f->header->subject);
		p->header.message_id = text_dup(f->header->message_id);
		p->header.date = f->header->date;
	}
	if (f->internaldate != 0) {
		p->internaldate = f->internaldate;
	}
	if (f->gm_msgid != 0) {
		p->gm_msgid = f->gm_msgid;
	}
}
void mailbox_emit_message(struct mailbox *mb, enum watch_event_type type, uint32_t uid,
                          const char *const *flags, bool seen)
{
	static const char *const no_flags[] = {NULL};

	if (type == WATCH_EVENT_REMOVED) {
		details_remove(mb, uid);
	} else if (type == WATCH_EVENT_CHANGED) {
		struct mailbox_message *m = g_tree_lookup(mb->details, GUINT_TO_POINTER(uid));

		if (m != NULL) {
			g_strfreev(m->flags);
			m->flags = g_strdupv((char **)(flags != NULL ? flags : no_flags));
			details_set_seen(mb, m, seen);
		}
	}
	struct watch_event ev = {
	    .type = type,
	    .account = mb->account,
	    .folder = mb->folder,
	    .uidvalidity = mb->uidvalidity,
	    .uid = uid,
	    .flags = flags != NULL ? flags : no_flags,
	    .seen = seen,
	};

	mb->sink(&ev, mb->user_data);
}
/* N2: one summary of the new baseline instead of a "new" event for each of
 * its messages. Sent before the selection's unseen count, which then agrees
 * with it. */
void mailbox_emit_reset(struct mailbox *mb)
{
	if (!mb->reset_pending) {
		return;
	}
	mb->reset_pending = false;
	/* In compact mode the baseline is what the searches found (N11):
	 * EXISTS, lowered after them by an EXISTS or a VANISHED naming no
	 * message of the model, could count fewer messages than unseen ones. */
	uint32_t count =
	    mb->compact ? (uint32_t)MIN(uidset_count(mb->all), UINT32_MAX) : mailbox_get_exists(mb);
	struct watch_event ev = {
	    .type = WATCH_EVENT_RESET,
	    .account = mb->account,
	    .folder = mb->folder,
	    .uidvalidity = mb->uidvalidity,
	    .previous_uidvalidity = mb->reset_from,
	    .count = count,
	    .unseen = mailbox_get_unseen(mb),
	};
	mb->sink(&ev, mb->user_data);
}
bool mailbox_new_end(struct mailbox *mb)
{
	bool more = mb->pending_overflow;

	/* The tree is in UID order (H5). */
	for (GTreeNode *node = g_tree_node_first(mb->pending); node != NULL;
	     node = g_tree_node_next(node)) {
		const struct pending *p = g_tree_node_value(node);
		static const char *const no_flags[] = {NULL};

		if (p->uid <= mb->watermark) {
			continue; /* M5: never report a UID twice */
		}
		struct watch_event ev = {
		    .type = WATCH_EVENT_NEW,
		    .account = mb->account,
		    .folder = mb->folder,
		    .uidvalidity = mb->uidvalidity,
		    .uid = p->uid,
		    .message_id = p->header.message_id,
		    .from_name = p->header.from_name,
		    .from_addr = p->header.from_addr,
		    .subject = p->header.subject,
		    .date = p->header.date != 0 ? p->header.date : p->internaldate,
		    .flags = p->flags != NULL ? (const char *const *)p->flags : no_flags,
		    .seen = p->seen,
		    .catchup = mb->catchup,
		    .gm_msgid = p->gm_msgid,
		};
		mailbox_details_add(mb, p->uid, &p->header, p->internaldate, ev.flags, p->seen);
		if (mb->compact) {
			mailbox_compact_reported(mb, p->uid, p->seen);
		}
		mb->watermark = p->uid;
		mb->sink(&ev, mb->user_data);
	}
	mailbox_pending_clear(mb);
	if (!more) {
		/* The rest of a catch-up is still to come otherwise. */
		mb->catchup = false;
	}
	mailbox_flush_unseen(mb);
	return more;
}
void mailbox_new_limit(struct mailbox *mb, uint32_t uid)
{
	GTreeNode *last;

	while ((last = g_tree_node_last(mb->pending)) != NULL &&
	       GPOINTER_TO_UINT(g_tree_node_key(last)) > uid) {
		g_tree_remove(mb->pending, g_tree_node_key(last));
	}
}
void mailbox_flush_unseen(struct mailbox *mb)
{
	if (mb->selecting || !mb->synced) {
		return;
	}
	uint32_t n = mailbox_get_unseen(mb);
	if (mb->unseen_sent && n == mb->unseen_last) {
		return;
	}
	mb->unseen_sent = true;
	mb->unseen_last = n;
	struct watch_event ev = {
	    .type = WATCH_EVENT_UNSEEN,
	    .account = mb->account,
	    .folder = mb->folder,
	    .count = n,
	};
	mb->sink(&ev, mb->user_data);
}

void mailbox_foreach_message(const struct mailbox *mb, bool unseen_only, mailbox_message_fn fn,
                             void *user_data)
{
	/* Newest first: the tree from its last node back. */
	for (GTreeNode *n = g_tree_node_last(mb->details); n != NULL; n = g_tree_node_previous(n)) {
		const struct mailbox_message *m = g_tree_node_value(n);

		if (!unseen_only || !m->seen) {
			fn(m, user_data);
		}
	}
}

const struct mailbox_message *mailbox_get_message(const struct mailbox *mb, uint32_t uid)
{
	return g_tree_lookup(mb->details, GUINT_TO_POINTER(uid));
}

/* The flags a message has once \Seen joins what the model knows of them:
 * those of its details (what its last event said), else the system flags
 * in bits (keywords are known only by their hash), else \Seen alone. */
static char **flags_with_seen(const struct mailbox *mb, uint32_t uid, uint16_t bits)
{
	const struct mailbox_message *m = mailbox_get_message(mb, uid);
	g_autoptr(GStrvBuilder) names = g_strv_builder_new();

	if (m != NULL) {
		for (size_t i = 0; m->flags[i] != NULL; i++) {
			if (g_ascii_strcasecmp(m->flags[i], "\\Seen") != 0) {
				g_strv_builder_add(names, m->flags[i]);
			}
		}
	} else {
		mailbox_flags_add_names(bits & (uint16_t)~FLAG_SEEN, names);
	}
	g_strv_builder_add(names, "\\Seen");
	return g_strv_builder_end(names);
}

void mailbox_add_seen(struct mailbox *mb, const uint32_t *uids, size_t n_uids)
{
	if (mb->selecting || !mb->synced) {
		return;
	}
	for (size_t i = 0; i < n_uids; i++) {
		uint32_t uid = uids[i];
		struct entry *e = NULL;

		if (uid == 0 || uid > mb->watermark) {
			continue;
		}
		if (mb->compact) {
			if (!mailbox_compact_add_seen(mb, uid)) {
				continue;
			}
		} else {
			gssize k = mailbox_seq_find(mb, uid);

			e = k >= 0 ? &g_array_index(mb->seq, struct entry, k) : NULL;
			if (e == NULL || !(e->flags & FLAG_KNOWN) || (e->flags & FLAG_SEEN)) {
				continue;
			}
		}
		/* Saved sets (FLAG_PARTIAL) know nothing but \Seen. */
		uint16_t known = e != NULL && !(e->flags & FLAG_PARTIAL) ? e->flags : 0;
		g_auto(GStrv) flags = flags_with_seen(mb, uid, known);
		if (e != NULL) {
			/* The entry holds what is reported: a FETCH of the same
			 * flags is then no change (flags_differ()). */
			mailbox_flags_parse((const char *const *)flags, &e->flags, &e->keywords);
		}
		mailbox_emit_message(mb, WATCH_EVENT_CHANGED, uid, (const char *const *)flags,
		                     true);
	}
	mailbox_flush_unseen(mb);
}
