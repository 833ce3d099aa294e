/* SPDX-License-Identifier: MIT */
/*
 * Reading happens in two steps: config_ini_read() (config-ini.c) turns the
 * text into groups of entries (syntax errors, quotes, comments, repeated
 * groups and keys are caught there), then config_build() checks every
 * value in file order (config-value.c) and resolves defaults. Both go on
 * past a problem, so that one run reports all of them: a bad line or value
 * is left out, and the checks of a whole group skip what depends on a key
 * whose value was bad. Nothing is logged from here.
 */
#include "core/config-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A config file is a few hundred bytes; the limit only stops a mistaken
 * --config /dev/zero or a multi-gigabyte file from being read. */
#define CONFIG_MAX_SIZE (1024 * 1024)

#define DEFAULT_IDLE_REFRESH    (9 * 60)
#define DEFAULT_POLL_INTERVAL   (2 * 60)
#define MIN_IDLE_REFRESH        60
#define MIN_POLL_INTERVAL       30
#define MAX_POLL_INTERVAL       (60 * 60)
#define DEFAULT_MAX_CONNECTIONS 3
/* Gmail allows 15 connections for all of a user's clients together. */
#define MAX_MAX_CONNECTIONS      15
#define MAX_IDLE_REFRESH         (29 * 60)
#define DEFAULT_PASSWORD_TIMEOUT 30
#define MIN_PASSWORD_TIMEOUT     1
/* Long enough for a graphical pinentry that waits for the user. */
#define MAX_PASSWORD_TIMEOUT (10 * 60)
#define DEFAULT_NOTIFY_MAX   3
/* More popups than this at once are a flood, whatever the user asked. */
#define MAX_NOTIFY_MAX 20

G_DEFINE_QUARK(imapwatch - config - error - quark, config_error)

/* ---- building the config ---- */

static void account_free(struct config_account *account)
{
	if (!account) {
		return;
	}
	g_free(account->name);
	g_free(account->host);
	g_free(account->username);
	secret_free(account->password);
	/* A command line can carry a secret too ("echo hunter2"). */
	secret_free(account->password_command);
	g_strfreev(account->password_secret);
	g_free(account->goa_account);
	g_strfreev(account->folders);
	g_free(account->tls_ca_file);
	g_strfreev(account->notify_folders);
	g_free(account->open_command);
	for (guint i = 0; i < CONFIG_HOOK_N; i++) {
		g_free(account->hooks[i]);
	}
	g_free(account);
}

typedef struct config_account config_account;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(config_account, account_free)

static void daemon_build(struct config_parse *p, struct config *cfg,
                         const struct config_ini_group *group)
{
	for (guint i = 0; i < group->entries->len; i++) {
		const struct config_ini_entry *e = group->entries->pdata[i];
		int key = config_key_index(config_daemon_keys, e->key);
		guint choice = 0;

		if (e->bad && key >= 0) {
			continue; /* the reader has reported it */
		}
		/* A bad value is reported; the next key is checked all the
		 * same. */
		switch (key) {
		case CONFIG_DAEMON_KEY_NOTIFICATIONS:
			config_value_bool(p, group->name, e, &cfg->notifications);
			break;
		case CONFIG_DAEMON_KEY_STARTUP:
			config_value_choice(p, group->name, e, config_startup_names, &choice);
			cfg->startup = (enum config_startup)choice;
			break;
		case CONFIG_DAEMON_KEY_IDLE_REFRESH:
			config_value_duration(p, group->name, e, MIN_IDLE_REFRESH, MAX_IDLE_REFRESH,
			                      &cfg->idle_refresh);
			break;
		case CONFIG_DAEMON_KEY_PASSWORD_TIMEOUT:
			config_value_duration(p, group->name, e, MIN_PASSWORD_TIMEOUT,
			                      MAX_PASSWORD_TIMEOUT, &cfg->password_timeout);
			break;
		case CONFIG_DAEMON_KEY_NOTIFY_MAX:
			config_value_count(p, group->name, e, 1, MAX_NOTIFY_MAX, &cfg->notify_max);
			break;
		case CONFIG_DAEMON_KEY_NOTIFICATION_SOUND:
			config_value_bool(p, group->name, e, &cfg->notification_sound);
			break;
		case CONFIG_DAEMON_KEY_NOTIFICATION_CONTENT:
			config_value_choice(p, group->name, e, config_content_names, &choice);
			cfg->notification_content = (enum config_content)choice;
			break;
		case CONFIG_DAEMON_KEY_POLL_INTERVAL:
			config_value_duration(p, group->name, e, MIN_POLL_INTERVAL,
			                      MAX_POLL_INTERVAL, &cfg->poll_interval);
			break;
		case CONFIG_DAEMON_KEY_MAILNAG_COMPAT:
			config_value_bool(p, group->name, e, &cfg->mailnag_compat);
			break;
		case CONFIG_DAEMON_KEY_QUIET_HOURS:
			config_value_quiet_hours(p, group->name, e, cfg);
			break;
		case CONFIG_DAEMON_KEY_HOOK_DELAY:
		case CONFIG_DAEMON_KEY_HOOK_MAX_DELAY:
		case CONFIG_DAEMON_KEY_HOOK_TIMEOUT:
			config_value_hook_timing(p, group->name, e, &cfg->hook_timing);
			break;
		default:
			config_unknown_key_fail(p, group->name, e, CONFIG_GROUP_DAEMON);
			break;
		}
	}
}

/* The keys of an account whose values were bad, by enum
 * config_account_key: the checks of the whole group leave them out. */
#define KEY_BIT(key) (G_GUINT64_CONSTANT(1) << (key))

static void account_finish_folders(struct config_parse *p, struct config_account *a,
                                   const struct config_ini_group *g, guint64 failed);

/* Checks that need the whole group: required keys, password vs. command,
 * plaintext, the default port. A key that is there with a bad value
 * counts as there: its own error says what is wrong with it. */
static void account_finish(struct config_parse *p, struct config_account *a,
                           const struct config_ini_group *g, bool port_set, guint64 failed)
{
	const struct config_ini_entry *security = config_ini_find_entry(g, "security");
	const struct config_ini_entry *sources[] = {
	    config_ini_find_entry(g, "password"),
	    config_ini_find_entry(g, "password_command"),
	    config_ini_find_entry(g, "password_secret"),
	};
	const struct config_ini_entry *first = NULL;

	if (config_ini_find_entry(g, "goa_account") != NULL) {
		/* GNOME Online Accounts knows the server and the login. */
		static const char *const from_goa[] = {
		    "host",     "port",     "security",         "allow_plaintext",
		    "username", "password", "password_command", "password_secret",
		};
		for (size_t i = 0; i < G_N_ELEMENTS(from_goa); i++) {
			const struct config_ini_entry *e = config_ini_find_entry(g, from_goa[i]);

			if (e != NULL) {
				config_fail(p, e->line, g->name, e->key,
				            "comes from GNOME Online Accounts with goa_account; "
				            "remove this line");
			}
		}
		g_free(a->username);
		a->username = g_strdup("");
		account_finish_folders(p, a, g, failed);
		return;
	}
	if (config_ini_find_entry(g, "host") == NULL) {
		config_fail(p, g->line, g->name, NULL,
		            "key 'host' is missing; add host = the IMAP server's name (or "
		            "goa_account = your address in GNOME Online Accounts)");
	}
	if (config_ini_find_entry(g, "username") == NULL) {
		config_fail(p, g->line, g->name, NULL,
		            "key 'username' is missing; add username = your login name");
	}
	for (size_t i = 0; i < G_N_ELEMENTS(sources); i++) {
		const struct config_ini_entry *e = sources[i];

		if (e == NULL) {
			continue;
		}
		if (first != NULL) {
			const struct config_ini_entry *later = e->line > first->line ? e : first;
			const struct config_ini_entry *earlier = later == e ? first : e;

			config_fail(p, later->line, g->name, later->key,
			            "%s is already set on line %u; keep only one of password, "
			            "password_command and password_secret",
			            earlier->key, earlier->line);
			break;
		}
		first = e;
	}
	if (first == NULL) {
		config_fail(p, g->line, g->name, NULL,
		            "none of password, password_command and password_secret is "
		            "set; add one of them (password_command or password_secret "
		            "keeps the password out of this file)");
	}
	if (a->security == CONFIG_SECURITY_NONE && !a->allow_plaintext &&
	    (failed & KEY_BIT(CONFIG_ACCOUNT_KEY_ALLOW_PLAINTEXT)) == 0) {
		config_fail(p, security->line, g->name, security->key,
		            "security = none is refused unless allow_plaintext = true is also set "
		            "in this group (the password and mail would travel unencrypted)");
	}
	const struct config_ini_entry *pin = config_ini_find_entry(g, "tls_fingerprint");
	if (a->security == CONFIG_SECURITY_NONE && pin != NULL &&
	    (failed & KEY_BIT(CONFIG_ACCOUNT_KEY_SECURITY)) == 0) {
		config_fail(p, pin->line, g->name, pin->key,
		            "pins the server's TLS certificate, but security = none uses no TLS "
		            "at all; remove this line, or set security = tls (or starttls)");
	}
	if (!port_set) {
		a->port = a->security == CONFIG_SECURITY_TLS ? 993 : 143;
	}
	account_finish_folders(p, a, g, failed);
}

/* Checks of folders and notify_folders, with the INBOX default. */
static void account_finish_folders(struct config_parse *p, struct config_account *a,
                                   const struct config_ini_group *g, guint64 failed)
{
	if (!a->folders) {
		a->folders = g_new0(char *, 2);
		a->folders[0] = g_strdup("INBOX");
	}
	if ((failed & KEY_BIT(CONFIG_ACCOUNT_KEY_FOLDERS)) != 0) {
		return; /* notify_folders cannot be checked against them */
	}
	for (guint i = 0; a->notify_folders && a->notify_folders[i]; i++) {
		const struct config_ini_entry *e = config_ini_find_entry(g, "notify_folders");
		bool watched = config_folder_is_pattern(a->notify_folders[i]);

		/* A name must be one that folders names or matches; a pattern
		 * picks among the folders the server lists. */
		for (guint k = 0; a->folders[k] && !watched; k++) {
			watched = config_folder_matches(a->folders[k], a->notify_folders[i]);
		}
		if (!watched) {
			config_fail(p, e->line, g->name, e->key,
			            "folder '%s' is not watched; add it to folders first",
			            a->notify_folders[i]);
			return;
		}
	}
}

/* One key of an account; false after config_fail(). */
static bool account_value(struct config_parse *p, struct config_account *a,
                          const struct config_ini_group *g, const struct config_ini_entry *e,
                          int key)
{
	guint choice = 0;
	bool ok = true;

	switch (key) {
	case CONFIG_ACCOUNT_KEY_HOST:
		ok = config_value_string(p, g->name, e, &a->host);
		if (ok && (strstr(a->host, "://") || strpbrk(a->host, " \t/"))) {
			ok = config_fail(p, e->line, g->name, e->key,
			                 "'%s' is not a host name; write only the name, like "
			                 "imap.example.com, and the port under 'port'",
			                 a->host);
		}
		return ok;
	case CONFIG_ACCOUNT_KEY_PORT:
		return config_value_port(p, g->name, e, &a->port);
	case CONFIG_ACCOUNT_KEY_SECURITY:
		ok = config_value_choice(p, g->name, e, config_security_names, &choice);
		a->security = (enum config_security)choice;
		return ok;
	case CONFIG_ACCOUNT_KEY_ALLOW_PLAINTEXT:
		return config_value_bool(p, g->name, e, &a->allow_plaintext);
	case CONFIG_ACCOUNT_KEY_USERNAME:
		return config_value_string(p, g->name, e, &a->username);
	case CONFIG_ACCOUNT_KEY_PASSWORD:
		return config_value_string(p, g->name, e, &a->password);
	case CONFIG_ACCOUNT_KEY_PASSWORD_COMMAND:
		return config_value_string(p, g->name, e, &a->password_command);
	case CONFIG_ACCOUNT_KEY_GOA_ACCOUNT:
		return config_value_string(p, g->name, e, &a->goa_account);
	case CONFIG_ACCOUNT_KEY_PASSWORD_SECRET:
		return config_value_secret_attributes(p, g->name, e, &a->password_secret);
	case CONFIG_ACCOUNT_KEY_AUTH:
		ok = config_value_choice(p, g->name, e, config_auth_names, &choice);
		a->auth = (enum config_auth)choice;
		return ok;
	case CONFIG_ACCOUNT_KEY_FOLDERS:
		return config_value_folders(p, g->name, e, "remove the line to watch INBOX",
		                            &a->folders);
	case CONFIG_ACCOUNT_KEY_TLS_CA_FILE:
		return config_value_file(p, g->name, e, "the CA certificate file (PEM)",
		                         &a->tls_ca_file);
	case CONFIG_ACCOUNT_KEY_TLS_FINGERPRINT:
		a->has_tls_fingerprint =
		    config_value_fingerprint(p, g->name, e, a->tls_fingerprint);
		return a->has_tls_fingerprint;
	case CONFIG_ACCOUNT_KEY_IDLE_REFRESH:
		return config_value_duration(p, g->name, e, MIN_IDLE_REFRESH, MAX_IDLE_REFRESH,
		                             &a->idle_refresh);
	case CONFIG_ACCOUNT_KEY_POLL_INTERVAL:
		return config_value_duration(p, g->name, e, MIN_POLL_INTERVAL, MAX_POLL_INTERVAL,
		                             &a->poll_interval);
	case CONFIG_ACCOUNT_KEY_MAX_CONNECTIONS:
		return config_value_count(p, g->name, e, 1, MAX_MAX_CONNECTIONS,
		                          &a->max_connections);
	case CONFIG_ACCOUNT_KEY_NOTIFY:
		return config_value_bool(p, g->name, e, &a->notify);
	case CONFIG_ACCOUNT_KEY_NOTIFY_FOLDERS:
		return config_value_folders(p, g->name, e,
		                            "write notify = false to have no notifications from "
		                            "this account",
		                            &a->notify_folders);
	case CONFIG_ACCOUNT_KEY_OPEN_COMMAND:
		return config_value_open_command(p, g->name, e, &a->open_command);
	case CONFIG_ACCOUNT_KEY_ON_NEW:
	case CONFIG_ACCOUNT_KEY_ON_CHANGED:
	case CONFIG_ACCOUNT_KEY_ON_REMOVED:
	case CONFIG_ACCOUNT_KEY_ON_STATE:
		return config_value_hook(p, g->name, e,
		                         &a->hooks[config_key_index(config_hook_names, e->key)]);
	case CONFIG_ACCOUNT_KEY_HOOK_DELAY:
	case CONFIG_ACCOUNT_KEY_HOOK_MAX_DELAY:
	case CONFIG_ACCOUNT_KEY_HOOK_TIMEOUT:
		return config_value_hook_timing(p, g->name, e, &a->hook_timing);
	case CONFIG_ACCOUNT_KEY_ENABLED: {
		bool enabled = true;

		ok = config_value_bool(p, g->name, e, &enabled);
		a->disabled = !enabled;
		return ok;
	}
	default:
		return config_unknown_key_fail(p, g->name, e, CONFIG_GROUP_ACCOUNT);
	}
}

/* [account NAME] into a new account; with problems reported, one that is
 * of no use but for the checks that follow. */
static struct config_account *account_build(struct config_parse *p,
                                            const struct config_ini_group *g, const char *name)
{
	g_autoptr(config_account) a = g_new0(struct config_account, 1);
	guint64 failed = 0;

	if (*name == '\0') {
		config_fail(p, g->line, NULL, NULL,
		            "the account has no name; write [account NAME], e.g. [account work]");
	} else if (strchr(name, '/')) {
		config_fail(p, g->line, g->name, NULL,
		            "the account name must not contain '/' (it is part of message ids "
		            "like NAME/INBOX/…)");
	}
	a->name = g_strdup(name);
	a->notify = true;
	a->max_connections = DEFAULT_MAX_CONNECTIONS;
	/* Unset (0 may be a delay): filled in from [daemon] at the end. */
	a->hook_timing.delay = G_MAXUINT;
	for (guint i = 0; i < g->entries->len; i++) {
		const struct config_ini_entry *e = g->entries->pdata[i];
		int key = config_key_index(config_account_keys, e->key);

		if (e->bad && key >= 0) {
			failed |= KEY_BIT(key); /* the reader has reported it */
			continue;
		}
		if (!account_value(p, a, g, e, key) && key >= 0) {
			failed |= KEY_BIT(key);
		}
	}
	account_finish(p, a, g, config_ini_find_entry(g, "port") != NULL, failed);
	return g_steal_pointer(&a);
}

/* Every group in file order; problems are reported, and the config is
 * complete whether there were any or not. */
static struct config *config_build(struct config_parse *p, GPtrArray *groups)
{
	g_autoptr(config) cfg = g_new0(struct config, 1);

	cfg->path = g_strdup(p->path);
	cfg->notifications = true;
	cfg->startup = CONFIG_STARTUP_SUMMARY;
	cfg->idle_refresh = DEFAULT_IDLE_REFRESH;
	cfg->poll_interval = DEFAULT_POLL_INTERVAL;
	cfg->password_timeout = DEFAULT_PASSWORD_TIMEOUT;
	cfg->notify_max = DEFAULT_NOTIFY_MAX;
	cfg->notification_sound = true;
	cfg->notification_content = CONFIG_CONTENT_FULL;
	cfg->accounts = g_ptr_array_new_with_free_func((GDestroyNotify)account_free);
	cfg->rules = g_ptr_array_new_with_free_func((GDestroyNotify)config_rule_free);
	config_hook_timing_defaults(&cfg->hook_timing);

	for (guint i = 0; i < groups->len; i++) {
		const struct config_ini_group *g = groups->pdata[i];
		const char *name;

		if (strcmp(g->name, "daemon") == 0) {
			daemon_build(p, cfg, g);
			continue;
		}
		if (strcmp(g->name, "rule") == 0 || g_str_has_prefix(g->name, "rule ")) {
			g_ptr_array_add(cfg->rules,
			                config_rule_build(p, g, g->name + strlen("rule")));
			continue;
		}
		if (strcmp(g->name, "account") != 0 && !g_str_has_prefix(g->name, "account ")) {
			config_unknown_group_fail(p, g);
			p->group_lost = true;
			continue;
		}
		name = g->name + strlen("account");
		while (*name == ' ') {
			name++;
		}
		g_ptr_array_add(cfg->accounts, account_build(p, g, name));
	}
	/* A group lost to a mistake may have been the account. */
	if (cfg->accounts->len == 0 && !p->group_lost) {
		config_fail(p, 0, NULL, NULL,
		            "no [account NAME] group; add one for each mail account to watch");
	}
	/* An account without its own idle_refresh or poll_interval follows
	 * [daemon], wherever that group is in the file. */
	for (guint i = 0; i < cfg->accounts->len; i++) {
		struct config_account *a = cfg->accounts->pdata[i];

		if (a->idle_refresh == 0) {
			a->idle_refresh = cfg->idle_refresh;
		}
		if (a->poll_interval == 0) {
			a->poll_interval = cfg->poll_interval;
		}
		/* Each timing key of the account, or [daemon]'s. */
		if (a->hook_timing.delay == G_MAXUINT) {
			a->hook_timing.delay = cfg->hook_timing.delay;
		}
		if (a->hook_timing.max_delay == 0) {
			a->hook_timing.max_delay = cfg->hook_timing.max_delay;
		}
		if (a->hook_timing.timeout == 0) {
			a->hook_timing.timeout = cfg->hook_timing.timeout;
		}
	}
	return g_steal_pointer(&cfg);
}

struct config *config_load_data(const char *data, gsize len, const char *path, GError **error)
{
	struct config_parse p = {.path = path ? path : "(config)"};
	g_autoptr(GPtrArray) groups = NULL;
	g_autoptr(config) cfg = NULL;

	g_return_val_if_fail(data || len == 0, NULL);
	if (len > CONFIG_MAX_SIZE) {
		config_fail(&p, 0, NULL, NULL,
		            "the file is larger than %u bytes; is it the right file?",
		            CONFIG_MAX_SIZE);
	} else {
		groups = config_ini_read(&p, data ? data : "", len);
		cfg = config_build(&p, groups);
	}
	if (!config_parse_finish(&p, error)) {
		return NULL;
	}
	return g_steal_pointer(&cfg);
}

/* What a file that is not a regular file is, for the message. */
static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode)) {
		return "a directory";
	}
	if (S_ISFIFO(mode)) {
		return "a FIFO (named pipe)";
	}
	if (S_ISSOCK(mode)) {
		return "a socket";
	}
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		return "a device";
	}
	return "not a regular file";
}

struct config *config_load_file(const char *path, GError **error)
{
	g_autofree char *data = NULL;
	struct config *cfg;
	gsize len = 0;
	struct stat st;
	int fd;

	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	 * writer, for ever; a regular file reads the same either way. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT) {
			g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
			            "%s: cannot open: %s; to start one, copy the example "
			            "%s/config.example to this path and edit it (man 5 "
			            "imapwatch.conf)",
			            path, g_strerror(err), IMAPWATCH_DOCDIR);
			return NULL;
		}
		g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO, "%s: cannot open: %s", path,
		            g_strerror(err));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		int err = errno;

		g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO, "%s: cannot read: %s", path,
		            g_strerror(err));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
		            "%s: is %s; give the config file itself (a regular file)", path,
		            file_kind(st.st_mode));
		close(fd);
		return NULL;
	}
	if (st.st_size > CONFIG_MAX_SIZE) {
		g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
		            "%s: is larger than %u bytes; is it the right file?", path,
		            CONFIG_MAX_SIZE);
		close(fd);
		return NULL;
	}
	/* One byte more than the limit tells a file that grew meanwhile. */
	data = g_malloc(CONFIG_MAX_SIZE + 1);
	while (len <= CONFIG_MAX_SIZE) {
		ssize_t n = read(fd, data + len, CONFIG_MAX_SIZE + 1 - len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int err = errno;

			g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO, "%s: cannot read: %s",
			            path, g_strerror(err));
			close(fd);
			explicit_bzero(data, len);
			return NULL;
		}
		if (n == 0) {
			break;
		}
		len += (gsize)n;
	}
	close(fd);
	cfg = config_load_data(data, len, path, error);
	if (cfg != NULL) {
		cfg->file_mode = st.st_mode & 07777;
	}
	/* The text holds any password written in the file. */
	explicit_bzero(data, MIN(len, (gsize)CONFIG_MAX_SIZE + 1));
	return cfg;
}

void config_free(struct config *cfg)
{
	if (!cfg) {
		return;
	}
	g_free(cfg->path);
	if (cfg->accounts) {
		g_ptr_array_unref(cfg->accounts);
	}
	if (cfg->rules) {
		g_ptr_array_unref(cfg->rules);
	}
	g_free(cfg);
}

char *config_default_path(void)
{
	return g_build_filename(g_get_user_config_dir(), "imapwatch", "config", NULL);
}

const struct config_account *config_find_account(const struct config *cfg, const char *name)
{
	for (guint i = 0; i < cfg->accounts->len; i++) {
		const struct config_account *a = cfg->accounts->pdata[i];

		if (strcmp(a->name, name) == 0) {
			return a;
		}
	}
	return NULL;
}

bool config_account_notifies(const struct config_account *account, const char *folder)
{
	if (!account->notify) {
		return false;
	}
	for (guint i = 0; account->notify_folders && account->notify_folders[i]; i++) {
		if (config_folder_matches(account->notify_folders[i], folder)) {
			return true;
		}
	}
	return account->notify_folders == NULL;
}

bool config_folder_is_pattern(const char *entry)
{
	return strpbrk(entry, "*%") != NULL;
}

/* One row of the table "pattern prefix matches name prefix" per pattern
 * character: time |p| * |s|, whatever the pattern. */
static bool pattern_matches(const char *p, const char *s)
{
	size_t n = strlen(s);
	g_autofree bool *row = g_new0(bool, n + 1);

	row[0] = true;
	for (; *p != '\0'; p++) {
		if (*p == '*' || *p == '%') {
			/* The wildcard swallows s[j - 1] if it may. */
			for (size_t j = 1; j <= n; j++) {
				row[j] = row[j] || (row[j - 1] && (*p == '*' || s[j - 1] != '/'));
			}
			continue;
		}
		for (size_t j = n; j > 0; j--) {
			row[j] = row[j - 1] && s[j - 1] == *p;
		}
		row[0] = false;
	}
	return row[n];
}

bool config_folder_matches(const char *entry, const char *folder)
{
	if (g_ascii_strcasecmp(entry, "INBOX") == 0 && g_ascii_strcasecmp(folder, "INBOX") == 0) {
		return true;
	}
	return pattern_matches(entry, folder);
}

bool config_password_readable(const struct config *cfg)
{
	if ((cfg->file_mode & 0077) == 0) {
		return false;
	}
	for (guint i = 0; i < cfg->accounts->len; i++) {
		const struct config_account *a = cfg->accounts->pdata[i];

		if (a->password != NULL) {
			return true;
		}
	}
	return false;
}

static bool config_strv_equal(char *const *a, char *const *b)
{
	if (a == NULL || b == NULL) {
		return a == b;
	}
	return g_strv_equal((const char *const *)a, (const char *const *)b);
}

bool config_account_equal(const struct config_account *a, const struct config_account *b)
{
	if (g_strcmp0(a->name, b->name) != 0 || a->disabled != b->disabled ||
	    g_strcmp0(a->host, b->host) != 0 || a->port != b->port || a->security != b->security ||
	    a->allow_plaintext != b->allow_plaintext || g_strcmp0(a->username, b->username) != 0 ||
	    g_strcmp0(a->password, b->password) != 0 ||
	    g_strcmp0(a->password_command, b->password_command) != 0 ||
	    !config_strv_equal(a->password_secret, b->password_secret) ||
	    g_strcmp0(a->goa_account, b->goa_account) != 0 || a->auth != b->auth ||
	    g_strcmp0(a->tls_ca_file, b->tls_ca_file) != 0 || a->idle_refresh != b->idle_refresh ||
	    a->poll_interval != b->poll_interval || a->max_connections != b->max_connections ||
	    a->has_tls_fingerprint != b->has_tls_fingerprint ||
	    memcmp(a->tls_fingerprint, b->tls_fingerprint, CONFIG_FINGERPRINT_LEN) != 0) {
		return false;
	}
	return g_strv_equal((const char *const *)a->folders, (const char *const *)b->folders);
}
