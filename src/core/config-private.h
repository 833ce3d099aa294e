/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CONFIG_PRIVATE_H
#define IMAPWATCH_CONFIG_PRIVATE_H

/*
 * Shared by the parts of the config module, not for other modules:
 * config-ini.c reads the text into groups of entries and words the
 * errors, config-lex.c reads one value as written (quotes, comments,
 * escapes, lists), config-value.c checks one value, config-keys.c knows
 * the names of keys and values, config-rules.c reads the [rule] groups
 * and the hooks, config.c builds struct config and holds the rest of the
 * public entry points, config-describe.c says what --check-config prints.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/secret.h"

/* ---- config-ini.c: the line-oriented reader ---- */

/* How a value is written (imapwatch.conf(5), SYNTAX). In each, a '#' at
 * the start of the value or after a blank starts a comment, outside
 * quotes. */
enum config_syntax {
	/* One string: bare (trimmed, escapes resolved), or wholly in "…"
	 * (escapes resolved) or '…' (taken as it is). */
	CONFIG_SYNTAX_SCALAR,
	/* ';'-separated entries, each bare (\; is a ';' in it) or quoted as
	 * above, one entry whatever it holds. */
	CONFIG_SYNTAX_LIST,
	/* A command line: unquoted when one quoted string holds all of it,
	 * else its quotes are the shell's and stay (a '#' inside them too). */
	CONFIG_SYNTAX_COMMAND,
};

struct config_ini_item {
	char *text;  /* quotes removed, escapes resolved */
	bool quoted; /* written in quotes: taken as one entry, no hints */
};

struct config_ini_entry {
	char *key;
	/* Scalars and commands: quotes removed, escapes resolved. Lists: the
	 * text as written, trimmed, without the comment (for messages). */
	char *value;
	GPtrArray *items; /* lists: struct config_ini_item *; NULL otherwise */
	bool commented;   /* the value was nothing but a comment ("key = #…") */
	bool bad;         /* the reader reported its value: not checked again */
	guint line;       /* 1-based */
	guint column;     /* 1-based column of the value's first byte */
};

struct config_ini_group {
	char *name; /* NULL for the lines under a broken group line */
	guint line;
	GPtrArray *entries; /* struct config_ini_entry *, in file order */
};

/* State shared by the reader and the checks: where messages point to,
 * and the problems found so far (all are reported, in line order). */
struct config_parse {
	const char *path;
	GPtrArray *problems; /* struct config_problem *, the first ones found */
	guint n_problems;    /* all of them, also those not kept */
	/* A group was lost (a broken, repeated or unknown group line): what
	 * follows from its absence is not reported. */
	bool group_lost;
};

/* Adds the problem "PATH:LINE: [GROUP] key 'KEY': MESSAGE"; parts that
 * are 0 / NULL are left out. Always returns false so callers can
 * "return config_fail()". */
bool config_fail(struct config_parse *p, guint line, const char *group, const char *key,
                 const char *fmt, ...) G_GNUC_PRINTF(5, 6);

/* True if no problem was found; else sets error to all of them, one a
 * line in line order, at most CONFIG_MAX_REPORTED and a count of the
 * rest. Frees what p holds either way. */
bool config_parse_finish(struct config_parse *p, GError **error);

/* Trims blanks (not newlines) off [*start, *end) in place. */
void config_span_trim(const char **start, const char **end);
/* The first byte from c on that is not a blank, or end. */
const char *config_skip_blanks(const char *c, const char *end);

/* The entry for key in group, or NULL. */
struct config_ini_entry *config_ini_find_entry(const struct config_ini_group *group,
                                               const char *key);

/* Splits data into groups of raw entries (struct config_ini_group *, in
 * file order; the array frees them). Lines that cannot be read are
 * reported with config_fail() and left out; a group whose line is broken
 * or repeated is left out with its entries. */
GPtrArray *config_ini_read(struct config_parse *p, const char *data, gsize len);

/* ---- config-lex.c: one value as written ---- */

/* Reads [value, end) (blanks before it skipped) of key in group into
 * entry (value, items, commented), as key's enum config_syntax says;
 * entry->line is set. line_start is where the line begins, for columns.
 * False after config_fail(). */
bool config_lex_value(struct config_parse *p, const char *group, const char *key,
                      const char *line_start, const char *value, const char *end,
                      struct config_ini_entry *entry);

/* ---- config-value.c: values; each returns false after config_fail() ---- */

bool config_value_string(struct config_parse *p, const char *group,
                         const struct config_ini_entry *entry, char **out);
bool config_value_bool(struct config_parse *p, const char *group,
                       const struct config_ini_entry *entry, bool *out);
/* names is NULL-terminated and indexed by the enum value. */
bool config_value_choice(struct config_parse *p, const char *group,
                         const struct config_ini_entry *entry, const char *const *names,
                         guint *out);
bool config_value_duration(struct config_parse *p, const char *group,
                           const struct config_ini_entry *entry, guint min, guint max, guint *out);
bool config_value_port(struct config_parse *p, const char *group,
                       const struct config_ini_entry *entry, uint16_t *out);
bool config_value_count(struct config_parse *p, const char *group,
                        const struct config_ini_entry *entry, guint min, guint max, guint *out);
/* empty_hint completes "the list is empty; ". */
bool config_value_folders(struct config_parse *p, const char *group,
                          const struct config_ini_entry *entry, const char *empty_hint,
                          char ***out);
bool config_value_fingerprint(struct config_parse *p, const char *group,
                              const struct config_ini_entry *entry,
                              uint8_t out[CONFIG_FINGERPRINT_LEN]);
/* password_secret: "attr=value;attr=value" into { attr, value, …, NULL }. */
bool config_value_secret_attributes(struct config_parse *p, const char *group,
                                    const struct config_ini_entry *entry, char ***out);
/* The pairs as they are written: "attr=value; attr=value". */
char *config_secret_attributes_text(char *const *pairs);
/* A readable regular file, absolute or from ~/; what completes "give …". */
bool config_value_file(struct config_parse *p, const char *group,
                       const struct config_ini_entry *entry, const char *what, char **out);
bool config_value_open_command(struct config_parse *p, const char *group,
                               const struct config_ini_entry *entry, char **out);

/* ---- config-keys.c: names ---- */

/* NULL-terminated, indexed by the enum value. */
extern const char *const config_security_names[];
extern const char *const config_auth_names[];
extern const char *const config_startup_names[];
extern const char *const config_content_names[];
extern const char *const config_urgency_names[];
extern const char *const config_hook_names[];

enum config_daemon_key {
	CONFIG_DAEMON_KEY_NOTIFICATIONS,
	CONFIG_DAEMON_KEY_STARTUP,
	CONFIG_DAEMON_KEY_IDLE_REFRESH,
	CONFIG_DAEMON_KEY_PASSWORD_TIMEOUT,
	CONFIG_DAEMON_KEY_NOTIFY_MAX,
	CONFIG_DAEMON_KEY_NOTIFICATION_SOUND,
	CONFIG_DAEMON_KEY_NOTIFICATION_CONTENT,
	CONFIG_DAEMON_KEY_POLL_INTERVAL,
	CONFIG_DAEMON_KEY_MAILNAG_COMPAT,
	CONFIG_DAEMON_KEY_QUIET_HOURS,
	CONFIG_DAEMON_KEY_HOOK_DELAY,
	CONFIG_DAEMON_KEY_HOOK_MAX_DELAY,
	CONFIG_DAEMON_KEY_HOOK_TIMEOUT,
};

extern const char *const config_daemon_keys[];

enum config_account_key {
	CONFIG_ACCOUNT_KEY_HOST,
	CONFIG_ACCOUNT_KEY_PORT,
	CONFIG_ACCOUNT_KEY_SECURITY,
	CONFIG_ACCOUNT_KEY_ALLOW_PLAINTEXT,
	CONFIG_ACCOUNT_KEY_USERNAME,
	CONFIG_ACCOUNT_KEY_PASSWORD,
	CONFIG_ACCOUNT_KEY_PASSWORD_COMMAND,
	CONFIG_ACCOUNT_KEY_PASSWORD_SECRET,
	CONFIG_ACCOUNT_KEY_GOA_ACCOUNT,
	CONFIG_ACCOUNT_KEY_AUTH,
	CONFIG_ACCOUNT_KEY_FOLDERS,
	CONFIG_ACCOUNT_KEY_TLS_CA_FILE,
	CONFIG_ACCOUNT_KEY_TLS_FINGERPRINT,
	CONFIG_ACCOUNT_KEY_IDLE_REFRESH,
	CONFIG_ACCOUNT_KEY_NOTIFY,
	CONFIG_ACCOUNT_KEY_NOTIFY_FOLDERS,
	CONFIG_ACCOUNT_KEY_OPEN_COMMAND,
	CONFIG_ACCOUNT_KEY_POLL_INTERVAL,
	CONFIG_ACCOUNT_KEY_MAX_CONNECTIONS,
	CONFIG_ACCOUNT_KEY_ON_NEW,
	CONFIG_ACCOUNT_KEY_ON_CHANGED,
	CONFIG_ACCOUNT_KEY_ON_REMOVED,
	CONFIG_ACCOUNT_KEY_ON_STATE,
	CONFIG_ACCOUNT_KEY_HOOK_DELAY,
	CONFIG_ACCOUNT_KEY_HOOK_MAX_DELAY,
	CONFIG_ACCOUNT_KEY_HOOK_TIMEOUT,
	CONFIG_ACCOUNT_KEY_ENABLED,
};

extern const char *const config_account_keys[];

enum config_rule_key {
	CONFIG_RULE_KEY_ACCOUNT,
	CONFIG_RULE_KEY_FOLDER,
	CONFIG_RULE_KEY_FROM,
	CONFIG_RULE_KEY_NOTIFY,
	CONFIG_RULE_KEY_URGENCY,
	CONFIG_RULE_KEY_SOUND,
	CONFIG_RULE_KEY_CONTENT,
	CONFIG_RULE_KEY_ON_NEW,
	CONFIG_RULE_KEY_ON_CHANGED,
	CONFIG_RULE_KEY_ON_REMOVED,
};

extern const char *const config_rule_keys[];

/* ---- config-rules.c: hooks, rules and quiet hours ---- */

/* A hook's command: a value that splits like a shell command line. */
bool config_value_hook(struct config_parse *p, const char *group,
                       const struct config_ini_entry *entry, char **out);
/* quiet_hours = HH:MM-HH:MM */
bool config_value_quiet_hours(struct config_parse *p, const char *group,
                              const struct config_ini_entry *entry, struct config *cfg);
/* hook_delay, hook_max_delay or hook_timeout into timing. */
bool config_value_hook_timing(struct config_parse *p, const char *group,
                              const struct config_ini_entry *entry,
                              struct config_hook_timing *timing);
void config_hook_timing_defaults(struct config_hook_timing *timing);
/* [rule NAME] into a new rule, with its problems reported (config_fail()). */
struct config_rule *config_rule_build(struct config_parse *p, const struct config_ini_group *g,
                                      const char *name);
void config_rule_free(struct config_rule *rule);
bool config_hook_timing_equal(const struct config_hook_timing *a,
                              const struct config_hook_timing *b);

/* How the value of key is written in the group named group (NULL: a
 * broken group line). */
enum config_syntax config_key_syntax(const char *group, const char *key);

/* The index of key in the NULL-terminated keys, or -1. */
int config_key_index(const char *const *keys, const char *key);

/* config_fail() for a key that is not one of the group's, with a hint. */
enum config_group_kind {
	CONFIG_GROUP_DAEMON,
	CONFIG_GROUP_ACCOUNT,
	CONFIG_GROUP_RULE,
};
bool config_unknown_key_fail(struct config_parse *p, const char *group,
                             const struct config_ini_entry *entry, enum config_group_kind kind);
/* config_fail() for a group that is neither [daemon] nor [account NAME]. */
bool config_unknown_group_fail(struct config_parse *p, const struct config_ini_group *group);

const char *config_startup_name(enum config_startup startup);
const char *config_content_name(enum config_content content);

#endif
