/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_EVENT_H
#define IMAPWATCH_EVENT_H

/*
 * Watch events (pure): what the mailbox model and the account supervisor
 * tell the outputs. The JSON form is the fixed contract of the README ("Events"), one
 * object per line, shared by `imapwatchd --print-events` and
 * `imapwatch monitor --json`.
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Where an account, a folder or a connection stands: the `state` of the
 * contract (README, docs/DBUS.md). A connection moves through CONNECTING to
 * IDLE or POLLING; the account adds BACKOFF, ERROR and the rest. */
enum watch_state {
	WATCH_STATE_DISCONNECTED,
	WATCH_STATE_CONNECTING,
	WATCH_STATE_AUTHENTICATING,
	WATCH_STATE_SYNCING,
	WATCH_STATE_IDLE,
	WATCH_STATE_POLLING,
	WATCH_STATE_BACKOFF,
	WATCH_STATE_ERROR,
	WATCH_STATE_DISABLED,
};

/* The detail of a `connecting` account whose password_secret is in a
 * locked keyring: the account waits for the unlock, and the desktop hears
 * of it once. */
#define WATCH_DETAIL_KEYRING_LOCKED "waiting for the keyring to be unlocked (password_secret)"

/* "disconnected", "connecting", …, as in the contract. */
const char *watch_state_name(enum watch_state state);

/* True for IDLE and POLLING: every change is being watched. */
bool watch_state_is_watching(enum watch_state state);

enum watch_event_type {
	WATCH_EVENT_NEW,
	WATCH_EVENT_CHANGED,
	WATCH_EVENT_REMOVED,
	WATCH_EVENT_UNSEEN,
	WATCH_EVENT_STATE,
	/* The folder's UIDVALIDITY changed (M3, N2): every message id under
	 * the previous value is void, and what the folder holds now is the new
	 * baseline, summed up here instead of reported one by one. */
	WATCH_EVENT_RESET,
};

/* Borrowed pointers throughout: an event lives only during the call that
 * delivers it. Fields not used by a type are ignored. */
struct watch_event {
	enum watch_event_type type;
	const char *account;
	const char *folder; /* UTF-8; not used by STATE */
	/* NEW, CHANGED, REMOVED; RESET: the folder's new UIDVALIDITY */
	uint32_t uidvalidity;
	/* NEW, CHANGED, REMOVED */
	uint32_t uid;
	/* NEW */
	const char *message_id;
	const char *from_name;
	const char *from_addr;
	const char *subject;
	gint64 date;  /* Unix seconds */
	bool catchup; /* arrived while imapwatch was not running, or while
	               * the folder was not watched (the folder's first sync,
	               * after a start or a reload that adds it); JSON
	               * "catchup": true, else absent */
	/* Gmail's id of the message, the same in every label/folder it is in
	 * (X-GM-MSGID); 0 elsewhere. JSON "gm_msgid" (a string: it does not fit
	 * a double), absent when 0. */
	uint64_t gm_msgid;
	/* NEW, CHANGED: NULL-terminated flag names as the server sent them */
	const char *const *flags;
	bool seen;
	/* UNSEEN: unseen messages in the folder; RESET: messages in the folder */
	uint32_t count;
	/* RESET: the UIDVALIDITY before the change (ids with it are void), and
	 * how many of the count messages are unseen */
	uint32_t previous_uidvalidity;
	uint32_t unseen;
	/* STATE */
	const char *state;
	const char *detail;
};

/* "account/folder/uidvalidity/uid": stable message id used by events, D-Bus
 * and the CLI. New string. */
char *watch_event_message_id(const char *account, const char *folder, uint32_t uidvalidity,
                             uint32_t uid);

/* A copy that owns its strings, for an event that must outlive the call
 * that delivers it; free with watch_event_free(). */
struct watch_event *watch_event_copy(const struct watch_event *event);
void watch_event_free(struct watch_event *event);

/* One JSON object, no trailing newline. New string. Strings are escaped so
 * the line is always valid JSON (control characters as \u00XX). */
char *watch_event_to_json(const struct watch_event *event);

const char *watch_event_type_name(enum watch_event_type type);

/* Appends s (NULL as "") as a JSON string, escaped as watch_event_to_json()
 * escapes, for other JSON output that must match it. */
void watch_event_append_json_string(GString *out, const char *s);

#endif
