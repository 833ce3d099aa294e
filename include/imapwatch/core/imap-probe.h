/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_PROBE_H
#define IMAPWATCH_IMAP_PROBE_H

/*
 * A diagnostic IMAP session for `imapwatch doctor`, pure like imap-session
 * and imap-action ("sans-I/O"): bytes from the server go in through
 * imap_probe_feed(), commands come out through the io callbacks; no
 * sockets, no timers. src/ctl/doctor.c drives it.
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

#include "imapwatch/core/imap-login.h"

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
	struct imap_login_config login;
	const char *const *folders; /* UTF-8, NULL-terminated; copied */
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
};

/* io and ops are borrowed and must outlive the probe. Sends nothing until
 * the greeting arrives. */
struct imap_probe *imap_probe_create(const struct imap_probe_config *config,
                                     const struct imap_login_io *io,
                                     const struct imap_probe_ops *ops, void *user_data);
/* Accepts NULL. Wipes the password. */
void imap_probe_destroy(struct imap_probe *probe);

/* Bytes from the server (plaintext, after TLS). */
void imap_probe_feed(struct imap_probe *probe, const char *data, size_t len);

/* The TLS handshake requested by io->start_tls succeeded. */
void imap_probe_tls_ready(struct imap_probe *probe);

/* The transport closed (EOF, error or timeout) with message. After LOGOUT
 * was sent this ends the probe normally. */
void imap_probe_transport_closed(struct imap_probe *probe, const char *message);

/* --- results, valid once finished() was called ---------------------------- */

/* The login machinery: capabilities, mechanisms offered, whether the
 * credentials were rejected. */
const struct imap_login *imap_probe_get_login(const struct imap_probe *probe);

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
