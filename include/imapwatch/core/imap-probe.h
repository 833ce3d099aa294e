/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_PROBE_H
#define IMAPWATCH_IMAP_PROBE_H

/*
 * A diagnostic IMAP session for `imapwatch doctor` over an imap_client,
 * pure like imap-session and imap-action ("sans-I/O"): no sockets, no
 * timers. src/ctl/doctor.c drives it.
 *
 * Sequence: the login of imap-login (greeting, strict STARTTLS,
 * CAPABILITY, authentication, capabilities after login), ID when offered
 * (A8), LIST "" "*" for every folder the server has, EXAMINE of each
 * configured folder that the list holds (read-only, as the watching
 * connections do; never SELECT), LOGOUT. It changes nothing on the server.
 *
 * With stop_after_greeting (no password to try), it stops right after the
 * greeting: the TLS details and any capabilities in the greeting are known,
 * nothing was sent.
 *
 * Callbacks run synchronously from inside the entry points and must not
 * destroy the probe.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/imap-client.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_probe;

struct imap_probe_ops {
	/* The probe is over: read the results with the getters. Called once;
	 * the transport should be closed. */
	void (*finished)(void *user_data);
};

struct imap_probe_config {
	const struct config_account *account; /* login settings, name; borrowed */
	const char *password;                 /* borrowed; its owner wipes it */
	const char *const *folders;           /* UTF-8, NULL-terminated; copied */
	bool stop_after_greeting;
};

/* What became of one configured folder. */
struct imap_probe_folder {
	char *name;      /* as configured */
	bool listed;     /* LIST returned it (and not \NonExistent) */
	bool noselect;   /* listed with \Noselect: holds other folders only */
	bool examined;   /* EXAMINE succeeded */
	char *error;     /* EXAMINE's refusal, printable; NULL otherwise */
	uint32_t exists; /* messages, from EXAMINE */
	uint32_t uidvalidity;
	/* A pattern ('*', '%'): how many selectable folders it matches, not
	 * counting junk, trash, sent, drafts and all-mail (the daemon skips
	 * them too). A pattern is never examined. */
	unsigned matched;
};

/* Becomes client's handler (through imap-login). client,
 * config->account, config->password and ops are borrowed and must outlive
 * the probe. Sends nothing until the greeting arrives. When the transport
 * closes (imap_client_transport_closed()) after LOGOUT was sent, the probe
 * ends normally. */
struct imap_probe *imap_probe_create(struct imap_client *client,
                                     const struct imap_probe_config *config,
                                     const struct imap_probe_ops *ops, void *user_data);
/* Accepts NULL. */
void imap_probe_destroy(struct imap_probe *probe);

/* --- results, valid once finished() was called ---------------------------- */

/* True when the server rejected the credentials (not a temporary
 * refusal, A6). Capabilities and the mechanisms offered before login are
 * the client's (imap_client_has_cap(), imap_client_get_auth_mechanisms()). */
bool imap_probe_credentials_rejected(const struct imap_probe *probe);

bool imap_probe_was_greeted(const struct imap_probe *probe);
bool imap_probe_is_authenticated(const struct imap_probe *probe);

/* Why the probe stopped early, for the user; NULL when it ran to the end
 * (or stopped after the greeting as asked). */
const char *imap_probe_get_error(const struct imap_probe *probe);

/* True when LIST answered; then imap_probe_get_mailboxes() is complete up
 * to its limit. */
bool imap_probe_has_list(const struct imap_probe *probe);

/* Every folder the server listed, decoded to UTF-8 (undecodable names
 * raw), in server order, without \NonExistent ones; at most 10000. Owned
 * by the probe, NULL-terminated; *n_out (may be NULL) gets the count. */
const char *const *imap_probe_get_mailboxes(const struct imap_probe *probe, size_t *n_out);

/* The hierarchy separator LIST reported ('/' or '.'), or '\0'. */
char imap_probe_get_separator(const struct imap_probe *probe);

/* The configured folders, in config order. */
size_t imap_probe_get_n_folders(const struct imap_probe *probe);
const struct imap_probe_folder *imap_probe_get_folder(const struct imap_probe *probe, size_t i);

typedef struct imap_probe imap_probe;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_probe, imap_probe_destroy)

#endif
