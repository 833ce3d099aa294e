/* SPDX-License-Identifier: MIT */
/*
 * The names a config file uses (keys, and the words of enum values) and the
 * hints for names that are not known: the nearest key, or the group a key
 * belongs in.
 */
#include "core/config-private.h"

#include <string.h>

const char *const config_security_names[] = {
    [CONFIG_SECURITY_TLS] = "tls",
    [CONFIG_SECURITY_STARTTLS] = "starttls",
    [CONFIG_SECURITY_NONE] = "none",
    NULL,
};

const char *const config_auth_names[] = {
    [CONFIG_AUTH_AUTO] = "auto",
    [CONFIG_AUTH_PLAIN] = "plain",
    [CONFIG_AUTH_LOGIN] = "login",
    [CONFIG_AUTH_XOAUTH2] = "xoauth2",
    [CONFIG_AUTH_OAUTHBEARER] = "oauthbearer",
    NULL,
};

const char *const config_startup_names[] = {
    [CONFIG_STARTUP_SUMMARY] = "summary",
    [CONFIG_STARTUP_EACH] = "each",
    [CONFIG_STARTUP_SILENT] = "silent",
    NULL,
};

const char *const config_content_names[] = {
    [CONFIG_CONTENT_FULL] = "full",
    [CONFIG_CONTENT_SENDER] = "sender",
    [CONFIG_CONTENT_COUNT] = "count",
    NULL,
};

const char *const config_urgency_names[] = {
    [CONFIG_URGENCY_LOW] = "low",
    [CONFIG_URGENCY_NORMAL] = "normal",
    [CONFIG_URGENCY_CRITICAL] = "critical",
    NULL,
};

const char *const config_hook_names[] = {
    [CONFIG_HOOK_NEW] = "on_new",
    [CONFIG_HOOK_CHANGED] = "on_changed",
    [CONFIG_HOOK_REMOVED] = "on_removed",
    [CONFIG_HOOK_STATE] = "on_state",
    NULL,
};

const char *const config_daemon_keys[] = {
    [CONFIG_DAEMON_KEY_NOTIFICATIONS] = "notifications",
    [CONFIG_DAEMON_KEY_STARTUP] = "startup",
    [CONFIG_DAEMON_KEY_IDLE_REFRESH] = "idle_refresh",
    [CONFIG_DAEMON_KEY_PASSWORD_TIMEOUT] = "password_timeout",
    [CONFIG_DAEMON_KEY_NOTIFY_MAX] = "notify_max",
    [CONFIG_DAEMON_KEY_NOTIFICATION_SOUND] = "notification_sound",
    [CONFIG_DAEMON_KEY_NOTIFICATION_CONTENT] = "notification_content",
    [CONFIG_DAEMON_KEY_POLL_INTERVAL] = "poll_interval",
    [CONFIG_DAEMON_KEY_MAILNAG_COMPAT] = "mailnag_compat",
    [CONFIG_DAEMON_KEY_QUIET_HOURS] = "quiet_hours",
    [CONFIG_DAEMON_KEY_HOOK_DELAY] = "hook_delay",
    [CONFIG_DAEMON_KEY_HOOK_MAX_DELAY] = "hook_max_delay",
    [CONFIG_DAEMON_KEY_HOOK_TIMEOUT] = "hook_timeout",
    NULL,
};

const char *const config_account_keys[] = {
    [CONFIG_ACCOUNT_KEY_HOST] = "host",
    [CONFIG_ACCOUNT_KEY_PORT] = "port",
    [CONFIG_ACCOUNT_KEY_SECURITY] = "security",
    [CONFIG_ACCOUNT_KEY_ALLOW_PLAINTEXT] = "allow_plaintext",
    [CONFIG_ACCOUNT_KEY_USERNAME] = "username",
    [CONFIG_ACCOUNT_KEY_PASSWORD] = "password",
    [CONFIG_ACCOUNT_KEY_PASSWORD_COMMAND] = "password_command",
    [CONFIG_ACCOUNT_KEY_PASSWORD_SECRET] = "password_secret",
    [CONFIG_ACCOUNT_KEY_GOA_ACCOUNT] = "goa_account",
    [CONFIG_ACCOUNT_KEY_AUTH] = "auth",
    [CONFIG_ACCOUNT_KEY_FOLDERS] = "folders",
    [CONFIG_ACCOUNT_KEY_TLS_CA_FILE] = "tls_ca_file",
    [CONFIG_ACCOUNT_KEY_TLS_FINGERPRINT] = "tls_fingerprint",
    [CONFIG_ACCOUNT_KEY_IDLE_REFRESH] = "idle_refresh",
    [CONFIG_ACCOUNT_KEY_NOTIFY] = "notify",
    [CONFIG_ACCOUNT_KEY_NOTIFY_FOLDERS] = "notify_folders",
    [CONFIG_ACCOUNT_KEY_OPEN_COMMAND] = "open_command",
    [CONFIG_ACCOUNT_KEY_POLL_INTERVAL] = "poll_interval",
    [CONFIG_ACCOUNT_KEY_MAX_CONNECTIONS] = "max_connections",
    [CONFIG_ACCOUNT_KEY_ON_NEW] = "on_new",
    [CONFIG_ACCOUNT_KEY_ON_CHANGED] = "on_changed",
    [CONFIG_ACCOUNT_KEY_ON_REMOVED] = "on_removed",
    [CONFIG_ACCOUNT_KEY_ON_STATE] = "on_state",
    [CONFIG_ACCOUNT_KEY_HOOK_DELAY] = "hook_delay",
    [CONFIG_ACCOUNT_KEY_HOOK_MAX_DELAY] = "hook_max_delay",
    [CONFIG_ACCOUNT_KEY_HOOK_TIMEOUT] = "hook_timeout",
    [CONFIG_ACCOUNT_KEY_ENABLED] = "enabled",
    NULL,
};

const char *const config_rule_keys[] = {
    [CONFIG_RULE_KEY_ACCOUNT] = "account",
    [CONFIG_RULE_KEY_FOLDER] = "folder",
    [CONFIG_RULE_KEY_FROM] = "from",
    [CONFIG_RULE_KEY_NOTIFY] = "notify",
    [CONFIG_RULE_KEY_URGENCY] = "urgency",
    [CONFIG_RULE_KEY_SOUND] = "sound",
    [CONFIG_RULE_KEY_CONTENT] = "content",
    [CONFIG_RULE_KEY_ON_NEW] = "on_new",
    [CONFIG_RULE_KEY_ON_CHANGED] = "on_changed",
    [CONFIG_RULE_KEY_ON_REMOVED] = "on_removed",
    NULL,
};

int config_key_index(const char *const *keys, const char *key)
{
	for (int i = 0; keys[i]; i++) {
		if (strcmp(keys[i], key) == 0) {
			return i;
		}
	}
	return -1;
}

enum config_syntax config_key_syntax(const char *group, const char *key)
{
	static const char *const account_lists[] = {"folders", "notify_folders", "password_secret",
	                                            NULL};
	static const char *const commands[] = {
	    "password_command", "open_command", "on_new", "on_changed",
	    "on_removed",       "on_state",     NULL};
	bool account =
	    group != NULL && (strcmp(group, "account") == 0 || g_str_has_prefix(group, "account "));
	bool rule =
	    group != NULL && (strcmp(group, "rule") == 0 || g_str_has_prefix(group, "rule "));

	if (account && config_key_index(account_lists, key) >= 0) {
		return CONFIG_SYNTAX_LIST;
	}
	/* A rule's on_state is an error of its own; read it as a command. */
	if ((account || rule) && config_key_index(commands, key) >= 0) {
		return CONFIG_SYNTAX_COMMAND;
	}
	return CONFIG_SYNTAX_SCALAR;
}

/* Optimal string alignment distance (Levenshtein plus transpositions),
 * ASCII case-insensitive: "hots" and "Host" are both one step from "host". */
static guint edit_distance(const char *a, const char *b)
{
	gsize la = strlen(a);
	gsize lb = strlen(b);
	g_autofree guint *d = NULL;

	if (la > 64 || lb > 64) {
		return G_MAXUINT;
	}
	d = g_new(guint, (la + 1) * (lb + 1));
#define D(i, j) d[(i) * (lb + 1) + (j)]
	for (gsize i = 0; i <= la; i++) {
		D(i, 0) = (guint)i;
	}
	for (gsize j = 0; j <= lb; j++) {
		D(0, j) = (guint)j;
	}
	for (gsize i = 1; i <= la; i++) {
		for (gsize j = 1; j <= lb; j++) {
			guint cost = g_ascii_tolower(a[i - 1]) != g_ascii_tolower(b[j - 1]);
			guint best = MIN(D(i - 1, j) + 1, D(i, j - 1) + 1);

			best = MIN(best, D(i - 1, j - 1) + cost);
			if (i > 1 && j > 1 &&
			    g_ascii_tolower(a[i - 1]) == g_ascii_tolower(b[j - 2]) &&
			    g_ascii_tolower(a[i - 2]) == g_ascii_tolower(b[j - 1])) {
				best = MIN(best, D(i - 2, j - 2) + 1);
			}
			D(i, j) = best;
		}
	}
	return D(la, lb);
#undef D
}

/* The known name closest to typed, or NULL when none is close: within a
 * third of the name's length, or typed (3+ characters) is how the name
 * starts or ends ("user" → "username", "ca_file" → "tls_ca_file"). */
static const char *nearest_name(const char *const *names, const char *typed)
{
	const char *best = NULL;
	guint best_d = G_MAXUINT;
	gsize lt = strlen(typed);

	for (guint i = 0; names[i]; i++) {
		gsize ln = strlen(names[i]);
		guint d = edit_distance(typed, names[i]);
		bool close = d <= MAX(1, ln / 3);

		if (!close && lt >= 3 && lt < ln) {
			close = g_ascii_strncasecmp(names[i], typed, lt) == 0 ||
			        g_ascii_strcasecmp(names[i] + ln - lt, typed) == 0;
		}
		if (close && d < best_d) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}

bool config_unknown_key_fail(struct config_parse *p, const char *group,
                             const struct config_ini_entry *entry, enum config_group_kind kind)
{
	static const struct {
		const char *const *keys;
		const char *where;
	} kinds[] = {
	    [CONFIG_GROUP_DAEMON] = {config_daemon_keys, "[daemon]"},
	    [CONFIG_GROUP_ACCOUNT] = {config_account_keys, "an [account NAME] group"},
	    [CONFIG_GROUP_RULE] = {config_rule_keys, "a [rule NAME] group"},
	};
	const char *const *keys = kinds[kind].keys;
	const char *near;
	g_autofree char *list = NULL;

	near = nearest_name(keys, entry->key);
	/* "folder" in an account is a slip for "folders", not a rule's key. */
	if (near != NULL && edit_distance(near, entry->key) <= 1) {
		return config_fail(p, entry->line, group, entry->key,
		                   "unknown key; did you mean '%s'?", near);
	}
	for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (i != kind && config_key_index(kinds[i].keys, entry->key) >= 0) {
			return config_fail(p, entry->line, group, entry->key,
			                   "this key belongs in %s", kinds[i].where);
		}
	}
	if (near) {
		return config_fail(p, entry->line, group, entry->key,
		                   "unknown key; did you mean '%s'?", near);
	}
	list = g_strjoinv(", ", (char **)keys);
	return config_fail(p, entry->line, group, entry->key, "unknown key; the keys here are %s",
	                   list);
}

bool config_unknown_group_fail(struct config_parse *p, const struct config_ini_group *group)
{
	static const char *const account_word[] = {"account", "rule", NULL};
	static const char *const daemon_word[] = {"daemon", NULL};
	const char *space = strchr(group->name, ' ');
	g_autofree char *first =
	    g_strndup(group->name, space ? (gsize)(space - group->name) : strlen(group->name));

	const char *near = space ? nearest_name(account_word, first) : NULL;

	if (near != NULL) {
		return config_fail(p, group->line, NULL, NULL,
		                   "unknown group [%s]; did you mean '[%s%s]'?", group->name, near,
		                   space);
	}
	if (!space && nearest_name(daemon_word, group->name)) {
		return config_fail(p, group->line, NULL, NULL,
		                   "unknown group [%s]; did you mean '[daemon]'?", group->name);
	}
	return config_fail(p, group->line, NULL, NULL,
	                   "unknown group [%s]; the groups are [daemon], [account NAME] and "
	                   "[rule NAME]",
	                   group->name);
}

const char *config_security_name(enum config_security security)
{
	if ((unsigned)security >= G_N_ELEMENTS(config_security_names) - 1) {
		return "unknown";
	}
	return config_security_names[security];
}

const char *config_auth_name(enum config_auth auth)
{
	if ((unsigned)auth >= G_N_ELEMENTS(config_auth_names) - 1) {
		return "unknown";
	}
	return config_auth_names[auth];
}

const char *config_startup_name(enum config_startup startup)
{
	if ((unsigned)startup >= G_N_ELEMENTS(config_startup_names) - 1) {
		return "unknown";
	}
	return config_startup_names[startup];
}

const char *config_content_name(enum config_content content)
{
	if ((unsigned)content >= G_N_ELEMENTS(config_content_names) - 1) {
		return "unknown";
	}
	return config_content_names[content];
}

const char *config_urgency_name(enum config_urgency urgency)
{
	if ((unsigned)urgency >= G_N_ELEMENTS(config_urgency_names) - 1) {
		return "unknown";
	}
	return config_urgency_names[urgency];
}

const char *config_hook_name(enum config_hook hook)
{
	if ((unsigned)hook >= CONFIG_HOOK_N) {
		return "unknown";
	}
	return config_hook_names[hook];
}
