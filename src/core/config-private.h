/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CONFIG_PRIVATE_H
#define IMAPWATCH_CONFIG_PRIVATE_H

/*
 * Shared by the parts of the config module, not for other modules:
 * config-ini.c reads the text into groups of raw entries and words the
 * errors, config-value.c checks one value, config-keys.c knows the names of
 * keys and values, config.c builds struct config and holds the rest of the
 * public entry points.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/secret.h"

/* ---- config-ini.c: the line-oriented reader ---- */

struct config_ini_entry {
	char *key;
	char *value;  /* trimmed, escapes not yet resolved */
	guint line;   /* 1-based */
	guint column; /* 1-based column of the value's first byte */
};

struct config_ini_group {
	char *name;
	guint line;
	GPtrArray *entries; /* struct config_ini_entry *, in file order */
};

/* State shared by the reader and the checks: where messages point to. */
struct config_parse {
	const char *path;
	GError **error;
};

/* Sets the error "PATH:LINE: [GROUP] key 'KEY': MESSAGE"; parts that are
 * 0 / NULL are left out. Always returns false so callers can
 * "return config_fail()". */
bool config_fail(struct config_parse *p, guint line, const char *group, const char *key,
                 const char *fmt, ...) G_GNUC_PRINTF(5, 6);

/* Trims blanks (not newlines) off [*start, *end) in place. */
void config_span_trim(const char **start, const char **end);

/* The entry for key in group, or NULL. */
struct config_ini_entry *config_ini_find_entry(const struct config_ini_group *group,
                                               const char *key);

/* Splits data into groups of raw entries (struct config_ini_group *, in file order;
 * the array frees them). Returns NULL after config_fail(). */
GPtrArray *config_ini_read(struct config_parse *p, const char *data, gsize len);

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
/* [rule NAME] into a new rule; NULL after config_fail(). */
struct config_rule *config_rule_build(struct config_parse *p, const struct config_ini_group *g,
                                      const char *name);
void config_rule_free(struct config_rule *rule);
void config_describe_rules(GString *out, const struct config *cfg);
void config_describe_hooks(GString *out, char *const *hooks,
                           const struct config_hook_timing *timing);
bool config_hook_timing_equal(const struct config_hook_timing *a,
                              const struct config_hook_timing *b);

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
