/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_ACCOUNT_H
#define IMAPWATCH_ACCOUNT_H

/*
 * Account supervisor: one per [account NAME]. Gets the password (config or
 * password_command, asynchronously), holds one mailbox model per watched
 * folder across reconnects, opens one connection per folder (a later NOTIFY
 * mode will put several folders on one connection; the folder/connection
 * split is kept here for that), reconnects with jittered backoff after
 * transient failures and stops in state `error` after permanent ones.
 *
 * The account state is one of the states of DESIGN.md §1, derived from its
 * folders; every change is logged as "from -> to" and reported as a `state`
 * watch event with a detail for backoff and error.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/event.h"
#include "imapwatch/core/mailbox.h"

#include <glib.h>
#include <stdbool.h>

enum account_state {
	ACCOUNT_STATE_DISCONNECTED,
	ACCOUNT_STATE_CONNECTING,
	ACCOUNT_STATE_AUTHENTICATING,
	ACCOUNT_STATE_SYNCING,
	ACCOUNT_STATE_IDLE,
	ACCOUNT_STATE_POLLING,
	ACCOUNT_STATE_BACKOFF,
	ACCOUNT_STATE_ERROR,
	ACCOUNT_STATE_DISABLED,
};

struct account;

/* Receives every watch event of the account (new, changed, removed, unseen,
 * state), synchronously, from the main loop. */
typedef void (*account_sink)(const struct watch_event *event, void *user_data);

/* Called once after account_stop() when every connection has ended. */
typedef void (*account_stopped)(struct account *account, void *user_data);

struct account_options {
	guint password_timeout; /* seconds */
	bool trace;             /* --trace-imap */
	const char *state_dir;  /* where the watermarks persist; copied */
};

/* config is copied by reference: it must outlive the account. */
struct account *account_create(const struct config_account *config,
                               const struct account_options *options, account_sink sink,
                               void *user_data);
void account_start(struct account *account);
/* Logs out of every connection; `stopped` follows. */
void account_stop(struct account *account, account_stopped stopped, void *user_data);
/* Closes everything at once. Accepts NULL. */
void account_destroy(struct account *account);

enum account_state account_get_state(const struct account *account);
/* Why the account is in backoff or error, else "". */
const char *account_get_detail(const struct account *account);
/* Unix seconds since every folder has been watched (idle or polling), or 0. */
gint64 account_get_connected_since(const struct account *account);
const struct config_account *account_get_config(const struct account *account);
/* Points the account at an equal configuration (after a reload). */
void account_set_config(struct account *account, const struct config_account *config);
/* The password once known (config or password_command), else NULL. */
const char *account_get_password(const struct account *account);
guint account_get_n_folders(const struct account *account);
struct mailbox *account_get_mailbox(const struct account *account, guint index);
/* Resynchronise now whatever the state: watching folders select again and
 * re-list flags; folders waiting to retry, or in error, connect at once. */
void account_check(struct account *account);
/* After resume from sleep or a network change: every connection proves
 * itself with a round trip within a few seconds (broken ones reconnect at
 * once); folders waiting to retry or in error try again now. */
void account_probe(struct account *account);
/* Without a network, failed connections retry only rarely (the caller
 * runs account_probe() when it returns). */
void account_set_online(struct account *account, bool online);
const char *account_get_name(const struct account *account);
const char *account_state_name(enum account_state state);

#endif
