/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CONFIG_H
#define IMAPWATCH_CONFIG_H

/*
 * Configuration (pure): a GLib key file with one [daemon] group and one
 * [account NAME] group per account (DESIGN.md §1). Parsing validates
 * everything before the daemon connects anywhere. Every error names the file,
 * the line, the group and the key, in words a user can act on, for example:
 *
 *   ~/.config/imapwatch/config:12: [account work] key 'security': 'ssl' is
 *   not one of tls, starttls, none
 *
 * Unknown keys and groups are errors with the nearest known key as a hint.
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

enum config_security {
	CONFIG_SECURITY_TLS,      /* implicit TLS, default port 993 */
	CONFIG_SECURITY_STARTTLS, /* strict STARTTLS, default port 143 */
	CONFIG_SECURITY_NONE,     /* plaintext; needs allow_plaintext = true */
};

enum config_auth {
	CONFIG_AUTH_AUTO,
	CONFIG_AUTH_PLAIN,
	CONFIG_AUTH_LOGIN,
	CONFIG_AUTH_XOAUTH2,
	CONFIG_AUTH_OAUTHBEARER,
};

enum config_startup {
	CONFIG_STARTUP_SUMMARY,
	CONFIG_STARTUP_EACH,
	CONFIG_STARTUP_SILENT,
};

struct config_account {
	char *name; /* from "[account NAME]"; non-empty, no '/' */
	char *host;
	uint16_t port; /* resolved: explicit, else 993 (tls) / 143 (others) */
	enum config_security security;
	bool allow_plaintext;
	char *username;
	char *password;         /* NULL unless "password =" was given */
	char *password_command; /* NULL unless given; exactly one of the two */
	enum config_auth auth;
	char **folders;     /* UTF-8 names, NULL-terminated, never empty;
	                     * default { "INBOX" }; duplicates rejected */
	char *tls_ca_file;  /* NULL unless given; must be a readable file */
	guint idle_refresh; /* seconds; account value or the [daemon] one */
};

struct config {
	char *path; /* the file read, for messages */
	bool notifications;
	enum config_startup startup;
	guint idle_refresh;     /* seconds, default 540 (9m); 1m..29m (I5) */
	guint password_timeout; /* seconds, default 30 */
	GPtrArray *accounts;    /* struct config_account *, in file order */
};

/* Domain for GError; every error is CONFIG_ERROR_INVALID or
 * CONFIG_ERROR_IO (file missing/unreadable). */
#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);
enum config_error {
	CONFIG_ERROR_IO,
	CONFIG_ERROR_INVALID,
};

/* Reads and validates path. Returns NULL and sets error on any problem. */
struct config *config_load_file(const char *path, GError **error);

/* Same for text already in memory; path is only used in messages. */
struct config *config_load_data(const char *data, gsize len, const char *path, GError **error);

/* Accepts NULL. Clears passwords before freeing them. */
void config_free(struct config *config);

/* $XDG_CONFIG_HOME/imapwatch/config (g_get_user_config_dir()). New string. */
char *config_default_path(void);

/* Human-readable listing of the resolved settings for --check-config;
 * passwords are never included (shown as "(set in config file)" or "from command: ..."). */
char *config_describe(const struct config *config);

/* Looks up an account by name; NULL if none. */
const struct config_account *config_find_account(const struct config *config, const char *name);

/* True if a and b describe the same account in every setting (names
 * included): after a reload such an account keeps its connections. */
bool config_account_equal(const struct config_account *a, const struct config_account *b);

const char *config_security_name(enum config_security security);
const char *config_auth_name(enum config_auth auth);

/* Parses "30s", "9m", "1h", "1h30m" to seconds. False on malformed input
 * (bare numbers without unit are rejected). */
bool config_parse_duration(const char *s, guint *seconds);

/* The inverse, in the shortest form config_parse_duration() accepts:
 * 540 → "9m", 5400 → "1h30m", 0 → "0s". New string. */
char *config_format_duration(guint seconds);

typedef struct config config;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(config, config_free)

#endif
