/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CONFIG_H
#define IMAPWATCH_CONFIG_H

/*
 * Configuration (pure): a GLib key file with one [daemon] group and one
 * [account NAME] group per account (imapwatch.conf(5)). Parsing validates
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

/* How much of a message a desktop notification shows (lock screens,
 * screen sharing). */
enum config_content {
	CONFIG_CONTENT_FULL,   /* sender and subject */
	CONFIG_CONTENT_SENDER, /* sender only */
	CONFIG_CONTENT_COUNT,  /* only how many messages, and where */
};

#define CONFIG_FINGERPRINT_LEN 32

struct config_account {
	char *name; /* from "[account NAME]"; non-empty, no '/' */
	char *host;
	uint16_t port; /* resolved: explicit, else 993 (tls) / 143 (others) */
	enum config_security security;
	bool allow_plaintext;
	char *username;
	char *password;         /* NULL unless "password =" was given */
	char *password_command; /* NULL unless given */
	/* password_secret = attr=value;…: the Secret Service item holding the
	 * password, as pairs { attr, value, …, NULL }; NULL unless given.
	 * Exactly one of password, password_command and password_secret. */
	char **password_secret;
	/* goa_account = identity: host, port, security, username and the
	 * password or OAuth token come from GNOME Online Accounts at run time
	 * (host is NULL and username empty here then); NULL unless given. */
	char *goa_account;
	enum config_auth auth;
	char **folders;    /* UTF-8 names and LIST patterns ('*', '%'),
	                    * NULL-terminated, never empty; default { "INBOX" };
	                    * duplicates rejected */
	char *tls_ca_file; /* NULL unless given; must be a readable file */
	/* tls_fingerprint = sha256:<hex>: accept exactly this certificate
	 * (RFC 8314 §5.4 pinning; chain and name are not checked then). */
	bool has_tls_fingerprint;
	uint8_t tls_fingerprint[CONFIG_FINGERPRINT_LEN];
	guint idle_refresh;    /* seconds; account value or the [daemon] one */
	guint poll_interval;   /* seconds between polls of folders without IDLE (L7);
	                        * account value or the [daemon] one */
	guint max_connections; /* IMAP connections at most, 1..15, default 3 */
	bool notify;           /* desktop notifications for this account, default true */
	char **notify_folders; /* NULL: every watched folder; else a subset of
	                        * folders, never empty */
	char *open_command;    /* NULL unless given; run on a click, split like a
	                        * shell would (never run by one), placeholders
	                        * checked: see config_expand_open_command() */
};

struct config {
	char *path; /* the file read, for messages */
	bool notifications;
	enum config_startup startup;
	guint idle_refresh;      /* seconds, default 540 (9m); 1m..29m (I5) */
	guint poll_interval;     /* seconds, default 120 (2m); 30s..1h */
	guint password_timeout;  /* seconds, default 30 */
	guint notify_max;        /* popups per folder before a burst is summed up, default 3 */
	bool notification_sound; /* default true */
	enum config_content notification_content; /* default full */
	/* Also offer mailnag's D-Bus service (mailnag.MailnagService) for
	 * mailnag's applets; default false. */
	bool mailnag_compat;
	GPtrArray *accounts;                      /* struct config_account *, in file order */
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

/* True if a folders entry is a LIST pattern ('*' or '%' in it). */
bool config_folder_is_pattern(const char *entry);

/* Whether a folder (UTF-8) matches an entry of folders or notify_folders:
 * a name matches itself (INBOX in any case); in a pattern '*' matches any
 * characters and '%' any but '/', the separator of most servers. */
bool config_folder_matches(const char *entry, const char *folder);

/* Human-readable listing of the resolved settings for --check-config;
 * passwords are never included (shown as "(set in config file)" or "from command: ..."). */
char *config_describe(const struct config *config);

/* Looks up an account by name; NULL if none. */
const struct config_account *config_find_account(const struct config *config, const char *name);

/* True if a and b describe the same account in every setting that
 * matters to its connections (names included): after a reload such an
 * account keeps its connections. The notification settings (notify,
 * notify_folders, open_command) are not compared: they are read from the
 * current config at each event. */
bool config_account_equal(const struct config_account *a, const struct config_account *b);

/* True if folder (UTF-8) of account may raise desktop notifications:
 * notify is on and the folder is in notify_folders (when given). */
bool config_account_notifies(const struct config_account *account, const char *folder);

/* The argv of an open_command with the placeholders replaced inside each
 * word after splitting (so a value never becomes two words and is never
 * seen by a shell): %a account, %f folder, %u UID (decimal, "" when 0), %m
 * Message-ID, %% a percent sign. NULL values count as "". Returns a new
 * NULL-terminated vector, or NULL and sets error (CONFIG_ERROR_INVALID)
 * when the command cannot be split or has another %-sequence. */
char **config_expand_open_command(const char *command, const char *account, const char *folder,
                                  uint32_t uid, const char *message_id, GError **error);

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
