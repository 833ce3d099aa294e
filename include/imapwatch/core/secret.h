/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_SECRET_H
#define IMAPWATCH_SECRET_H

/*
 * Secrets (passwords, access tokens) in memory: one copy, shared by
 * reference, wiped when the last reference goes. The account holds the one
 * it got from the config or password_command; its connections borrow it
 * and a mark-read request keeps a reference of its own. explicit_bzero()
 * does the wiping: a plain memset() right before free() may be removed by
 * the compiler.
 */

#include <glib.h>

struct secret;

/* A new secret holding a copy of text (NULL is taken as ""), with one
 * reference. */
struct secret *secret_new(const char *text);
/* Another reference; returns secret. */
struct secret *secret_ref(struct secret *secret);
/* Drops a reference; the last one wipes and frees. Accepts NULL. */
void secret_unref(struct secret *secret);
/* The text, valid while a reference is held. */
const char *secret_get(const struct secret *secret);

/* Wipes a plain string and frees it (g_free). Accepts NULL. */
void secret_free(char *text);

typedef struct secret secret;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(secret, secret_unref)

#endif
