/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_SESSION_PRIVATE_H
#define IMAPWATCH_IMAP_SESSION_PRIVATE_H

/*
 * Shared by the two halves of the session, not for other modules:
 * imap-session.c sends the commands and follows their tagged replies (the
 * state machine), imap-session-untagged.c turns untagged data into facts
 * for the mailbox model.
 */

#include "imapwatch/core/imap-client.h"
#include "imapwatch/core/imap-login.h"
#include "imapwatch/core/imap-parser.h"
#include "imapwatch/core/imap-session.h"

/* In protocol order: message data counts only from S_EXAMINE on
 * (imap-session-untagged.c compares states). */
enum imap_session_state {
	S_LOGIN, /* greeting to authenticated: imap-login runs it */
	S_ID,
	S_ENABLE,
	S_LIST,   /* LIST of names and patterns (special use, folders) */
	S_NOTIFY, /* NOTIFY SET */
	S_STATUS, /* a STATUS pass over the guests */
	S_EXAMINE,
	S_LIST_FLAGS,
	S_SEARCH_ALL,    /* incremental resync or compact mode: every UID, compactly */
	S_SEARCH_UNSEEN, /* compact mode: the unseen UIDs, or their number */
	S_FETCH_CHANGED, /* incremental resync: CONDSTORE CHANGEDSINCE */
	S_SEARCH_NEW,    /* a burst: the UIDs above the watermark, compactly */
	S_FETCH_NEW,
	S_FETCH_DETAILS,
	S_IDLE_START, /* IDLE sent, waiting for "+" */
	S_IDLING,
	S_IDLE_DONE, /* DONE sent, waiting for the tagged reply */
	S_POLL_WAIT,
	S_NOOP,
	S_LOGOUT,
	S_DONE,
};

/* Work that waits for the command under way to complete: one set, taken in
 * one place (step_next() in imap-session.c). While idling, any of
 * PENDING_WAKES_IDLE (or a guest to visit) ends the IDLE at once. */
enum imap_session_pending {
	PENDING_LOGOUT = 1u << 0,    /* imap_session_logout() */
	PENDING_RESYNC = 1u << 1,    /* imap_session_resync(): select the home again */
	PENDING_NEW = 1u << 2,       /* EXISTS announced messages: fetch them */
	PENDING_CHECK_NEW = 1u << 3, /* a selection or a fetch ended: fetch if the map says so */
	PENDING_DETAILS = 1u << 4,   /* headers of unseen messages of the baseline */
	PENDING_LIST = 1u << 5,      /* a LIST pass */
	PENDING_NOTIFY = 1u << 6,    /* NOTIFY SET (again): the guests changed */
	PENDING_POLL = 1u << 7,      /* a STATUS pass over the guests */
};

#define PENDING_WAKES_IDLE                                                                         \
	(PENDING_LOGOUT | PENDING_RESYNC | PENDING_NEW | PENDING_LIST | PENDING_NOTIFY |           \
	 PENDING_POLL)

/* What a STATUS response says of a folder; STATUS from NOTIFY names only
 * what changed. */
enum imap_session_status_item {
	STATUS_MESSAGES = 1u << 0,
	STATUS_UIDNEXT = 1u << 1,
	STATUS_UNSEEN = 1u << 2,
	STATUS_UIDVALIDITY = 1u << 3,
	STATUS_HIGHESTMODSEQ = 1u << 4,
};

struct imap_session_status {
	unsigned present; /* enum imap_session_status_item */
	uint32_t messages;
	uint32_t uidnext;
	uint32_t unseen;
	uint32_t uidvalidity;
	uint64_t highestmodseq;
};

/* A folder watched without being selected. */
struct imap_session_guest {
	struct mailbox *mailbox;          /* borrowed */
	struct imap_session_status known; /* as the last visit left it */
	bool due;                         /* to be visited */
	bool covered;    /* NOTIFY SET STATUS sent its baseline: the server watches it */
	unsigned misses; /* changes a STATUS pass found that NOTIFY did not report */
};

struct imap_session {
	enum imap_session_state state;
	enum watch_state reported; /* the coarse state last reported upward */
	const struct config_account *account;
	const char *password;
	struct mailbox *home;
	struct mailbox *mailbox;       /* selected, or being selected; NULL before the first */
	struct mailbox *last_selected; /* the folder the last EXAMINE named */
	const struct imap_session_ops *ops;
	void *user_data;
	struct imap_client *client;
	struct imap_login *login;

	unsigned pending; /* enum imap_session_pending */
	bool enabled_condstore;
	bool enabled_qresync;
	bool selected;        /* EXAMINE answered OK: message data is ours */
	bool awaiting_closed; /* switching folders with QRESYNC: until [CLOSED] (H7) */
	bool have_uidvalidity;
	bool idle_broken;       /* IDLE refused: poll instead */
	bool idle_paused;       /* S_POLL_WAIT after the server ended IDLE (I9) */
	unsigned idle_warnings; /* untagged NO while idling, this connection */
	/* This selection resynchronises from the previous one through
	 * CONDSTORE/QRESYNC (N7, N8) instead of listing every flag. */
	bool incremental;
	uint64_t resync_modseq; /* HIGHESTMODSEQ of the previous selection */
	/* Compact mode: what the search under way returned. */
	struct uidset *search_set;
	int64_t search_count; /* -1: none */
	bool search_full;     /* the unseen search asks for the UIDs, not a count */
	bool fetch_rounds;    /* new mail is fetched by rounds of known UIDs */

	/* Guests (imap-session-guests.c). */
	GArray *guests; /* struct imap_session_guest */
	enum imap_session_guests guest_mode;
	bool allow_notify;
	char **list;        /* entries to LIST, or NULL */
	GPtrArray *listing; /* struct imap_session_listed *, during a LIST pass */
	bool list_reported; /* the pass lists the entries (not just the home folder) */
	/* Prefixes of the other users' and shared namespaces (raw, as the
	 * server sent them), learnt once per connection; NULL until then. */
	char **foreign;
	unsigned outstanding; /* replies still due to a pipelined pass */
};

/* ---- imap-session.c ---- */

/* Ends the session with failed() unless it is over already. */
void imap_session_fail(struct imap_session *s, enum imap_failure failure, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* Ends IDLE; the IDLE command's tagged reply follows. */
void imap_session_send_done(struct imap_session *s);
/* Sends a command whose tagged reply goes to the session's reply handler,
 * in state next. */
void imap_session_send(struct imap_session *s, enum imap_session_state next, const char *command);
/* Selects s->mailbox (EXAMINE), the home folder or a guest. */
void imap_session_examine(struct imap_session *s);
/* The command under way completed: takes the next piece of pending work. */
void imap_session_step_next(struct imap_session *s);

/* Reports the coarse state upward if it changed (the one place). */
void imap_session_report_state(struct imap_session *s, enum watch_state state);

/* ---- imap-session-select.c ---- */

/* A tagged reply in S_EXAMINE, S_LIST_FLAGS, S_SEARCH_ALL, S_SEARCH_UNSEEN
 * or S_FETCH_CHANGED. */
void imap_session_select_reply(struct imap_session *s, const struct imap_response *r);
/* Untagged ESEARCH of a compact selection or of a burst's search. */
void imap_session_select_esearch(struct imap_session *s, const struct imap_response *r);
/* Empties s->search_set for a search; set: raises the line limit to what
 * a set of every UID of the selection needs (lowered again when not). */
void imap_session_search_reset(struct imap_session *s, bool set);

/* ---- imap-session-untagged.c ---- */

/* An untagged response (status or data) in any state. */
void imap_session_handle_untagged(struct imap_session *s, const struct imap_response *r);

/* ---- imap-session-guests.c ---- */

/* The guests' share of step_next(), after the selected folder's own work:
 * a LIST pass, NOTIFY SET, a STATUS pass, the end of a visit, the next
 * visit, the way home. False when there is nothing to do (then IDLE). */
bool imap_session_guests_step(struct imap_session *s);
/* True when guests' work should end an IDLE now. */
bool imap_session_guests_wake(const struct imap_session *s);
/* A tagged reply in S_LIST, S_NOTIFY or S_STATUS. */
void imap_session_guests_reply(struct imap_session *s, const struct imap_response *r);
/* A guest's EXAMINE was refused: drops it and goes on. */
void imap_session_guest_refused(struct imap_session *s, const struct imap_response *r);
/* Untagged STATUS, LIST, and codes of the guests' concern
 * ([NOTIFICATIONOVERFLOW]); true if handled. */
bool imap_session_guests_untagged(struct imap_session *s, const struct imap_response *r);
/* The guest being visited, or NULL when at home. */
struct imap_session_guest *imap_session_visiting(struct imap_session *s);
/* The guest of that name, or NULL. */
struct imap_session_guest *imap_session_guest_find(struct imap_session *s, const char *name);
/* Whether an entry to LIST is a pattern (* or %). */
bool imap_session_has_pattern(const struct imap_session *s);
/* A folder name as a command argument (modified UTF-7, quoted as needed);
 * false if it cannot be sent. */
bool imap_session_append_folder(GString *out, const char *folder);
void imap_session_guests_free(struct imap_session *s);

/* ---- imap-session-list.c ---- */

/* A LIST pass (PENDING_LIST). */
void imap_session_list_step(struct imap_session *s);
/* Untagged LIST: a folder of the pass, or outside a pass a folder that came
 * or went (NOTIFY MailboxName). */
void imap_session_list_untagged(struct imap_session *s, const struct imap_response *r);
/* Untagged NAMESPACE (RFC 2342). */
void imap_session_list_namespace(struct imap_session *s, const struct imap_response *r);
/* The last reply of a pass arrived. */
void imap_session_list_done(struct imap_session *s);
void imap_session_list_free(struct imap_session *s);

#endif
