/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_KEYRING_H
#define IMAPWATCH_KEYRING_H

/*
 * password_secret: a password from the Secret Service (gnome-keyring,
 * KeePassXC, KWallet's bridge) by attributes, as `secret-tool lookup` finds
 * it, through libsecret, asynchronously on the main loop.
 *
 * A desktop session often starts the daemon before the keyring is
 * unlocked. Then the item is there but locked: the request says so once
 * (locked callback, which may cancel it) and waits, without asking for an unlock prompt, until
 * the Secret Service reports a change (an unlock emits signals) or, at
 * worst, KEYRING_RECHECK_S pass; then it looks again. Nothing is retried
 * faster than that, so a locked keyring costs no storm of D-Bus calls.
 */

#include <glib.h>

/* Seconds between looks at a locked item when no signal came. */
#define KEYRING_RECHECK_S 10

struct keyring_request;

/* password is NULL on failure (error says why: no Secret Service, no
 * such item); the callee copies it, the buffer is wiped afterwards. The
 * request is freed after the callback returns. */
typedef void (*keyring_callback)(const char *password, const GError *error, void *user_data);
/* The item is locked: the request waits for it (called once). */
typedef void (*keyring_locked_callback)(void *user_data);

/* pairs: { attribute, value, …, NULL } (config_account.password_secret). */
struct keyring_request *keyring_request_start(char *const *pairs, keyring_callback callback,
                                              keyring_locked_callback locked, void *user_data);
/* Stops the request without calling back. Accepts NULL. */
void keyring_request_cancel(struct keyring_request *request);

#endif
