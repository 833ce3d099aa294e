/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_MARK_READ_H
#define IMAPWATCH_MARK_READ_H

/*
 * Marking messages as read — the only change imapwatch ever makes to a
 * mailbox, and only when the user asks (W4). A short, separate connection
 * (never an IDLE one, I4): connect and authenticate like a watching
 * connection, SELECT the folder read-write, check that UIDVALIDITY is the
 * one the ids were made with (stale UIDs would touch the wrong messages,
 * RFC 2683 §3.4.3), UID STORE <set> +FLAGS.SILENT (\Seen), then UNSELECT
 * (when advertised; else LOGOUT directly) — never CLOSE, never EXPUNGE
 * (M6). A read-only folder ([READ-ONLY] or no \Seen in PERMANENTFLAGS) is
 * an error (W5). Long UID sets are split across several STORE commands
 * (P5).
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/secret.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mark_read_request;

/* Called exactly once from the main loop unless cancelled: error NULL on
 * success, else a message for the user (domain G_IO_ERROR). */
typedef void (*mark_read_done)(const GError *error, void *user_data);

/* account is borrowed and must outlive the request; the request keeps a
 * reference to password; folder (UTF-8) and uids are copied. The
 * connection is bounded by the response timeout (L4) and 60 s in all. */
struct mark_read_request *mark_read_start(const struct config_account *account,
                                          struct secret *password, const char *folder,
                                          uint32_t uidvalidity, const uint32_t *uids, size_t n_uids,
                                          bool trace, mark_read_done done, void *user_data);

/* Closes the connection at once; done is not called. Accepts NULL. */
void mark_read_cancel(struct mark_read_request *request);

#endif
