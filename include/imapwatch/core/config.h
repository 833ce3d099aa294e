/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CONFIG_H
#define IMAPWATCH_CONFIG_H

/*
 * Configuration (pure): a GLib key file with one [daemon] group and one
 * [account NAME] group per account (imapwatch.conf(5)), with comments after
 * values and quoted values as well. Parsing validates everything before
 * the daemon connects anywhere. Every error names the file, the line, the
 * group and the key, in words a user can act on, for example:
 *
 *   ~/.config/imapwatch/config:12: [account work] key 'security': 'ssl' is
 *   not one of tls, starttls, none
 *
 * Unknown keys and groups are errors with the nearest known key as a hint.
 * One reading reports every problem of the file, not only the first.
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

/* The urgency of a desktop notification (freedesktop notification spec). */
enum config_urgency {
	CONFIG_URGENCY_LOW,
	CONFIG_URGENCY_NORMAL,
	CONFIG_URGENCY_CRITICAL,
};

/* The hooks: commands run on events (imapwatch.conf(5), HOOKS). */
enum config_hook {
	CONFIG_HOOK_NEW,     /* on_new: new messages (and a folder's reset) */
	CONFIG_HOOK_CHANGED, /* on_changed: flags changed */
	CONFIG_HOOK_REMOVED, /* on_removed: messages gone */
	CONFIG_HOOK_STATE,   /* on_state: the account's state changed */
	CONFIG_HOOK_N,
};

/* When hooks run (seconds): a batch waits delay after its last event, but
 * never more than max_delay after its first; a run is killed after
 * timeout. */
struct config_hook_timing {
	guint delay;
	guint max_delay;
	guint timeout;
};

#define CONFIG_FINGERPRINT_LEN 32

struct config_account {
	char *name; /* from "[account NAME]"; non-empty, no '/' */
	/* enabled = false: the account is kept (status shows it disabled) but
	 * never connected, and its password is never looked up. */
	bool disabled;
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
	/* on_new, on_changed, on_removed, on_state: argv text split like a
	 * shell would (never run by one); NULL unless given. */
	char *hooks[CONFIG_HOOK_N];
	struct config_hook_timing hook_timing; /* account values or [daemon]'s */
};

/* [rule NAME]: settings for the messages it matches. A match key left out
 * matches everything; a setting left out (-1, NULL) is decided by a later
 * rule or by the account. */
struct config_rule {
	char *name;
	guint line;
	char *account;              /* glob on the account name, NULL: any */
	char *folder;               /* folder name or pattern as in folders, NULL: any */
	char *from;                 /* glob on the sender's address or name, NULL: any */
	int notify;                 /* -1, 0, 1 */
	int urgency;                /* -1 or enum config_urgency */
	int content;                /* -1 or enum config_content */
	char *sound;                /* NULL, "none", a sound name or an absolute file path */
	char *hooks[CONFIG_HOOK_N]; /* on_new, on_changed, on_removed; never on_state */
};

/* What one message's popup gets, from the rules, the account and
 * [daemon]. */
struct config_notice {
	bool notify;
	enum config_urgency urgency;
	enum config_content content;
	/* NULL: no sound; a name of the freedesktop sound theme; or an
	 * absolute path of a sound file. Borrowed from the config. */
	const char *sound;
	const char *rule; /* the first rule that matched, or NULL */
};

struct config {
	char *path;      /* the file read, for messages */
	guint file_mode; /* its permission bits when config_load_file() read it, else 0 */
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
	/* quiet_hours = HH:MM-HH:MM: minutes after midnight, local time; equal
	 * (both 0) when not set. The end is excluded; start > end spans
	 * midnight. */
	bool has_quiet_hours;
	guint quiet_start;
	guint quiet_end;
	struct config_hook_timing hook_timing; /* defaults for the accounts */
	GPtrArray *rules;                      /* struct config_rule *, in file order */
	GPtrArray *accounts;                   /* struct config_account *, in file order */
};

/* Domain for GError; every error is CONFIG_ERROR_INVALID or
 * CONFIG_ERROR_IO (file missing, unreadable or not a regular file). */
#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);
enum config_error {
	CONFIG_ERROR_IO,
	CONFIG_ERROR_INVALID,
};

/* Problems in one error message at most; beyond them a last line says
 * how many more there are ("… and 3 more errors"). */
#define CONFIG_MAX_REPORTED 20

/* Reads and validates path. Returns NULL and sets error on any problem:
 * CONFIG_ERROR_INVALID holds every problem of the file, one a line
 * ("PATH:LINE: …", in the order of the lines), at most
 * CONFIG_MAX_REPORTED of them. Never blocks on a FIFO or device: those
 * are CONFIG_ERROR_IO, as is a missing file (whose message says where the
 * example config is). */
struct config *config_load_file(const char *path, GError **error);

/* Same for text already in memory; path is only used in messages. */
struct config *config_load_data(const char *data, gsize len, const char *path, GError **error);

/* Accepts NULL. Clears passwords before freeing them. */
void config_free(struct config *config);

/* True when a password is written in the file (password =) and users
 * other than its owner may read it (group or other permission bits, as
 * the file was when read): then it is no secret; chmod 600 fixes it. The
 * daemon and imapwatch doctor warn about it. */
bool config_password_readable(const struct config *config);

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

/* The popup settings of a message: for each setting the first [rule] that
 * matches and sets it, else the account's (notify, notify_folders) and
 * [daemon]'s. [daemon] notifications = false is final. from_name and
 * from_addr may be NULL (then rules with from do not match). */
void config_notice_for(const struct config *config, const struct config_account *account,
                       const char *folder, const char *from_name, const char *from_addr,
                       struct config_notice *out);

/* The command of a hook for an event: the first matching rule's, else the
 * account's; NULL when none. on_state comes from the account only. */
const char *config_hook_for(const struct config *config, const struct config_account *account,
                            enum config_hook hook, const char *folder, const char *from_name,
                            const char *from_addr);

/* "on_new", … */
const char *config_hook_name(enum config_hook hook);
/* "low", "normal", "critical" */
const char *config_urgency_name(enum config_urgency urgency);

/* True when minute (0..1439 after local midnight) is inside quiet_hours. */
bool config_quiet_at(const struct config *config, guint minute);

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
