/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IO_ACCOUNT_PRIVATE_H
#define IMAPWATCH_IO_ACCOUNT_PRIVATE_H

/*
 * Shared by the two halves of the account, not for other modules:
 * account.c (the supervisor) and account-persist.c (what is kept on disk).
 */

#include "imapwatch/core/supervisor.h"
#include "imapwatch/io/account.h"
#include "imapwatch/io/password.h"

/* One watched folder: its model lives as long as the account. */
struct folder {
	struct account *account;
	struct mailbox *mailbox;
	struct connection *connection;
	enum watch_state state; /* this folder's part of the account state */
	char *detail;
	struct supervisor_slot slot;
	guint retry_timer;
};

struct account {
	const struct config_account *config;
	struct account_options options;
	const struct account_env *env;
	account_sink sink;
	void *user_data;

	struct secret *password;
	struct password_request *password_request;
	/* The password's part of the account state: CONNECTING while the
	 * command runs, ERROR when it failed, IDLE (no part) otherwise. */
	enum watch_state password_state;
	char *password_detail;

	char *state_dir;
	struct state_account *saved; /* what is on disk, plus fields kept as is */
	guint save_timer;
	GPtrArray *folders; /* struct folder * */

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

/* Cancels the timer *id through the account's env, if set, and zeroes it. */
void account_timer_clear(struct account *a, guint *id);

/* ---- account-persist.c ---- */

/* Reads the account's state file into a->saved and restores each folder's
 * UIDVALIDITY and watermark; a damaged file is set aside and logged. */
void account_load(struct account *a);
/* Writes what the folders learnt now (and cancels a pending save). */
void account_save(struct account *a);
/* Saves within a second, once for any number of calls. */
void account_save_soon(struct account *a);

#endif
