/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_LOGIN_H
#define IMAPWATCH_IMAP_LOGIN_H

/*
 * The steps from the greeting to the authenticated state, run over an
 * imap_client by every machine that logs in (imap-session, imap-action,
 * imap-probe). Pure like the client: no sockets, no timers.
 *
 * It runs the greeting, strict STARTTLS when configured (S1–S4: fatal if not
 * offered, refused or answered with "+", plaintext after the tagged OK is an
 * injection, PREAUTH before TLS is fatal), CAPABILITY, AUTHENTICATE PLAIN /
 * XOAUTH2 / OAUTHBEARER with SASL-IR when advertised, or LOGIN as the last
 * resort and never with LOGINDISABLED (A1–A4), and reads the capabilities
 * again after login (C1). While it runs it is the client's handler: message
 * data before authentication never reaches the owner (S5). When it is done
 * the owner becomes the client's handler and sends its first command.
 *
 * Rule IDs in comments (S1, A2, …) are those of docs/PROTOCOL.md.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/imap-client.h"

#include <glib.h>
#include <stdbool.h>

struct imap_login_ops {
	/* The greeting was accepted (OK, or PREAUTH where allowed). May be
	 * NULL. */
	void (*greeted)(void *owner);
	/* Logged in and the capabilities are known (C1): the owner sets its
	 * handler on the client and sends its first command. */
	void (*authenticated)(void *owner);
	/* The login failed, or the client did before it was done; message is
	 * for the user. The client is stopped. Called once at most. */
	void (*failed)(enum imap_failure failure, const char *message, void *owner);
};

struct imap_login;

/* Becomes client's handler and waits for the greeting. Everything is
 * borrowed and must outlive the login: client, account (security, auth,
 * username, name), password (wiped by its owner), ops. */
struct imap_login *imap_login_create(struct imap_client *client,
                                     const struct config_account *account, const char *password,
                                     const struct imap_login_ops *ops, void *owner);
/* Accepts NULL. */
void imap_login_destroy(struct imap_login *login);

/* True once the server accepted the credentials (or greeted with an allowed
 * PREAUTH), even while the capabilities are still being read. */
bool imap_login_is_authenticated(const struct imap_login *login);

/* True once the server answered AUTHENTICATE or LOGIN with a refusal that
 * is not temporary (A6): the credentials were rejected. */
bool imap_login_credentials_rejected(const struct imap_login *login);

typedef struct imap_login imap_login;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_login, imap_login_destroy)

#endif
