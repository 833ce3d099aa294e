/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IO_ACCOUNT_PRIVATE_H
#define IMAPWATCH_IO_ACCOUNT_PRIVATE_H

/*
 * Shared by the parts of the account, not for other modules: account.c
 * (the supervisor: state, connections, retries), account-folders.c (which
 * folders are watched, and on which connection) and account-persist.c (what
 * is kept on disk).
 */

#include "imapwatch/core/supervisor.h"
#include "imapwatch/io/account.h"
#include "imapwatch/io/goa.h"
#include "imapwatch/io/keyring.h"
#include "imapwatch/io/password.h"

/* One folder of the account. Its model lives as long as the account: one
 * that stops being watched (deleted on the server, no longer matched) moves
 * to account.retired, since a connection may still have it selected. */
struct folder {
	struct account *account;
	struct mailbox *mailbox;
	bool named;           /* named in folders (not only matched by a pattern) */
	char *error;          /* why it cannot be watched (does not exist, ...), or NULL */
	struct slot *home_of; /* the connection that IDLEs on it, or NULL (a guest) */
};

/* One connection of the account; slots[0] is the primary, which lists the
 * folders and watches the guests. */
struct slot {
	struct account *account;
	struct connection *connection;
	struct folder *home;    /* NULL: the primary before its first LIST */
	enum watch_state state; /* this connection's part of the account state */
	char *detail;
	struct supervisor_slot policy;
	guint retry_timer;
	/* The end of the policy's grace: the state shown is its own again. */
	guint grace_timer;
	enum imap_session_guests guests; /* how the primary watches the guests */
	bool leaving;                    /* planned away: logs out, then goes */
	bool wants_token;                /* waits for the token command (A5) */
	bool queued;                     /* waits for the one before to log in (F7) */
	guint64 token_gen;               /* the token its connection logged in with */
};

/* What the account knows of the server's NOTIFY. */
enum account_notify {
	ACCOUNT_NOTIFY_UNKNOWN, /* not connected yet: one connection asks */
	ACCOUNT_NOTIFY_YES,     /* one connection watches every folder */
	ACCOUNT_NOTIFY_NO,      /* not offered, or failed: IDLE within the budget, poll the rest */
};

struct account {
	const struct config_account *config;
	struct account_options options;
	const struct account_env *env;
	account_sink sink;
	void *user_data;

	struct secret *password;
	struct password_request *password_request;
	struct keyring_request *keyring_request; /* password_secret */
	/* goa_account: the account found in GNOME Online Accounts, and the
	 * settings the connections log in with (the configuration with GOA's
	 * server and login; its host and username are owned by imap). */
	struct goa_request *goa_request;
	struct goa_imap goa;
	struct config_account *login;
	/* The password's part of the account state: CONNECTING while the
	 * command runs, ERROR when it failed, IDLE (no part) otherwise. */
	enum watch_state password_state;
	char *password_detail;
	/* Credentials per connection (A5): OAuth with a token command, or
	 * goa_account (a token or a password). The ones in password serve
	 * the connections that start within ACCOUNT_TOKEN_SHARE_US of their
	 * fetch (token commands only), unless they expire within a minute or
	 * a server refused them. */
	bool per_connection;
	gint64 token_fetched;        /* monotonic µs; 0: none, or refused */
	gint64 token_expires;        /* Unix s; 0: not said */
	guint64 token_gen;           /* counts the tokens fetched */
	guint64 refused_gen;         /* the token a server refused last, 0: none */
	bool token_retried;          /* a refused token was answered with one fresh one */
	GPtrArray *credential_waits; /* struct account_credentials_wait *, for a token */

	/* How long the server lets an IDLE live (I9): the refresh the
	 * connections use, learnt and kept in the state file. */
	struct idle_lifetime idle_lifetime;

	char *state_dir;
	struct state_account *saved; /* what is on disk, plus fields kept as is */
	guint save_timer;            /* the durable save after fast ones */
	/* Events held until the state that accounts for them is written
	 * (struct watch_event *, owned), and the flush that does it. */
	GPtrArray *held;
	guint flush_timer;
	/* struct folder *: the watched ones, INBOX first, then named ones in
	 * config order, then those matched by patterns in server order. */
	GPtrArray *folders;
	GPtrArray *retired; /* struct folder *, no longer watched */
	GPtrArray *slots;   /* struct slot *; [0] is the primary */
	guint budget;       /* connections at most now: max_connections, lowered by refusals */
	enum account_notify notify;
	bool lists; /* the primary LISTs the folders entries (patterns, several folders) */

	enum watch_state state;
	char *detail;
	gint64 connected_since;
	bool offline; /* no network: no reconnect attempts spin */

	bool stopping;
	account_stopped stopped;
	void *stopped_data;
	guint stopped_timer;
};

/* ---- account.c ---- */

/* A number of seconds for a log line. */
#define DURATION(seconds) idle_lifetime_format((seconds), (char[16]){0}, 16)

/* Cancels the timer *id through the account's env, if set, and zeroes it. */
void account_timer_clear(struct account *a, guint *id);
/* The account state from its parts, after any of them changed. */
void account_update_state(struct account *a);
/* The password part of the state (CONNECTING while credentials are looked
 * up, ERROR when that failed, IDLE once they are there). */
void account_password_set_state(struct account *a, enum watch_state state, const char *detail);
/* Stopping, and no connection left: the stopped callback, from the loop. */
void account_check_stopped(struct account *a);

/* ---- account-slots.c ---- */

/* A slot without a connection yet, appended to a->slots. */
struct slot *account_slot_new(struct account *a, struct folder *home);
/* The free function of a->slots. */
void account_slot_free(gpointer slot);
/* A new connection for slot (home may be NULL for the primary). */
void account_slot_connect(struct slot *slot);
/* Logs in, with the credentials there now. */
void account_slot_start(struct slot *s);
/* The connection of slot failed: retry, give up, or lower the budget. */
void account_slot_failed(struct slot *s, enum imap_failure failure, const char *message);
/* Waiting to retry, or stopped in error: try again now. */
void account_slot_retry_now(struct slot *s);
/* Logs a slot's connection out and drops the slot when it is over. */
void account_slot_leave(struct slot *slot);
/* The slots as they are now, for a walk that may change them. */
GPtrArray *account_slots_snapshot(struct account *a);

/* account-credentials.c */
/* A token fetched for an earlier connection may serve this one. */
bool account_token_fresh(const struct account *a);
/* Runs the token command or asks GNOME Online Accounts; connections
 * waiting for it start when it comes. */
void account_token_request(struct account *a);
/* Answers everyone waiting for fresh credentials with problem. */
void account_credential_waits_answer(struct account *a, const char *problem);
/* The first connection, made when the credentials are there. */
void account_connect_primary(struct account *a);

/* ---- account-folders.c ---- */

/* A folder of name, its model restored from the saved state. */
struct folder *account_folder_new(struct account *a, const char *name, bool named);
void account_folder_free(gpointer folder);
/* The folder of that name among the watched ones, or NULL. */
struct folder *account_folder_find(struct account *a, const char *name);
/* The folders as configured before any LIST: the named entries. */
void account_folders_init(struct account *a);
/* A LIST pass of the primary: the watched folders from the configured names
 * and patterns (patterns skip \Junk, \Trash, \Sent, \Drafts, \All). */
void account_folders_listed(struct account *a, const struct imap_session_listed *entries, size_t n);
/* Which connection IDLEs on which folder, which folders the primary watches
 * as guests, with the budget and what is known of NOTIFY; makes and drops
 * connections to match. */
void account_plan(struct account *a);

/* ---- account-persist.c ---- */

/* Reads the account's state file into a->saved; a damaged file is set
 * aside and logged. */
void account_load(struct account *a);
/* Writes the state of the last flush again, durably (and cancels a pending
 * durable save). */
void account_save(struct account *a);
/* An event of the account or of one of its folders: held, with those
 * before it, until the state is written (account_flush()). */
void account_emit(struct account *a, const struct watch_event *event);
/* Writes the state if it changed and sends the held events. */
void account_flush(struct account *a);
/* What a->idle_lifetime learnt, or that it learnt nothing, into the state
 * file now (durably). */
void account_keep_idle_lifetime(struct account *a);
/* What an earlier run learnt of the server's IDLE, from the state loaded,
 * into a->idle_lifetime; false when there is nothing (or nothing usable). */
bool account_restore_idle_lifetime(struct account *a);

#endif
