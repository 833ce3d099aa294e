/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_MAILBOX_PRIVATE_H
#define IMAPWATCH_MAILBOX_PRIVATE_H

/*
 * Shared by the parts of the mailbox model, not for other modules:
 * mailbox.c keeps the sequence → UID map and its flags through selections,
 * EXISTS, EXPUNGE, VANISHED and FETCH (full mode); mailbox-compact.c keeps
 * the same facts as UID sets instead (compact mode, with QRESYNC);
 * mailbox-message.c keeps the details of messages, collects the new ones
 * during a header fetch and sends the watch events; mailbox-query.c
 * answers what the sessions ask of the model.
 */

#include "imapwatch/core/mailbox.h"
#include "imapwatch/core/uidset.h"

enum {
	FLAG_SEEN = 1 << 0,
	FLAG_ANSWERED = 1 << 1,
	FLAG_FLAGGED = 1 << 2,
	FLAG_DELETED = 1 << 3,
	FLAG_DRAFT = 1 << 4,
	/* Only \Seen is known: the entry came from saved sets (N1), not
	 * from the server's FLAGS. */
	FLAG_PARTIAL = 1 << 14,
	FLAG_KNOWN = 1 << 15, /* flags of this entry have been seen */
};

/* One message of the current selection; the array index is seq - 1. */
struct entry {
	uint32_t uid; /* 0 while unknown (announced by EXISTS, not fetched) */
	uint16_t flags;
	uint32_t keywords; /* order-independent hash of the keyword flags */
};

/* A message above the watermark, collected during a header fetch. */
struct pending {
	uint32_t uid;
	char **flags;
	bool seen;
	bool has_header;
	struct header_fields header;
	gint64 internaldate;
	uint64_t gm_msgid;
};

struct mailbox {
	char *account;
	char *folder;
	mailbox_sink sink;
	void *user_data;

	bool have_uidvalidity;
	uint32_t uidvalidity;
	/* The UIDVALIDITY changed and the re-baseline is not reported yet:
	 * reset_from is the value the outputs last knew. */
	bool reset_pending;
	uint32_t reset_from;
	bool have_watermark;
	uint32_t watermark;
	uint32_t uidnext;
	uint64_t modseq;   /* HIGHESTMODSEQ of the last selection, 0 = none */
	char *special_use; /* "\\Junk", … from LIST (RFC 6154), NULL if none */

	GArray *seq;  /* struct entry */
	GArray *prev; /* struct entry sorted by UID, during a selection only */
	bool selecting;
	bool synced;
	bool restored;         /* state came from disk; the first sync catches up */
	bool catchup;          /* the next new_end reports mail from while we were away */
	GTree *pending;        /* uid → struct pending, at most MAILBOX_MAX_PENDING */
	bool pending_overflow; /* the fetch returned more: fetch again */
	GTree *details;        /* uid → struct mailbox_message, bounded */
	GTree *details_seen;   /* the uids of the seen ones among them */

	bool unseen_sent;
	uint32_t unseen_last;

	/* Compact mode (N11): the folder as UID sets, no map. */
	bool compact;
	struct uidset *all;    /* UIDs at or below the watermark the folder holds */
	struct uidset *unseen; /* those of them without \Seen */
	bool sets_known;       /* all and unseen are right as of modseq */
	uint32_t exists;       /* EXISTS of the selection */
	/* During a selection: the sets before it (restored if it is
	 * aborted), the mod-sequence changes are counted from, the
	 * selection's HIGHESTMODSEQ and the events held until it completes. */
	struct uidset *prev_all;
	struct uidset *prev_unseen;
	uint64_t resync_base; /* also in full mode: the selection's starting point */
	uint64_t select_modseq;
	GArray *deferred; /* struct deferred */
	/* Messages mailbox_add_seen() reported read whose FETCH from the
	 * server has not come yet: the one that repeats what was reported
	 * reports nothing. Kept until that FETCH, or until a selection
	 * completes or the messages are forgotten. */
	struct uidset *own_seen;
};

/* An event of a compact selection, sent when the selection completes. */
struct deferred {
	enum watch_event_type type; /* CHANGED or REMOVED */
	uint32_t uid;
	char **flags;
	bool seen;
};

/* ---- mailbox-message.c ---- */

/* Frees a struct mailbox_message (the values of mb->details). */
void mailbox_message_free(gpointer p);
/* Frees a struct pending (the values of mb->pending). */
void mailbox_pending_free(gpointer p);
/* Orders the UIDs that key mb->pending. */
gint mailbox_uid_cmp(gconstpointer a, gconstpointer b, gpointer user_data);
/* Makes mb->details and mb->details_seen; mailbox_details_clear() empties
 * them, mailbox_details_free() frees them. */
void mailbox_details_init(struct mailbox *mb);
void mailbox_details_clear(struct mailbox *mb);
void mailbox_details_free(struct mailbox *mb);
/* Whether the details of uid are kept. */
bool mailbox_details_has(const struct mailbox *mb, uint32_t uid);
/* Keeps the details of a message for listings (at most MAILBOX_MAX_DETAILS),
 * replacing those kept before. */
void mailbox_details_add(struct mailbox *mb, uint32_t uid, const struct header_fields *h,
                         gint64 internaldate, const char *const *flags, bool seen);
/* Forgets the new messages collected so far. */
void mailbox_pending_clear(struct mailbox *mb);
/* Collects what a FETCH says of a message above the watermark (bits: its
 * parsed flags); keeps the lowest MAILBOX_MAX_PENDING UIDs. */
void mailbox_pending_update(struct mailbox *mb, uint32_t uid, const struct mailbox_fetch *f,
                            uint16_t bits);
/* Sends a changed or removed event, updating the details kept first. */
void mailbox_emit_message(struct mailbox *mb, enum watch_event_type type, uint32_t uid,
                          const char *const *flags, bool seen);
/* Sends the reset event if the UIDVALIDITY changed since it was last sent. */
void mailbox_emit_reset(struct mailbox *mb);

/* ---- mailbox-compact.c ---- */

void mailbox_compact_init(struct mailbox *mb);
void mailbox_compact_clear(struct mailbox *mb);
/* Forgets the messages (a new UIDVALIDITY). */
void mailbox_compact_forget(struct mailbox *mb);
void mailbox_compact_select_begin(struct mailbox *mb);
void mailbox_compact_select_end(struct mailbox *mb);
void mailbox_compact_abort(struct mailbox *mb);
void mailbox_compact_vanished(struct mailbox *mb, const struct uidset *uids, bool earlier);
/* Drops the pending new messages whose UID is in uids. */
void mailbox_drop_pending_in(struct mailbox *mb, const struct uidset *uids);
void mailbox_compact_fetch(struct mailbox *mb, const struct mailbox_fetch *f);
bool mailbox_compact_new_ready(const struct mailbox *mb);
/* A new message was reported: it joins the sets. */
void mailbox_compact_reported(struct mailbox *mb, uint32_t uid, bool seen);
void mailbox_compact_missing_details(const struct mailbox *mb, size_t max, GArray *uids);
/* Takes a message the model holds as unseen (at or below the watermark)
 * out of the unseen set for mailbox_add_seen(); false, with nothing
 * changed, if it is not such a message. */
bool mailbox_compact_add_seen(struct mailbox *mb, uint32_t uid);

/* ---- mailbox.c ---- */

/* Parses the flags of a FETCH into bits and a keyword hash. */
void mailbox_flags_parse(const char *const *flags, uint16_t *bits, uint32_t *keywords);
/* Adds the names of the system flags in bits ("\\Seen", …). */
void mailbox_flags_add_names(uint16_t bits, GStrvBuilder *names);
/* Index of uid in the map (full mode), or -1. */
gssize mailbox_seq_find(const struct mailbox *mb, uint32_t uid);

#endif
