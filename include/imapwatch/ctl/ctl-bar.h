/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CTL_BAR_H
#define IMAPWATCH_CTL_BAR_H

/*
 * ctl_bar: what a status bar shows, pure. The daemon's answer to GetStatus
 * reduced to what bars need (accounts, their states, unseen mail per
 * folder), the overall state, and the objects `imapwatch monitor --waybar`
 * prints. "Not running" is a status of its own: nothing is known then.
 */

#include <glib.h>
#include <stdbool.h>

/* The overall state while imapwatchd is not running: not one of the
 * account states of the contract, only ever shown by bars. */
#define CTL_BAR_OFFLINE "offline"

struct ctl_bar_folder {
	char *name;
	guint32 unseen;
};

struct ctl_bar_account {
	char *name;
	char *state;        /* as the daemon says: "idle", "error", … */
	char *detail;       /* why, for backoff and error; else "" */
	guint32 unseen;     /* the sum over its folders */
	GPtrArray *folders; /* struct ctl_bar_folder *, in the daemon's order */
};

struct ctl_bar_status {
	bool running;        /* false: imapwatchd is not running */
	guint32 unseen;      /* total_unseen */
	GPtrArray *accounts; /* struct ctl_bar_account *, in config order */
};

/* The status of a daemon that is not running: no accounts, nothing
 * unseen. Free with ctl_bar_status_free(). */
struct ctl_bar_status *ctl_bar_status_new_offline(void);

/* The status from GetStatus's dictionary (a{sv}); keys that are missing or
 * of another type read as empty. Free with ctl_bar_status_free(). */
struct ctl_bar_status *ctl_bar_status_new(GVariant *status);

/* Accepts NULL. */
void ctl_bar_status_free(struct ctl_bar_status *status);
typedef struct ctl_bar_status ctl_bar_status;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ctl_bar_status, ctl_bar_status_free)

/* The account or folder of that name, or NULL. Borrowed. A folder name
 * matches exactly, INBOX in any case (RFC 3501 §5.1). */
const struct ctl_bar_account *ctl_bar_status_account(const struct ctl_bar_status *status,
                                                     const char *name);
const struct ctl_bar_folder *ctl_bar_account_folder(const struct ctl_bar_account *account,
                                                    const char *name);

/* The overall state: CTL_BAR_OFFLINE when the daemon is not running, else
 * the worst state of the accounts in the daemon's own order of precedence
 * (error, then backoff, ..., idle; disabled only when every account is; a
 * state this imapwatch does not know ranks as disconnected and is shown as
 * the daemon spells it), "disabled" without accounts. Borrowed from status
 * or static. */
const char *ctl_bar_state(const struct ctl_bar_status *status);

/* One word for icons (waybar's "alt"): "offline", "error" (the overall
 * state is error), "unread" (mail is unseen) or "read". Static. */
const char *ctl_bar_alt(const struct ctl_bar_status *status);

/* Several lines for a tooltip, without a trailing newline: per account
 * "work: 4 unseen, idle" (", error: DETAIL" with a detail) and per folder
 * "  INBOX: 3"; "imapwatchd is not running" when it is not. Plain text.
 * New string. */
char *ctl_bar_tooltip(const struct ctl_bar_status *status);

/* One JSON object for waybar's custom module (return-type json), without
 * the newline: "text" (given), "alt" (ctl_bar_alt), "tooltip"
 * (ctl_bar_tooltip, markup-escaped: waybar renders Pango markup) and
 * "class": ["offline"], or ["unread" or "read", the overall state]. text
 * is the caller's (the user's template, which may hold markup). New
 * string. */
char *ctl_bar_waybar(const struct ctl_bar_status *status, const char *text);

#endif
