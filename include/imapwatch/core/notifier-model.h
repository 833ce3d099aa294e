/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_NOTIFIER_MODEL_H
#define IMAPWATCH_NOTIFIER_MODEL_H

/*
 * What the desktop notifications should say (pure): watch events and the
 * time in, "show this popup" / "close that popup" operations out. No
 * libnotify, no threads, no timers: the notifier (src/listeners/notifier-thread.c) runs
 * the operations on its own thread. A popup is a "slot"; showing a slot
 * again updates its popup in place.
 *
 * Policy:
 * - A new message gets its own popup at once (never delayed).
 * - A burst: more than max new messages in one folder, each within window
 *   of the previous one. The message that goes beyond max folds the
 *   burst's own popups into the folder's summary popup ("N new messages in
 *   ACCOUNT/FOLDER" with the newest subjects), which later messages of the
 *   burst update in place. So a folder never has more than max + 1 popups
 *   from one burst, and only one once the burst is summed up.
 * - Catch-up (mail that arrived while imapwatch was not running): with
 *   startup = summary one popup for all accounts, updated in place as
 *   accounts finish their first sync; each: like new mail; silent: nothing.
 *   The catch-up of an account that a reload (re)started
 *   (notifier_model_account_restarted(): folders it watches from now on,
 *   their mail from while they were not watched) has a summary of its own
 *   that names the folder ("N new messages in ACCOUNT/FOLDER (newly
 *   watched)") or, for several, counts per folder.
 * - Withdrawal: a message that becomes \Seen or is removed closes its
 *   popup, or leaves the summary it is in (updated only if still shown);
 *   a summary with no message left closes.
 * - Reset (the folder's UIDVALIDITY changed): every message of the folder
 *   under another UIDVALIDITY is withdrawn at once (its id and its "mark
 *   as read" mean nothing now), and one popup per folder says that the
 *   server reset it and how many messages, and unseen ones, it holds —
 *   never one popup per message.
 * - One message, one popup (N5): a new message already announced in
 *   another folder of the same account gets no popup of its own — on Gmail
 *   (X-GM-MSGID) within NOTIFIER_MODEL_GMAIL_WINDOW, elsewhere the same
 *   Message-ID within NOTIFIER_MODEL_DUPLICATE_WINDOW. Events and D-Bus
 *   still report each folder.
 * - Rules: each new message comes with what config_notice_for() decided
 *   for it. notify = false: no popup, and it counts nowhere on screen (nor
 *   as the first copy of N5). A single popup has the message's urgency,
 *   content and sound; a popup about several messages (a burst's summary,
 *   the catch-up summary, the summary after quiet time) has the strongest
 *   urgency among them, a line per message as its own content allows (none
 *   for content = count), and, when news joins it, a sound if any new
 *   message has one.
 * - Quiet time (notifier_model_set_quiet(): notifications paused,
 *   quiet_hours, the desktop's do-not-disturb): no new popup and no
 *   sound. New mail is held in one collecting summary, shown once when the
 *   quiet time ends ("N new messages while notifications were paused",
 *   with the count per account) unless every message in it was read or
 *   removed meanwhile. Popups about no message (account errors, resets)
 *   wait too and are shown then if they still apply. Withdrawals (closing
 *   a popup, a summary shrinking) go on: they add nothing to the screen.
 *   notifier_model_quiet_at() is the decision, pure, on any clock.
 * - Account errors: one popup per episode (until the account watches
 *   again), with the error icon, the failure in plain words
 *   (notifier_model_error_text()) and a "Try again" action
 *   (notifier_model_retry()); a keyring to unlock: one popup too.
 * - Text: every string is sanitized (controls, bidi overrides) and cut at
 *   a character boundary with an ellipsis; markup is NOT escaped here
 *   (only the notifier knows whether the server renders body markup).
 *
 * Limits: at most NOTIFIER_MODEL_MAX_SINGLES single-message popups are
 * tracked (older ones are forgotten, not closed) and a summary keeps the
 * details of at most NOTIFIER_MODEL_MAX_SUMMED messages (beyond that it
 * only counts them).
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/event.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define NOTIFIER_MODEL_MAX_SINGLES 256
/* How long an announced message keeps a copy in another folder quiet:
 * Gmail files one message under several labels at once; a Message-ID
 * elsewhere is only a strong hint (a list copy, a filter's copy). */
#define NOTIFIER_MODEL_GMAIL_WINDOW     ((gint64)G_USEC_PER_SEC * 60 * 60)
#define NOTIFIER_MODEL_DUPLICATE_WINDOW ((gint64)G_USEC_PER_SEC * 5 * 60)
#define NOTIFIER_MODEL_MAX_SEEN_KEYS    10000
#define NOTIFIER_MODEL_MAX_SUMMED       1000
/* Longest subject and sender shown, in characters (not bytes). */
#define NOTIFIER_MODEL_SUBJECT_CHARS 100
#define NOTIFIER_MODEL_NAME_CHARS    64
/* Lines of subjects (or senders) in a summary's body. */
#define NOTIFIER_MODEL_SUMMARY_LINES 3

struct notifier_model;

struct notifier_model_options {
	guint max;     /* popups per folder and burst before the summary, ≥ 1 */
	gint64 window; /* µs without new mail in a folder that ends its burst */
	enum config_startup startup;
	bool show_location; /* more than one folder is watched: say where */
};

/* Why popups and sounds are held back (flags; 0: they are not). */
enum notifier_quiet {
	NOTIFIER_QUIET_PAUSED = 1 << 0, /* imapwatch pause, Pause() on D-Bus */
	NOTIFIER_QUIET_HOURS = 1 << 1,  /* quiet_hours */
	NOTIFIER_QUIET_DND = 1 << 2,    /* the desktop's do-not-disturb */
};
#define NOTIFIER_QUIET_N 3

/* "paused", "quiet-hours", "do-not-disturb": the name of one flag (as the
 * D-Bus property Quiet lists them), or NULL for anything else. */
const char *notifier_quiet_name(enum notifier_quiet flag);

enum notifier_op_type {
	NOTIFIER_OP_SHOW,  /* show the slot's popup, or update it in place */
	NOTIFIER_OP_CLOSE, /* close the slot's popup */
};

/* One thing for the notifier thread to do. Immutable once made; owns its
 * strings; free with notifier_op_free(). */
struct notifier_op {
	enum notifier_op_type type;
	guint64 slot;                /* > 0 */
	char *summary;               /* SHOW: plain text, one line */
	char *body;                  /* SHOW: plain text, lines separated by '\n', may be "" */
	const char *category;        /* SHOW: freedesktop category ("email.arrived", …), static */
	guint count;                 /* SHOW: messages in the popup (> 1: a summary; 0: no
	                              * message actions) */
	enum config_urgency urgency; /* SHOW */
	/* SHOW: news with a sound: a freedesktop sound name or an absolute
	 * file path; NULL: none (a withdrawal, a notice, a silent rule). */
	char *sound;
	bool only_if_shown; /* SHOW: an update after a withdrawal; drop it if the
	                     * popup is gone (expired or dismissed) */
	/* SHOW: a freedesktop icon name (icon naming specification), static:
	 * NOTIFIER_ICON_MAIL, or another for a popup about an account. */
	const char *icon;
	bool retry; /* SHOW: an account's error: offer "Try again" (notifier_model_retry()) */
};

#define NOTIFIER_ICON_MAIL    "mail-unread"
#define NOTIFIER_ICON_ERROR   "dialog-error"
#define NOTIFIER_ICON_KEYRING "dialog-password"

void notifier_op_free(struct notifier_op *op);

/* A message a popup is about, for its actions. All strings owned by the
 * model. */
struct notifier_message {
	char *id; /* "account/folder/uidvalidity/uid" */
	char *account;
	char *folder;
	uint32_t uidvalidity;
	uint32_t uid;
	char *message_id;
};

struct notifier_model *notifier_model_create(const struct notifier_model_options *options);
/* Accepts NULL. */
void notifier_model_destroy(struct notifier_model *model);
/* New options (after a reload) apply to the next event. */
void notifier_model_set_options(struct notifier_model *model,
                                const struct notifier_model_options *options);

/* Feeds one watch event that happened at now (monotonic µs); appends the
 * resulting struct notifier_op * to ops (which should free them with
 * notifier_op_free). notice: for NEW, what config_notice_for() says of
 * the message (its strings are copied; NULL: nothing is shown); ignored
 * for other events. CHANGED and REMOVED are always fed. RESET goes to
 * notifier_model_reset(); other event types are ignored. */
void notifier_model_feed(struct notifier_model *model, const struct watch_event *event,
                         const struct config_notice *notice, gint64 now, GPtrArray *ops);

/* A RESET event: withdraws the popups of the folder's messages under any
 * other UIDVALIDITY (closed, or summaries updated if still shown) and, if
 * announce (the folder may notify, as for new mail), shows or updates the
 * folder's one reset popup. Appends to ops as notifier_model_feed(). */
void notifier_model_reset(struct notifier_model *model, const struct watch_event *event,
                          bool announce, GPtrArray *ops);

/* A reload started account anew (added, enabled, or changed: its
 * connections and folders start over): from now on its catch-up is mail
 * from while a folder was not watched, said in a summary of its own that
 * names where (see the policy above), not "since imapwatch last ran". A
 * summary of newly watched folders already shown is left as it is; the
 * next such catch-up starts a new one. */
void notifier_model_account_restarted(struct notifier_model *model, const char *account);

/* The "Try again" action of slot's popup: the account to check now (new
 * string), or NULL when slot is no account's error popup. Should the
 * account fail again before it watches, the popup is shown again (in
 * place) with the new failure: the user asked. */
char *notifier_model_retry(struct notifier_model *model, guint64 slot);

/* The popup of slot is gone (expired, dismissed): a single message's
 * popup is no longer tracked; a summary keeps its messages, so that the
 * next message of its burst shows it again with the right count, while
 * withdrawals (only_if_shown) no longer bring it back. Unknown slots are
 * ignored. */
void notifier_model_forget(struct notifier_model *model, guint64 slot);

/* Every popup is gone (the notification server went away). */
void notifier_model_forget_all(struct notifier_model *model);

/* Messages of slot, newest first, or NULL for an unknown slot. A new array
 * (g_ptr_array_unref) of const struct notifier_message * that the model
 * owns: valid until the next call that changes the model. */
GPtrArray *notifier_model_get_messages(struct notifier_model *model, guint64 slot);

/* Ids of the messages still tracked (their popup is shown, or they are in
 * a summary that may be shown again), sorted. Free with g_strfreev. */
char **notifier_model_get_shown_ids(struct notifier_model *model);

/* Sets why popups are held back now (enum notifier_quiet flags, 0: they
 * are not). Entering quiet time changes nothing on screen; leaving it
 * shows what was held (see the policy above). Appends to ops as
 * notifier_model_feed(). */
void notifier_model_set_quiet(struct notifier_model *model, guint quiet, GPtrArray *ops);

/* The quiet decision (pure): the enum notifier_quiet flags that hold at
 * now (Unix seconds) in time zone tz (local time for quiet_hours), given
 * the pause (0: none, -1: until resumed, else Unix seconds it ends) and
 * the desktop's do-not-disturb. *next (may be NULL) is set to the Unix
 * second after now at which quiet_hours next starts or ends, or 0 when
 * there are none: look again then. */
guint notifier_model_quiet_at(const struct config *config, gint64 paused_until, bool dnd,
                              gint64 now, GTimeZone *tz, gint64 *next);

/* s sanitized (header_sanitize) and cut to at most max_chars characters,
 * the last being "…" when cut. New string. */
char *notifier_model_clip(const char *s, guint max_chars);

/* An account's failure (a state event's detail) as a sentence for a
 * person: sanitized; the server's noise at its end dropped (Dovecot's
 * timing "(0.001 + 0.000 secs)" and its "[2024-05-01 10:00:00]" stamp,
 * Gmail's "(Failure)", with the blanks before it); the first letter of a
 * first word in lower-case letters capitalised ("cannot open folder",
 * not "password_command"); a full stop at the end; cut to max_chars
 * characters as notifier_model_clip(). "" for NULL or nothing left. New
 * string. */
char *notifier_model_error_text(const char *detail, guint max_chars);

#endif
