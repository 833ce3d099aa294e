/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_ACTION_H
#define IMAPWATCH_IMAP_ACTION_H

/*
 * Marking messages of one folder as read (W4), as a pure state machine
 * ("sans-I/O") over an imap_client, like imap-session. No sockets, no
 * timers; src/io/mark-read.c drives it.
 *
 * Sequence: the login of imap-login (greeting, strict STARTTLS, CAPABILITY,
 * AUTHENTICATE or LOGIN, capabilities after login), ID when offered (A8),
 * SELECT of the folder — the one place imapwatch ever selects read-write —
 * then checks before any change: UIDVALIDITY must equal the expected one
 * (stale UIDs would touch other messages, RFC 2683 §3.4.3, M3) and the
 * folder must be writable: no [READ-ONLY], and \Seen in PERMANENTFLAGS when
 * the server sends that list (W5). Then UID STORE <set> +FLAGS.SILENT
 * (\Seen), several commands when the set is long (each line under 8000
 * octets, P5), UNSELECT when advertised (never CLOSE, M6), LOGOUT.
 *
 * Nothing else is ever stored; no CLOSE, EXPUNGE, COPY, MOVE, APPEND or
 * DELETE is ever sent. One command is outstanding at a time.
 *
 * Callbacks run synchronously from inside the entry points and must not
 * destroy the action.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/imap-client.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_action;

struct imap_action_ops {
	/* The action failed; message says what, in words for the user,
	 * including whether anything was changed. The transport should be
	 * closed. */
	void (*failed)(enum imap_failure failure, const char *message, void *user_data);
	/* Every message was marked; LOGOUT completed, or the connection closed
	 * after the last STORE succeeded. The transport should be closed. */
	void (*finished)(void *user_data);
};
/* Exactly one of failed() and finished() is called, once. */

struct imap_action_config {
	const struct config_account *account; /* login settings, name; borrowed */
	const char *password;                 /* borrowed; its owner wipes it */
	const char *folder;                   /* UTF-8; copied */
	uint32_t uidvalidity;                 /* the one the UIDs belong to */
	const uint32_t *uids;                 /* copied; any order, duplicates allowed */
	size_t n_uids;
};

/* Becomes client's handler (through imap-login). client, config->account,
 * config->password and ops are borrowed and must outlive the action. Sends
 * nothing until the greeting arrives. When the transport closes
 * (imap_client_transport_closed()) the action fails — or finishes, when
 * only UNSELECT / LOGOUT were left. */
struct imap_action *imap_action_create(struct imap_client *client,
                                       const struct imap_action_config *config,
                                       const struct imap_action_ops *ops, void *user_data);
/* Accepts NULL. */
void imap_action_destroy(struct imap_action *action);

/* True until failed() or finished() has been called. */
bool imap_action_is_running(const struct imap_action *action);

typedef struct imap_action imap_action;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_action, imap_action_destroy)

#endif
