/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_GOA_H
#define IMAPWATCH_GOA_H

/*
 * goa_account: an account of GNOME Online Accounts (goa-daemon, bus name
 * org.gnome.OnlineAccounts on the session bus). The lookup finds it by its
 * Identity, PresentationIdentity or mail address and reads its Mail
 * interface (ImapHost, ImapUserName, ImapUseSsl, ImapUseTls); the
 * credentials are asked for on every connection: OAuth2Based.GetAccessToken
 * (a fresh token; GOA refreshes it) or PasswordBased.GetPassword
 * ("imap-password"). Asynchronous on the main loop; nothing here waits.
 */

#include "imapwatch/core/config.h"

#include <gio/gio.h>
#include <stdbool.h>

struct goa_imap {
	char *object_path; /* the account's object */
	char *host;
	uint16_t port;
	enum config_security security;
	char *username;
	bool oauth2; /* OAuth2Based: tokens; else PasswordBased: a password */
};

void goa_imap_clear(struct goa_imap *imap);

/* The account's settings with GOA's server and login in place: a shallow
 * copy of config (free with g_free()) whose host and username are imap's,
 * valid while imap is; auth follows what GOA gives (a token: xoauth2, or
 * oauthbearer if config asks for it; a password: auto). */
struct config_account *goa_imap_login(const struct config_account *config,
                                      const struct goa_imap *imap);

struct goa_request;

/* imap is filled on success (the callee takes it over with a struct copy;
 * it is cleared after the call otherwise); error says why not: no GOA on
 * the bus, no account with that identity, mail disabled, no IMAP. */
typedef void (*goa_lookup_callback)(struct goa_imap *imap, const GError *error, void *user_data);
struct goa_request *goa_lookup_start(const char *identity, goa_lookup_callback callback,
                                     void *user_data);

/* secret is the token or password (copy it; wiped afterwards); expires_at
 * is the token's end in Unix seconds, 0 if not said. */
typedef void (*goa_credentials_callback)(const char *secret, gint64 expires_at, const GError *error,
                                         void *user_data);
struct goa_request *goa_credentials_start(const struct goa_imap *imap,
                                          goa_credentials_callback callback, void *user_data);

/* Stops a request without calling back. Accepts NULL. */
void goa_request_cancel(struct goa_request *request);

#endif
