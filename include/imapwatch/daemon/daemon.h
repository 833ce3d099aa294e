/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_DAEMON_H
#define IMAPWATCH_DAEMON_H

/*
 * The daemon core: the configuration, one account supervisor per account,
 * and the hub that hands every watch event to the outputs (--print-events,
 * the D-Bus service, the notifier). Outputs subscribe with
 * daemon_add_listener() and ask questions or request actions through the
 * functions below; they never reach into accounts or connections.
 *
 * Everything here runs on the main loop and never blocks. Listeners are
 * called synchronously, in subscription order, and must not block either
 * (the notifier hands events to its own thread).
 */

#include "imapwatch/io/account.h"
#include "imapwatch/core/config.h"
#include "imapwatch/core/event.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct daemon;

#define DAEMON_ERROR (daemon_error_quark())
GQuark daemon_error_quark(void);
enum daemon_error {
	DAEMON_ERROR_NO_SUCH_ACCOUNT, /* org.imapwatch.Error.NoSuchAccount */
	DAEMON_ERROR_NO_SUCH_MESSAGE, /* org.imapwatch.Error.NoSuchMessage */
	DAEMON_ERROR_FAILED,          /* org.imapwatch.Error.Failed */
};

/* A message imapwatch knows the details of. All strings owned. */
struct daemon_message {
	char *id; /* "account/folder/uidvalidity/uid" */
	char *account;
	char *folder;
	uint32_t uidvalidity;
	uint32_t uid;
	char *message_id;
	char *from_name;
	char *from_addr;
	char *subject;
	gint64 date;
	char **flags;
	bool seen;
};
void daemon_message_free(struct daemon_message *message);

struct daemon_folder_status {
	char *name;
	uint32_t unseen;
	char *watch;  /* "idle", "notify", "poll", "error" or "" (account_get_folder_watch) */
	char *detail; /* why the folder is in error, else "" */
};

struct daemon_account_status {
	char *name;
	enum watch_state state;
	char *detail;           /* reason for backoff / error, else "" */
	gint64 connected_since; /* Unix seconds every folder has been watched since, 0 if not */
	gint64 last_event;      /* Unix seconds of the last message or reset event, 0 if none */
	GPtrArray *folders;     /* struct daemon_folder_status * */
	guint connections;      /* IMAP connections the account holds */
};

struct daemon_status {
	char *version;
	guint64 uptime; /* seconds */
	uint32_t total_unseen;
	GPtrArray *accounts; /* struct daemon_account_status *, in config order */
	gint64 paused_until; /* as daemon_get_paused_until() */
	guint quiet;         /* as daemon_get_quiet() */
};
void daemon_status_free(struct daemon_status *status);

struct daemon_options {
	bool trace;        /* --trace-imap */
	char *config_path; /* for Reload */
	char *state_dir;   /* NULL: $XDG_STATE_HOME/imapwatch */
};

/* Takes ownership of config. Does not start anything yet. */
struct daemon *daemon_create(struct config *config, const struct daemon_options *options);
void daemon_start(struct daemon *daemon);
/* Logs out of every account, flushes state, then calls done (from the main
 * loop). Finishes within 2 s even when servers do not answer. */
void daemon_stop(struct daemon *daemon, void (*done)(void *user_data), void *user_data);
void daemon_destroy(struct daemon *daemon);

typedef void (*daemon_listener)(const struct watch_event *event, void *user_data);
/* Returns an id > 0 for daemon_remove_listener. */
guint daemon_add_listener(struct daemon *daemon, daemon_listener listener, void *user_data);
void daemon_remove_listener(struct daemon *daemon, guint id);

/* Called after every successful daemon_reload() (SIGHUP or an output's
 * request), from inside it, once the new account list is in place: outputs
 * that publish the account list learn of the change even when no account
 * changes state. Returns an id for daemon_remove_listener. */
typedef void (*daemon_reload_listener)(void *user_data);
guint daemon_add_reload_listener(struct daemon *daemon, daemon_reload_listener listener,
                                 void *user_data);

const struct config *daemon_get_config(const struct daemon *daemon);

/* Snapshot of every account; free with daemon_status_free. */
struct daemon_status *daemon_get_status(struct daemon *daemon);
uint32_t daemon_get_total_unseen(struct daemon *daemon);
/* Account names in config order; free with g_strfreev. */
char **daemon_get_account_names(struct daemon *daemon);

/* The special use the server gave a watched folder ("\\Junk", …), or
 * NULL when none is known or the folder is not watched. */
const char *daemon_get_folder_special_use(struct daemon *daemon, const char *account,
                                          const char *folder);

/* Messages of an account ("" = all accounts) and folder ("" = all
 * folders) that imapwatch knows the details of: every unseen message and
 * every message reported since start. Newest first. NULL + NO_SUCH_ACCOUNT
 * for an unknown account or folder. Free with g_ptr_array_unref (elements
 * are freed). */
GPtrArray *daemon_list_messages(struct daemon *daemon, const char *account, const char *folder,
                                bool unseen_only, GError **error);

/* Resynchronises an account now ("" = all), whatever its state: idle
 * folders re-list their flags, failed or waiting ones reconnect at once. */
bool daemon_check(struct daemon *daemon, const char *account, GError **error);

/* Result of an asynchronous request; error NULL on success. */
typedef void (*daemon_done)(const GError *error, void *user_data);

/* Sets \Seen on the server for the given message ids, through a short
 * separate connection per folder (never the IDLE one): SELECT, UIDVALIDITY
 * checked, UID STORE +FLAGS.SILENT (\Seen), UNSELECT. done is called once
 * from the main loop. Unknown ids → NO_SUCH_MESSAGE before anything is
 * changed. */
void daemon_mark_read(struct daemon *daemon, const char *const *ids, daemon_done done,
                      void *user_data);
/* Same for every unseen message of an account / folder ("" = all). */
void daemon_mark_all_read(struct daemon *daemon, const char *account, const char *folder,
                          daemon_done done, void *user_data);

/* Re-reads the configuration: unchanged accounts keep their connections,
 * added ones start, removed ones stop cleanly. On a bad file nothing
 * changes and error says why (file, line, key). */
bool daemon_reload(struct daemon *daemon, GError **error);

/* After resume from sleep: every connection is checked at once, and the
 * quiet listeners hear of it (the wall clock jumped). */
void daemon_probe(struct daemon *daemon);

/* Quiet time (daemon-pause.c). Desktop notifications pause — no popups,
 * no sounds; events, D-Bus signals and hooks go on — for seconds, or with
 * 0 until daemon_resume(). A pause replaces the one in force. It lives in
 * this process only: a restart ends it. */
void daemon_pause(struct daemon *daemon, guint seconds);
/* Ends the pause, if any. */
void daemon_resume(struct daemon *daemon);
/* 0: not paused; -1: paused until daemon_resume(); else the Unix second
 * the pause ends. */
gint64 daemon_get_paused_until(const struct daemon *daemon);

/* The notifier says why popups are held back now: enum notifier_quiet
 * flags (core/notifier-model.h), 0 for none. For status and D-Bus. */
void daemon_set_quiet(struct daemon *daemon, guint quiet);
guint daemon_get_quiet(const struct daemon *daemon);

/* Called on the main loop whenever the pause or the quiet flags change,
 * and after daemon_probe() (resume from sleep: quiet_hours may have begun
 * or ended meanwhile). Returns an id for daemon_remove_listener. */
typedef void (*daemon_quiet_listener)(void *user_data);
guint daemon_add_quiet_listener(struct daemon *daemon, daemon_quiet_listener listener,
                                void *user_data);

#endif
