/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_ACCOUNT_H
#define IMAPWATCH_ACCOUNT_H

/*
 * Account supervisor: one per [account NAME]. Gets the password (config or
 * password_command, asynchronously), holds one mailbox model per watched
 * folder across reconnects, and decides which folders go on which
 * connection: the first connection LISTs the configured names and patterns
 * and, when the server offers NOTIFY, watches every folder by itself (its
 * home folder by IDLE, the others as guests); without NOTIFY up to
 * max_connections connections IDLE on a folder each (INBOX first, then in
 * config order) and the first polls the others every poll_interval. A
 * server that refuses a connection for being over its limit lowers that
 * budget. Connections reconnect with jittered backoff after transient
 * failures and stop in state `error` after permanent ones; the decisions
 * themselves are core/supervisor.h's.
 *
 * The account state is computed in one place from its parts — each
 * connection or its retry, each folder that cannot be watched (a named
 * folder missing on the server), and the password while it is fetched or
 * has failed (supervisor_pick_state()); every change is logged as
 * "from -> to" and reported as a `state` watch event with a detail for
 * backoff and error.
 *
 * Connections, timers, the clock and randomness are reached through a
 * struct account_env: the real ones in the daemon, fakes in the unit tests
 * (tests/unit/io/test-account*.c), which play reconnects, black holes and
 * sleep on a clock of their own.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/event.h"
#include "imapwatch/core/mailbox.h"
#include "imapwatch/core/secret.h"
#include "imapwatch/io/connection.h"

#include <glib.h>
#include <stdbool.h>

struct account;

/* Receives every watch event of the account (new, changed, removed, unseen,
 * state), synchronously, from the main loop. */
typedef void (*account_sink)(const struct watch_event *event, void *user_data);

/* Called once after account_stop() when every connection has ended. */
typedef void (*account_stopped)(struct account *account, void *user_data);

/* The world as the account sees it. */
struct account_env {
	/* The connection_* functions of connection.h, or a test's fakes. */
	struct connection *(*connection_create)(const struct connection_params *params,
	                                        const struct connection_ops *ops, void *user_data);
	void (*connection_start)(struct connection *connection);
	void (*connection_resync)(struct connection *connection);
	void (*connection_probe)(struct connection *connection, guint timeout);
	void (*connection_logout)(struct connection *connection);
	void (*connection_destroy)(struct connection *connection);
	void (*connection_set_home)(struct connection *connection, struct mailbox *home);
	void (*connection_set_guests)(struct connection *connection, struct mailbox *const *guests,
	                              size_t n);
	/* Monotonic microseconds. */
	gint64 (*now)(void);
	/* Calls func(data) once after ms milliseconds from the main loop (0:
	 * as soon as it is idle); returns an id > 0 for timer_cancel(). */
	guint (*timer_add)(guint ms, GSourceFunc func, gpointer data);
	void (*timer_cancel)(guint id);
	/* Any 32-bit random value (backoff jitter). */
	uint32_t (*random)(void);
};

/* Real connections, GLib timers, g_get_monotonic_time(), g_random_int(). */
extern const struct account_env account_env_default;

struct account_options {
	guint password_timeout;        /* seconds */
	bool trace;                    /* --trace-imap */
	const char *state_dir;         /* where the watermarks persist; copied */
	const struct account_env *env; /* NULL: account_env_default */
};

/* Seconds a connection has to answer a probe after resume or a network
 * change. */
#define ACCOUNT_PROBE_TIMEOUT 10

/* config is borrowed: it must outlive the account (account_set_config()
 * points it at another). */
struct account *account_create(const struct config_account *config,
                               const struct account_options *options, account_sink sink,
                               void *user_data);
void account_start(struct account *account);
/* Logs out of every connection; `stopped` follows. */
void account_stop(struct account *account, account_stopped stopped, void *user_data);
/* Closes everything at once. Accepts NULL. */
void account_destroy(struct account *account);

enum watch_state account_get_state(const struct account *account);
/* Why the account is in backoff or error, else "". */
const char *account_get_detail(const struct account *account);
/* Unix seconds since every folder has been watched (idle or polling), or 0. */
gint64 account_get_connected_since(const struct account *account);
const struct config_account *account_get_config(const struct account *account);
/* What connections log in with: the configuration, or with goa_account the
 * server and login GNOME Online Accounts gives (once it was asked). */
const struct config_account *account_get_login_config(const struct account *account);
/* Points the account at an equal configuration (after a reload). */
void account_set_config(struct account *account, const struct config_account *config);
/* The password once known (config or password_command), else NULL. Take a
 * reference (secret_ref()) to keep it beyond the account's life. */
struct secret *account_get_password(const struct account *account);

/* Credentials for a connection of its own (mark as read): fn gets the
 * password at once, or with per-connection tokens (A5) a token fetched for
 * it once it comes — or NULL and the reason. Returns NULL if fn was called already; else a handle
 * for account_credentials_cancel(), valid until fn is called. fn is called (with a reason) when the
 * account goes away meanwhile. */
typedef void (*account_credentials_fn)(struct secret *credentials, const char *problem,
                                       void *user_data);
struct account_credentials_wait;
struct account_credentials_wait *
account_with_credentials(struct account *account, account_credentials_fn fn, void *user_data);
void account_credentials_cancel(struct account *account, struct account_credentials_wait *wait);
/* The watched folders (config names, and what patterns matched on the
 * server), INBOX first. */
guint account_get_n_folders(const struct account *account);
struct mailbox *account_get_mailbox(const struct account *account, guint index);
/* How folder index is watched now: "idle" (its own connection), "notify"
 * or "poll" (a guest of the account's first connection), "error" (then
 * *detail says why), or "" (not yet, or not now). *detail is "" otherwise. */
const char *account_get_folder_watch(const struct account *account, guint index,
                                     const char **detail);
/* IMAP connections the account holds now. */
guint account_get_n_connections(const struct account *account);
/* Resynchronise now whatever the state: watching folders select again and
 * re-list flags; folders waiting to retry, or in error, connect at once. */
void account_check(struct account *account);
/* After resume from sleep or a network change: every connection proves
 * itself with a round trip within ACCOUNT_PROBE_TIMEOUT (broken ones
 * reconnect at once); folders waiting to retry or in error try again now. */
void account_probe(struct account *account);
/* Without a network, failed connections retry only rarely (the caller
 * runs account_probe() when it returns). */
void account_set_online(struct account *account, bool online);
const char *account_get_name(const struct account *account);

#endif
