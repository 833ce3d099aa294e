/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_LISTENERS_MAILNAG_PRIVATE_H
#define IMAPWATCH_LISTENERS_MAILNAG_PRIVATE_H

/*
 * Shared by the files of the mailnag module, not for other modules:
 * mailnag.c (the name, the object, the methods) and mailnag-list.c (the
 * list of unseen mail, its signals, mails in D-Bus messages).
 */

#include "imapwatch/core/event.h"
#include "imapwatch/daemon/daemon.h"
#include "imapwatch/io/bus-message.h"
#include "imapwatch/listeners/mailnag.h"

#include <dbus/dbus.h>
#include <glib.h>
#include <stdbool.h>

enum mailnag_state {
	MAILNAG_OFF,        /* not offered: switched off, name taken, shut down, no bus */
	MAILNAG_REQUESTING, /* object registered, RequestName on its way */
	MAILNAG_SERVING,    /* the name is ours */
};

struct mailnag_service {
	struct daemon *daemon;
	DBusConnection *conn; /* own reference; NULL: no session bus */
	guint listener;
	guint reload_listener;
	enum mailnag_state state;
	bool registered;          /* MAILNAG_PATH on conn */
	DBusPendingCall *request; /* RequestName waiting for its reply */
	guint flush_source;

	/* As announced last: struct daemon_message *, newest first. */
	GPtrArray *mails;
	/* Ids unseen at the last comparison (owned keys). */
	GHashTable *known;
	/* Since then: ids of new unseen mail, ids made unseen again
	 * elsewhere (listed again, not new). */
	GHashTable *arrived;
	GHashTable *unread_again;
	/* "account/folder" → the UIDVALIDITY its mail was last seen with;
	 * "account/folder/uidvalidity/" of folders reset since (M3): their
	 * mail is new only when it arrives. */
	GHashTable *folders;
	GHashTable *reset_folders;
	/* Ids with a MarkMailAsRead under way: left out of the list until the
	 * daemon no longer counts them unseen, or the request failed. */
	GHashTable *hidden;
	/* struct mailnag_mark * under way. */
	GPtrArray *marks;
};

/* One MarkMailAsRead waiting for the server. */
struct mailnag_mark {
	struct mailnag_service *mailnag;
	char *id;
};

/* ---- mailnag.c ---- */

/* Back to MAILNAG_OFF: the name given up, the object and the list dropped. */
void mailnag_stop(struct mailnag_service *m);

/* ---- mailnag-list.c ---- */

/* The mails as one aa{sv}; with only_in, those whose id is in it. */
void mailnag_append_mails(DBusMessageIter *iter, GPtrArray *mails, GHashTable *only_in);

/* Reads the list again and sends MailsAdded or MailsRemoved if it
 * changed; does nothing unless serving. */
void mailnag_flush(struct mailnag_service *m);
/* mailnag_flush() when the main loop is idle (unless serving: nothing). */
void mailnag_schedule_flush(struct mailnag_service *m);
/* Forgets the list and what the events said (the name was given up). */
void mailnag_list_clear(struct mailnag_service *m);
/* The daemon's listener. */
void mailnag_on_event(const struct watch_event *event, void *user_data);

#endif
