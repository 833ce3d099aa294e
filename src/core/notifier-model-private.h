/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_NOTIFIER_MODEL_PRIVATE_H
#define IMAPWATCH_NOTIFIER_MODEL_PRIVATE_H

/*
 * Shared by the parts of the notifier model, not for other modules:
 * notifier-model.c (the model, its options, what the notifier asks about
 * slots), notifier-model-events.c (the slots and how events fill, fold,
 * settle and close them), notifier-model-text.c (what a popup says) and
 * notifier-model-quiet.c (quiet time: when, and what is held).
 *
 * The notification policy (see notifier-model.h). Entries are the messages
 * a popup is about; slots are popups. Every entry belongs to exactly one
 * slot, and is indexed by its message id so that \Seen and removal find it.
 */

#include "imapwatch/core/notifier-model.h"

enum slot_kind {
	SLOT_SINGLE,  /* one message */
	SLOT_FOLDER,  /* the summary of a burst in one folder */
	SLOT_CATCHUP, /* the summary of mail from while we were not running */
	SLOT_QUIET,   /* the summary of mail that came during quiet time */
	SLOT_WATCHED, /* the catch-up of folders newly watched after a reload */
};

struct entry {
	struct notifier_message message;
	char *sender;  /* clipped */
	char *subject; /* clipped */
	/* From the message's struct config_notice. */
	enum config_urgency urgency;
	enum config_content content;
	char *sound; /* NULL: none */
	struct slot *slot;
};

struct slot {
	guint64 id;
	enum slot_kind kind;
	char *location;     /* "account/folder" (SLOT_SINGLE, SLOT_FOLDER) */
	GPtrArray *entries; /* struct entry *, oldest first; owned */
	guint uncounted;    /* messages summed beyond NOTIFIER_MODEL_MAX_SUMMED */
	guint burst;        /* SLOT_FOLDER: the burst it sums up */
	bool sounded;       /* SLOT_CATCHUP: its one sound was asked for */
	guint quiet;        /* SLOT_QUIET: enum notifier_quiet flags its mail came under */
	bool gone;          /* SLOT_WATCHED: its popup went (expired, dismissed) */
};

/* The popup about an account: in error, or waiting for its keyring. */
struct account_notice {
	guint64 slot;
	bool error; /* it says the account is in error (else: the keyring) */
	bool again; /* "Try again" was chosen: the next error shows again */
};

struct folder {
	gint64 last_new;    /* monotonic µs of the last new message */
	guint burst;        /* number of the current burst, from 1 */
	guint in_burst;     /* new messages in the current burst */
	GPtrArray *singles; /* struct slot * of the current burst, unowned */
	struct slot *summary;
	guint64 reset_slot; /* the popup saying the server reset it, 0 if none */
};

/* Freedesktop notification categories. */
#define CATEGORY_NEW_MAIL "email.arrived"
#define CATEGORY_MAIL     "email"
#define CATEGORY_ERROR    "network.error"

struct notifier_model {
	struct notifier_model_options options;
	guint64 next_slot;
	GHashTable *slots;   /* id → struct slot * (owned) */
	GHashTable *entries; /* message id → struct entry * (owned by their slot) */
	GHashTable *folders; /* "account/folder" → struct folder * */
	GQueue singles;      /* struct slot * of SLOT_SINGLE, oldest first */
	GHashTable *errors;  /* account → struct account_notice * of its popup */
	struct slot *catchup;
	/* Accounts a reload (re)started (a set of names), and the summary of
	 * their catch-up since the last such reload (NULL until mail comes). */
	GHashTable *restarted;
	struct slot *watched;
	/* Quiet time: the enum notifier_quiet flags now (0: none); the
	 * summary collecting new mail meanwhile (not shown yet, NULL until
	 * mail comes); popups about no message waiting for the end, slot id
	 * → struct notifier_op * (owned). */
	guint quiet;
	struct slot *held;
	GHashTable *deferred;
	/* One message, one popup (N5): "account\nG:gm_msgid" or
	 * "account\nM:message-id" → monotonic µs it was announced; at most
	 * NOTIFIER_MODEL_MAX_SEEN_KEYS, none older than its window
	 * (NOTIFIER_MODEL_GMAIL_WINDOW or NOTIFIER_MODEL_DUPLICATE_WINDOW). */
	GHashTable *announced;
};

/* ---- notifier-model-events.c ---- */

/* Forgets a slot and its entries; sends nothing. */
void notifier_model_slot_drop(struct notifier_model *m, struct slot *s);
/* Appends op to ops, or during quiet time keeps a show that is news (not
 * an update after a withdrawal) for the end; a close drops what was kept
 * for its slot. Takes op. */
void notifier_model_emit(struct notifier_model *m, GPtrArray *ops, struct notifier_op *op);

/* Adds a new message to the summary of the quiet time (takes e). */
void notifier_model_hold(struct notifier_model *m, struct entry *e);

/* ---- notifier-model-text.c ---- */

/* "account/folder", each clipped to NOTIFIER_MODEL_NAME_CHARS. */
char *notifier_model_location_of(const char *account, const char *folder);
/* "message" or "messages". */
const char *notifier_model_messages_word(guint n);
/* Shows (or updates) slot s: its summary and body as the options and its
 * messages' content say, the strongest urgency among them; sound (may be
 * NULL) is copied. */
struct notifier_op *notifier_model_op_show(const struct notifier_model *m, const struct slot *s,
                                           const char *sound, bool only_if_shown);
/* The sound a summary of several messages asks for when shown at once:
 * that of its most urgent message with one (the newest of those), or
 * NULL. Borrowed. */
const char *notifier_model_slot_sound(const struct slot *s);
/* A popup about no message in particular (no message actions, no sound,
 * the mail icon until the caller sets another); takes summary and body. */
struct notifier_op *notifier_model_op_notice(guint64 slot, const char *category, char *summary,
                                             char *body);
/* Closes the popup of slot. */
struct notifier_op *notifier_model_op_close(guint64 slot);

#endif
