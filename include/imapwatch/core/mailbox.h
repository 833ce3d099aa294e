/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_MAILBOX_H
#define IMAPWATCH_MAILBOX_H

/*
 * Mailbox model (pure): what imapwatch knows about one watched folder of one
 * account, kept across reconnects. It turns protocol facts (EXISTS,
 * EXPUNGE, VANISHED, FETCH) into watch events: new, changed, removed and
 * unseen. Never miss, never duplicate (docs/ARCHITECTURE.md, "How a
 * folder is watched"; docs/PROTOCOL.md §8–§9):
 *
 * - A message is "new" when its UID is above the watermark — the highest
 *   UID already reported or taken as the baseline (N3, N4). New messages
 *   are collected during a header fetch and reported in ascending UID order
 *   when the fetch completes (H5); only then does the watermark advance, so
 *   an interrupted fetch is simply repeated after a reconnect.
 * - "UID FETCH w+1:*" may return UID w itself (M5): UIDs at or below the
 *   watermark are never reported as new.
 * - The sequence-number → UID map follows EXISTS, EXPUNGE (renumbering, H2)
 *   and VANISHED (N9), so unsolicited FETCH without UID (H3) is resolved.
 * - Each (re)selection rebuilds the map from a full flag listing; messages
 *   that disappeared meanwhile become "removed", flags that differ become
 *   "changed" (L6, I7).
 * - A different UIDVALIDITY forgets everything and re-baselines without
 *   reporting old messages as new or removed (M3, N2): when the selection
 *   completes, one "reset" event sums up the new baseline (its message and
 *   unseen counts) and names the previous UIDVALIDITY, before the unseen
 *   count. A selection aborted before that reports it at the next one that
 *   completes, still naming the value reported last.
 *
 * Compact mode (N11, with QRESYNC and ESEARCH): no map of the folder at
 * all. Every FETCH carries its UID and expunges come as VANISHED, so the
 * model keeps only two UID sets — the messages at or below the watermark,
 * and the unseen ones among them — plus EXISTS and the details. A
 * selection fills the sets from UID SEARCH (mailbox_set_all(),
 * mailbox_set_unseen()) or, when they were restored and QRESYNC brought the
 * changes since, checks them with a count. The changes a selection learns
 * are held and reported when it completes, with the mod-sequence they move
 * to, so that what is saved and what was reported always agree.
 */

#include "imapwatch/core/event.h"
#include "imapwatch/core/header.h"
#include "imapwatch/core/uidset.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct mailbox;

/* Receives each event synchronously; the event is valid during the call. */
typedef void (*mailbox_sink)(const struct watch_event *event, void *user_data);

/* Copies account and folder (UTF-8). */
struct mailbox *mailbox_create(const char *account, const char *folder, mailbox_sink sink,
                               void *user_data);
void mailbox_destroy(struct mailbox *mailbox);

const char *mailbox_get_folder(const struct mailbox *mailbox);

/* Whether two folder names (UTF-8) name the same folder: equal, or both
 * INBOX in any case (RFC 3501 §5.1). */
bool mailbox_same_folder(const char *a, const char *b);

/* Restores persisted state (before the first selection). */
void mailbox_restore(struct mailbox *mailbox, uint32_t uidvalidity, uint32_t watermark);
/* Restores the saved sets, right as of modseq (0: none known): the UIDs at
 * or below the watermark and the unseen ones. Copied. A server without
 * QRESYNC turns them into a map whose \Seen flags are known (N1). */
void mailbox_restore_sets(struct mailbox *mailbox, uint64_t modseq, const struct uidset *all,
                          const struct uidset *unseen);
/* The sets to save, or false when the model knows none worth saving (not
 * synchronised, or a message at or below the watermark whose flags are
 * unknown). In full mode they are made from the map. Valid until the
 * model changes. */
bool mailbox_get_sets(struct mailbox *mailbox, const struct uidset **all,
                      const struct uidset **unseen);

/* Compact mode on or off, before a selection begins (the session's choice,
 * by the server's capabilities). Switching drops what the other mode
 * knew, except the watermark. */
void mailbox_set_compact(struct mailbox *mailbox, bool compact);
bool mailbox_is_compact(const struct mailbox *mailbox);

/* --- selection --------------------------------------------------------- */

/* A new EXAMINE starts: sequence numbers of the previous selection are void. */
void mailbox_select_begin(struct mailbox *mailbox);
/* [UIDVALIDITY n] of the selection. Returns true if it differs from the
 * known value (restored or from an earlier selection): the model then
 * forgot its messages and watermark, and mailbox_select_end() reports the
 * reset. */
bool mailbox_set_uidvalidity(struct mailbox *mailbox, uint32_t uidvalidity);
/* [UIDNEXT n], a hint only (M4). */
void mailbox_set_uidnext(struct mailbox *mailbox, uint32_t uidnext);
/* The selection is complete and the full flag listing ("UID FETCH 1:*
 * (UID FLAGS)") was applied: compares with what was known before and
 * reports removed/changed; on the first selection sets the baseline; after
 * a UIDVALIDITY change sets it too and reports one reset. Then the unseen
 * count if it changed. */
void mailbox_select_end(struct mailbox *mailbox);

/* HIGHESTMODSEQ of the selection ([HIGHESTMODSEQ n]; 0 for NOMODSEQ or
 * none). A later selection resynchronises from it (N7, N8). */
void mailbox_set_modseq(struct mailbox *mailbox, uint64_t modseq);
uint64_t mailbox_get_modseq(const struct mailbox *mailbox);
/* Incremental resync: every UID of the selection in ascending order (from
 * UID SEARCH); messages known before keep their flags. False (and nothing
 * trusted) if the list does not match the selection's size or order. */
bool mailbox_set_uids(struct mailbox *mailbox, const uint32_t *uids, size_t n_uids);
/* Appends up to max UIDs at or below the watermark whose flags are not
 * known in this selection. */
void mailbox_get_unknown_flags(const struct mailbox *mailbox, size_t max, GArray *uids);

/* Compact mode, during a selection. The search the selection needs covers
 * UIDs 1 to this (the watermark), or every message when it is
 * MAILBOX_SEARCH_ALL (no baseline yet). */
#define MAILBOX_SEARCH_ALL UINT32_MAX
uint32_t mailbox_search_limit(const struct mailbox *mailbox);
/* True when the restored sets can be checked with a count instead of
 * being searched again. */
bool mailbox_sets_resumable(const struct mailbox *mailbox);
/* The UIDs the folder holds (UID SEARCH ALL within the limit): messages
 * known before that are missing were expunged (reported removed when the
 * selection completes). True when the unseen ones must be searched in
 * full: the sets were not known, or UIDs appeared that were not. */
bool mailbox_set_all(struct mailbox *mailbox, const struct uidset *uids);
/* The number of unseen messages within the limit (UID SEARCH RETURN
 * (COUNT)): true if it agrees with the model's set; if not, the unseen UIDs
 * are to be searched (mailbox_set_unseen()). */
bool mailbox_unseen_agrees(struct mailbox *mailbox, uint64_t count);
/* The unseen UIDs (UID SEARCH UNSEEN within the limit): replace the set. */
void mailbox_set_unseen(struct mailbox *mailbox, const struct uidset *uids);

/* The folder's special use from LIST ("\\Junk", "\\Trash", "\\Sent",
 * "\\Drafts", "\\All"; RFC 6154), or NULL when none is known. */
void mailbox_set_special_use(struct mailbox *mailbox, const char *use);
const char *mailbox_get_special_use(const struct mailbox *mailbox);

/* --- untagged data ----------------------------------------------------- */

/* "* n EXISTS" (H1). The map grows to count entries of 12 bytes: the caller
 * bounds count (IMAP_SESSION_MAX_EXISTS). */
void mailbox_exists(struct mailbox *mailbox, uint32_t count);
/* "* n EXPUNGE" (H2). False in compact mode, where it cannot be placed (a
 * server that sends it after QRESYNC breaks RFC 7162: resynchronise). */
bool mailbox_expunge(struct mailbox *mailbox, uint32_t seq);
/* "* VANISHED [(EARLIER)] uids" (N8, N9). EARLIER does not renumber. UIDs
 * the folder does not hold are ignored, however many the set names. */
void mailbox_vanished(struct mailbox *mailbox, const struct uidset *uids, bool earlier);

struct mailbox_fetch {
	uint32_t seq;
	bool has_uid;
	uint32_t uid;
	bool has_flags;
	const char *const *flags; /* NULL-terminated */
	bool has_header;
	const struct header_fields *header;
	gint64 internaldate; /* 0 if absent */
	uint64_t gm_msgid;   /* X-GM-MSGID (Gmail), 0 if absent */
	uint64_t modseq;     /* MODSEQ (CONDSTORE), 0 if absent */
};

/* "* n FETCH (...)". */
void mailbox_fetch(struct mailbox *mailbox, const struct mailbox_fetch *fetch);

/* A change imapwatch made itself and the server confirmed (mark as read,
 * W4): \Seen joins the flags of each of uids (n_uids of them) that the
 * model holds unseen at or below the watermark, reported as a FETCH of
 * the new flags would be — one changed event per message, then the unseen
 * count — so that the change shows before the watching connection hears
 * of it. The flags reported are those the model knows (a message's
 * details, else its system flags, else \Seen alone). When the server's
 * FETCH then says the same, or a later selection finds it so, nothing is
 * reported again; a FETCH that says more (flags the model did not know)
 * is a change. Does nothing during a selection or before the first one
 * completed: the selection learns the flags from the server. */
void mailbox_add_seen(struct mailbox *mailbox, const uint32_t *uids, size_t n_uids);

/* --- header fetch of new messages -------------------------------------- */

/* True if messages may exist above the watermark (EXISTS beyond the known
 * map, or UIDNEXT above watermark + 1), i.e. a header fetch is due. */
bool mailbox_wants_new(const struct mailbox *mailbox);
/* First UID to fetch: watermark + 1. */
uint32_t mailbox_get_fetch_start(const struct mailbox *mailbox);
/* How many messages of the selection are above the watermark, when the
 * model knows (every message at or below it is known); false if not. */
bool mailbox_count_new(const struct mailbox *mailbox, uint64_t *count);
/* New messages one header fetch collects at most. A fetch that returns more
 * keeps the lowest UIDs; mailbox_new_end() then says to fetch again. */
#define MAILBOX_MAX_PENDING 1000
/* A header fetch completed: reports collected messages in UID order and
 * advances the watermark. True if the fetch returned more new messages than
 * MAILBOX_MAX_PENDING: fetch again from the new watermark. */
bool mailbox_new_end(struct mailbox *mailbox);
/* A fetch of one round of a burst (N3) names no UID above uid: collected
 * messages above it (an unasked FETCH of flags of a later message of the
 * burst) are dropped, and fetched in their own round, so that the watermark
 * never passes the messages between. */
void mailbox_new_limit(struct mailbox *mailbox, uint32_t uid);
/* A header fetch failed or the connection dropped: collected messages are
 * dropped unreported (they are fetched again). */
void mailbox_abort(struct mailbox *mailbox);
/* True when the server pushed everything a header fetch would return (NOTIFY
 * with fetch attributes, F4): there are collected messages, each with its
 * header, and no message of the map lacks its UID. mailbox_new_end() can
 * then report them with no fetch at all. */
bool mailbox_new_ready(const struct mailbox *mailbox);

/* --- queries ------------------------------------------------------------ */

uint32_t mailbox_get_uidvalidity(const struct mailbox *mailbox);
uint32_t mailbox_get_watermark(const struct mailbox *mailbox);
uint32_t mailbox_get_exists(const struct mailbox *mailbox);
/* [UIDNEXT] of the last selection, or 0. */
uint32_t mailbox_get_uidnext(const struct mailbox *mailbox);
/* Messages known without \Seen. */
uint32_t mailbox_get_unseen(const struct mailbox *mailbox);
/* True once a selection completed (the baseline exists) and while none is
 * under way: what the model knows then is worth saving. */
bool mailbox_is_synced(const struct mailbox *mailbox);

/* --- message details ---------------------------------------------------- */

/* At most this many messages per folder keep their details (seen ones are
 * dropped first). */
#define MAILBOX_MAX_DETAILS 1000

/* Characters of a subject, display name, address or Message-ID kept per
 * message (new events and details); longer text is cut. */
#define MAILBOX_MAX_TEXT 1000

/* Of the unseen messages that were there before imapwatch watched (the
 * baseline, or mail that is not new), only the newest this many get their
 * details fetched, at every start: enough for the startup summary (three
 * lines) and a screen of ListMessages or `imapwatch list`, and a folder with
 * 20,000 unseen messages costs 25 headers (about 8 kB), not 20,000. Mail
 * reported since the start keeps its details up to MAILBOX_MAX_DETAILS. */
#define MAILBOX_CATCHUP_DETAILS 25

/* What is known of a message beyond its flags: every message reported as
 * new, and unseen messages of the baseline once their headers were fetched
 * (mailbox_get_missing_details). */
struct mailbox_message {
	uint32_t uid;
	char *message_id;
	char *from_name;
	char *from_addr;
	char *subject;
	gint64 date;
	char **flags;
	bool seen;
};

typedef void (*mailbox_message_fn)(const struct mailbox_message *message, void *user_data);
/* Calls fn for each message with details, newest (highest UID) first. */
void mailbox_foreach_message(const struct mailbox *mailbox, bool unseen_only, mailbox_message_fn fn,
                             void *user_data);
/* NULL if the message has no details (or does not exist). */
const struct mailbox_message *mailbox_get_message(const struct mailbox *mailbox, uint32_t uid);
/* Appends the UIDs of every message known to be unseen. */
void mailbox_get_unseen_uids(const struct mailbox *mailbox, GArray *uids);
/* True if the message is in the current map. */
bool mailbox_has_uid(const struct mailbox *mailbox, uint32_t uid);
/* Appends up to max UIDs (newest first) of unseen messages at or below the
 * watermark whose details are not known yet, among the newest
 * MAILBOX_CATCHUP_DETAILS unseen ones; a header fetch of these
 * (mailbox_fetch with a header) stores details without reporting them. */
void mailbox_get_missing_details(const struct mailbox *mailbox, size_t max, GArray *uids);

/* Emits an "unseen" event if the count differs from the last one sent. */
void mailbox_flush_unseen(struct mailbox *mailbox);

typedef struct mailbox mailbox;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(mailbox, mailbox_destroy)

#endif
