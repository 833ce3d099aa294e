/* SPDX-License-Identifier: MIT */
/*
 * The config file is read by a small line-oriented reader instead of
 * GKeyFile, because GKeyFile forgets line numbers, silently merges repeated
 * groups and lets a repeated key win. The syntax accepted is GKeyFile's:
 * "[group]" lines, "key = value" lines, '#' comments, blank lines, values
 * trimmed, the escapes \s \n \t \r \\ in values and \; inside lists, ';' as
 * the list separator with one optional trailing ';'.
 *
 * Reading happens in two steps: ini_read() turns the text into groups of raw
 * entries (syntax errors, repeated groups and keys are caught here), then
 * config_build() checks every value in file order and resolves defaults.
 * The first problem found is reported; nothing is logged from here.
 */
#include "imapwatch/config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* A config file is a few hundred bytes; the limit only stops a mistaken
 * --config /dev/zero or a multi-gigabyte file from being read. */
#define CONFIG_MAX_SIZE (1024 * 1024)

#define DEFAULT_IDLE_REFRESH     (9 * 60)
#define MIN_IDLE_REFRESH         60
#define MAX_IDLE_REFRESH         (29 * 60)
#define DEFAULT_PASSWORD_TIMEOUT 30
#define MIN_PASSWORD_TIMEOUT     1
/* Long enough for a graphical pinentry that waits for the user. */
#define MAX_PASSWORD_TIMEOUT (10 * 60)
#define DEFAULT_NOTIFY_MAX   3
/* More popups than this at once are a flood, whatever the user asked. */
#define MAX_NOTIFY_MAX 20

G_DEFINE_QUARK(imapwatch - config - error - quark, config_error)

/* Secrets must not survive in freed memory; explicit_bzero() is used because
 * a plain memset() right before free() may be removed by the compiler. */
static void secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		g_free(s);
	}
}

/* ---- the line-oriented reader ---- */

struct ini_entry {
	char *key;
	char *value;  /* trimmed, escapes not yet resolved */
	guint line;   /* 1-based */
	guint column; /* 1-based column of the value's first byte */
};

struct ini_group {
	char *name;
	guint line;
	GPtrArray *entries; /* struct ini_entry *, in file order */
};

static void ini_entry_free(struct ini_entry *entry)
{
	g_free(entry->key);
	/* Any value may be a password. */
	secret_free(entry->value);
	g_free(entry);
}

static void ini_group_free(struct ini_group *group)
{
	g_free(group->name);
	g_ptr_array_unref(group->entries);
	g_free(group);
}

/* State shared by the reader and the checks: where messages point to. */
struct parse {
	const char *path;
	GError **error;
};

/* Sets the error "PATH:LINE: [GROUP] key 'KEY': MESSAGE"; parts that are
 * 0 / NULL are left out. Always returns false so callers can "return fail()". */
static bool fail(struct parse *p, guint line, const char *group, const char *key, const char *fmt,
                 ...) G_GNUC_PRINTF(5, 6);

static bool fail(struct parse *p, guint line, const char *group, const char *key, const char *fmt,
                 ...)
{
	va_list ap;
	g_autofree char *msg = NULL;
	g_autoptr(GString) where = g_string_new(p->path);

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);

	if (line > 0) {
		g_string_append_printf(where, ":%u", line);
	}
	g_string_append(where, ":");
	if (group) {
		g_string_append_printf(where, " [%s]", group);
		if (!key) {
			g_string_append(where, ":");
		}
	}
	if (key) {
		g_string_append_printf(where, " key '%s':", key);
	}
	g_set_error(p->error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "%s %s", where->str, msg);
	return false;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Trims [*start, *end) in place. */
static void span_trim(const char **start, const char **end)
{
	while (*start < *end && is_blank(**start)) {
		(*start)++;
	}
	while (*end > *start && is_blank((*end)[-1])) {
		(*end)--;
	}
}

static struct ini_group *ini_find_group(GPtrArray *groups, const char *name)
{
	for (guint i = 0; i < groups->len; i++) {
		struct ini_group *group = groups->pdata[i];

		if (strcmp(group->name, name) == 0) {
			return group;
		}
	}
	return NULL;
}

static struct ini_entry *ini_find_entry(const struct ini_group *group, const char *key)
{
	for (guint i = 0; i < group->entries->len; i++) {
		struct ini_entry *entry = group->entries->pdata[i];

		if (strcmp(entry->key, key) == 0) {
			return entry;
		}
	}
	return NULL;
}

static bool ini_read_group(struct parse *p, GPtrArray *groups, const char *start, const char *end,
                           guint line)
{
	struct ini_group *other;
	struct ini_group *group;
	g_autofree char *name = NULL;

	if (end[-1] != ']' || end - start < 2) {
		return fail(p, line, NULL, NULL,
		            "a group header must be a whole line like [daemon] or "
		            "[account NAME], with nothing after the ']'");
	}
	name = g_strndup(start + 1, (gsize)(end - start - 2));
	g_strstrip(name);
	for (const char *c = name; *c; c++) {
		if (*c == '[' || *c == ']' || g_ascii_iscntrl(*c)) {
			return fail(p, line, NULL, NULL,
			            "group name contains '[', ']' or a control character");
		}
	}
	other = ini_find_group(groups, name);
	if (other) {
		return fail(p, line, name, NULL,
		            "this group appears twice (first on line %u); merge the two",
		            other->line);
	}
	group = g_new0(struct ini_group, 1);
	group->name = g_steal_pointer(&name);
	group->line = line;
	group->entries = g_ptr_array_new_with_free_func((GDestroyNotify)ini_entry_free);
	g_ptr_array_add(groups, group);
	return true;
}

static bool ini_read_entry(struct parse *p, struct ini_group *group, const char *line_start,
                           const char *start, const char *end, guint line)
{
	const char *eq = memchr(start, '=', (gsize)(end - start));
	const char *key_end;
	const char *value_start;
	struct ini_entry *other;
	struct ini_entry *entry;
	g_autofree char *key = NULL;

	if (!eq) {
		if (*start == ';') {
			return fail(p, line, NULL, NULL, "comments start with '#', not ';'");
		}
		return fail(p, line, NULL, NULL,
		            "this line is not a [group], a key = value pair or a # comment");
	}
	key_end = eq;
	value_start = eq + 1;
	span_trim(&start, &key_end);
	span_trim(&value_start, &end);
	if (start == key_end) {
		return fail(p, line, NULL, NULL, "there is no key name before '='");
	}
	key = g_strndup(start, (gsize)(key_end - start));
	if (!group) {
		return fail(p, line, NULL, key,
		            "appears before any group; put it under [daemon] or [account NAME]");
	}
	other = ini_find_entry(group, key);
	if (other) {
		return fail(p, line, group->name, key,
		            "set twice in this group (first on line %u); keep one", other->line);
	}
	entry = g_new0(struct ini_entry, 1);
	entry->key = g_steal_pointer(&key);
	entry->value = g_strndup(value_start, (gsize)(end - value_start));
	entry->line = line;
	entry->column = (guint)(value_start - line_start) + 1;
	g_ptr_array_add(group->entries, entry);
	return true;
}

/* Splits data into groups of raw entries. Returns NULL after fail(). */
static GPtrArray *ini_read(struct parse *p, const char *data, gsize len)
{
	g_autoptr(GPtrArray) groups =
	    g_ptr_array_new_with_free_func((GDestroyNotify)ini_group_free);
	struct ini_group *group = NULL;
	const char *pos = data;
	const char *data_end = data + len;
	guint line = 0;

	/* Editors on some systems write a byte-order mark; it is not content. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		pos += 3;
	}
	while (pos < data_end) {
		const char *nl = memchr(pos, '\n', (gsize)(data_end - pos));
		const char *line_start = pos;
		const char *end = nl ? nl : data_end;
		const char *start = pos;

		line++;
		pos = nl ? nl + 1 : data_end;
		if (memchr(start, '\0', (gsize)(end - start))) {
			fail(p, line, NULL, NULL,
			     "this line contains a NUL byte; is this a text file?");
			return NULL;
		}
		if (!g_utf8_validate(start, end - start, NULL)) {
			fail(p, line, NULL, NULL,
			     "this line is not valid UTF-8; save the file as UTF-8");
			return NULL;
		}
		span_trim(&start, &end);
		if (start == end || *start == '#') {
			continue;
		}
		if (*start == '[') {
			if (!ini_read_group(p, groups, start, end, line)) {
				return NULL;
			}
			group = groups->pdata[groups->len - 1];
			continue;
		}
		if (!ini_read_entry(p, group, line_start, start, end, line)) {
			return NULL;
		}
	}
	return g_steal_pointer(&groups);
}

/* ---- values ---- */

/* Resolves GKeyFile escapes in raw[0..len). \; is allowed only in list
 * items. Returns a new string, or NULL with *bad set to the offset of the
 * offending backslash. The result is allocated once at its final size so
 * that no partial copy of a secret is left behind by a realloc. */
static char *value_unescape(const char *raw, gsize len, bool list_item, gsize *bad)
{
	char *out = g_malloc(len + 1);
	char *q = out;

	for (gsize i = 0; i < len; i++) {
		if (raw[i] != '\\') {
			*q++ = raw[i];
			continue;
		}
		if (i + 1 == len) {
			*bad = i;
			explicit_bzero(out, len + 1);
			g_free(out);
			return NULL;
		}
		switch (raw[++i]) {
		case 's':
			*q++ = ' ';
			break;
		case 'n':
			*q++ = '\n';
			break;
		case 't':
			*q++ = '\t';
			break;
		case 'r':
			*q++ = '\r';
			break;
		case '\\':
			*q++ = '\\';
			break;
		case ';':
			if (list_item) {
				*q++ = ';';
				break;
			}
			/* fall through */
		default:
			*bad = i - 1;
			explicit_bzero(out, len + 1);
			g_free(out);
			return NULL;
		}
	}
	*q = '\0';
	return out;
}

static bool escape_fail(struct parse *p, const char *group, const struct ini_entry *entry,
                        gsize offset)
{
	/* The value itself is not quoted: it may be a password. */
	return fail(p, entry->line, group, entry->key,
	            "invalid escape sequence at column %u; the escapes are \\s \\n \\t \\r "
	            "and \\\\ (write \\\\ for a backslash)",
	            entry->column + (guint)offset);
}

static bool value_string(struct parse *p, const char *group, const struct ini_entry *entry,
                         char **out)
{
	gsize bad = 0;
	char *s;

	if (entry->value[0] == '\0') {
		return fail(p, entry->line, group, entry->key,
		            "has no value; give one or remove the line");
	}
	s = value_unescape(entry->value, strlen(entry->value), false, &bad);
	if (!s) {
		return escape_fail(p, group, entry, bad);
	}
	secret_free(*out);
	*out = s;
	return true;
}

static bool value_bool(struct parse *p, const char *group, const struct ini_entry *entry, bool *out)
{
	const char *v = entry->value;

	/* The spellings GKeyFile accepts. */
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
		*out = false;
		return true;
	}
	return fail(p, entry->line, group, entry->key, "'%s' is not a boolean; write true or false",
	            v);
}

/* names is NULL-terminated and indexed by the enum value. */
static bool value_choice(struct parse *p, const char *group, const struct ini_entry *entry,
                         const char *const *names, guint *out)
{
	g_autofree char *list = NULL;

	for (guint i = 0; names[i]; i++) {
		if (strcmp(entry->value, names[i]) == 0) {
			*out = i;
			return true;
		}
	}
	list = g_strjoinv(", ", (char **)names);
	return fail(p, entry->line, group, entry->key, "'%s' is not one of %s", entry->value, list);
}

static bool all_digits(const char *s)
{
	if (*s == '\0') {
		return false;
	}
	for (; *s; s++) {
		if (!g_ascii_isdigit(*s)) {
			return false;
		}
	}
	return true;
}

static bool value_duration(struct parse *p, const char *group, const struct ini_entry *entry,
                           guint min, guint max, guint *out)
{
	g_autofree char *min_s = config_format_duration(min);
	g_autofree char *max_s = config_format_duration(max);
	guint64 n = 0;
	guint seconds = 0;

	if (all_digits(entry->value)) {
		g_autofree char *hint = NULL;

		if (!g_ascii_string_to_unsigned(entry->value, 10, 0, G_MAXUINT, &n, NULL)) {
			n = max;
		}
		hint = config_format_duration((guint)n);
		return fail(p, entry->line, group, entry->key,
		            "'%s' has no unit; write %s, not %s (units: s, m, h)", entry->value,
		            hint, entry->value);
	}
	if (!config_parse_duration(entry->value, &seconds)) {
		return fail(p, entry->line, group, entry->key,
		            "'%s' is not a duration; write it like 30s, 9m, 1h or 1h30m",
		            entry->value);
	}
	if (seconds < min || seconds > max) {
		return fail(p, entry->line, group, entry->key,
		            "%s is out of range; use a value from %s to %s", entry->value, min_s,
		            max_s);
	}
	*out = seconds;
	return true;
}

static bool value_port(struct parse *p, const char *group, const struct ini_entry *entry,
                       uint16_t *out)
{
	guint64 n = 0;

	if (!all_digits(entry->value) ||
	    !g_ascii_string_to_unsigned(entry->value, 10, 1, 65535, &n, NULL)) {
		return fail(p, entry->line, group, entry->key,
		            "'%s' is not a port number from 1 to 65535", entry->value);
	}
	*out = (uint16_t)n;
	return true;
}

static bool value_count(struct parse *p, const char *group, const struct ini_entry *entry,
                        guint min, guint max, guint *out)
{
	guint64 n = 0;

	if (!all_digits(entry->value) ||
	    !g_ascii_string_to_unsigned(entry->value, 10, min, max, &n, NULL)) {
		return fail(p, entry->line, group, entry->key, "'%s' is not a number from %u to %u",
		            entry->value, min, max);
	}
	*out = (guint)n;
	return true;
}

/* The folders list: items split at unescaped ';', trimmed, "inbox" in any
 * case normalised to INBOX (RFC 3501 §5.1: INBOX is case-insensitive). */
static bool value_folders(struct parse *p, const char *group, const struct ini_entry *entry,
                          const char *empty_hint, char ***out)
{
	g_autoptr(GPtrArray) folders = g_ptr_array_new_with_free_func(g_free);
	const char *v = entry->value;
	const char *item = v;
	guint n = 0;

	for (const char *c = v;; c++) {
		const char *start = item;
		const char *end = c;
		gsize bad = 0;
		char *name;

		if (*c == '\\' && c[1] != '\0') {
			c++;
			continue;
		}
		if (*c != ';' && *c != '\0') {
			continue;
		}
		n++;
		item = c + 1;
		span_trim(&start, &end);
		/* One trailing ';' is how GKeyFile itself writes lists. */
		if (start == end && *c == '\0' && n > 1 && c > v && c[-1] == ';') {
			break;
		}
		if (start == end) {
			if (*c == '\0' && n == 1) {
				return fail(p, entry->line, group, entry->key,
				            "the list is empty; %s", empty_hint);
			}
			return fail(p, entry->line, group, entry->key,
			            "entry %u of the list is empty; remove the extra ';'", n);
		}
		name = value_unescape(start, (gsize)(end - start), true, &bad);
		if (!name) {
			return escape_fail(p, group, entry, (gsize)(start - v) + bad);
		}
		g_ptr_array_add(folders, name);
		for (const char *k = name; *k; k++) {
			if (g_ascii_iscntrl(*k)) {
				return fail(p, entry->line, group, entry->key,
				            "folder '%s' contains a control character", name);
			}
		}
		if (g_ascii_strcasecmp(name, "INBOX") == 0) {
			memcpy(name, "INBOX", 5);
		}
		for (guint i = 0; i + 1 < folders->len; i++) {
			if (strcmp(folders->pdata[i], name) == 0) {
				return fail(p, entry->line, group, entry->key,
				            "folder '%s' is listed twice", name);
			}
		}
		if (*c == '\0') {
			break;
		}
	}
	g_ptr_array_add(folders, NULL);
	g_strfreev(*out);
	*out = (char **)g_ptr_array_free(g_steal_pointer(&folders), FALSE);
	return true;
}

static bool value_ca_file(struct parse *p, const char *group, const struct ini_entry *entry,
                          char **out)
{
	g_autofree char *raw = NULL;
	g_autofree char *path = NULL;
	GStatBuf st;

	if (!value_string(p, group, entry, &raw)) {
		return false;
	}
	if (g_str_has_prefix(raw, "~/")) {
		path = g_build_filename(g_get_home_dir(), raw + 2, NULL);
	} else if (g_path_is_absolute(raw)) {
		path = g_strdup(raw);
	} else {
		/* The daemon's working directory is arbitrary (systemd uses /). */
		return fail(p, entry->line, group, entry->key,
		            "'%s' is a relative path; write an absolute path or one starting "
		            "with ~/",
		            raw);
	}
	/* Checked now so that a typo shows up in --check-config rather than as
	 * a TLS failure later. */
	if (g_stat(path, &st) != 0 || access(path, R_OK) != 0) {
		int err = errno;

		return fail(p, entry->line, group, entry->key, "cannot read '%s': %s", path,
		            g_strerror(err));
	}
	if (!S_ISREG(st.st_mode)) {
		return fail(p, entry->line, group, entry->key,
		            "'%s' is not a regular file; give the CA certificate file (PEM)", path);
	}
	g_free(*out);
	*out = g_steal_pointer(&path);
	return true;
}

static bool value_open_command(struct parse *p, const char *group, const struct ini_entry *entry,
                               char **out)
{
	g_autofree char *command = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) argv = NULL;

	if (!value_string(p, group, entry, &command)) {
		return false;
	}
	/* Checked with sample values so that a mistake shows up now, not on
	 * the first click. */
	argv = config_expand_open_command(command, "a", "f", 1, "<m>", &error);
	if (!argv) {
		return fail(p, entry->line, group, entry->key, "%s", error->message);
	}
	g_free(*out);
	*out = g_steal_pointer(&command);
	return true;
}

/* ---- keys and hints ---- */

static const char *const security_names[] = {
    [CONFIG_SECURITY_TLS] = "tls",
    [CONFIG_SECURITY_STARTTLS] = "starttls",
    [CONFIG_SECURITY_NONE] = "none",
    NULL,
};

static const char *const auth_names[] = {
    [CONFIG_AUTH_AUTO] = "auto",
    [CONFIG_AUTH_PLAIN] = "plain",
    [CONFIG_AUTH_LOGIN] = "login",
    [CONFIG_AUTH_XOAUTH2] = "xoauth2",
    [CONFIG_AUTH_OAUTHBEARER] = "oauthbearer",
    NULL,
};

static const char *const startup_names[] = {
    [CONFIG_STARTUP_SUMMARY] = "summary",
    [CONFIG_STARTUP_EACH] = "each",
    [CONFIG_STARTUP_SILENT] = "silent",
    NULL,
};

static const char *const content_names[] = {
    [CONFIG_CONTENT_FULL] = "full",
    [CONFIG_CONTENT_SENDER] = "sender",
    [CONFIG_CONTENT_COUNT] = "count",
    NULL,
};

enum daemon_key {
	DAEMON_KEY_NOTIFICATIONS,
	DAEMON_KEY_STARTUP,
	DAEMON_KEY_IDLE_REFRESH,
	DAEMON_KEY_PASSWORD_TIMEOUT,
	DAEMON_KEY_NOTIFY_MAX,
	DAEMON_KEY_NOTIFICATION_SOUND,
	DAEMON_KEY_NOTIFICATION_CONTENT,
};

static const char *const daemon_keys[] = {
    [DAEMON_KEY_NOTIFICATIONS] = "notifications",
    [DAEMON_KEY_STARTUP] = "startup",
    [DAEMON_KEY_IDLE_REFRESH] = "idle_refresh",
    [DAEMON_KEY_PASSWORD_TIMEOUT] = "password_timeout",
    [DAEMON_KEY_NOTIFY_MAX] = "notify_max",
    [DAEMON_KEY_NOTIFICATION_SOUND] = "notification_sound",
    [DAEMON_KEY_NOTIFICATION_CONTENT] = "notification_content",
    NULL,
};

enum account_key {
	ACCOUNT_KEY_HOST,
	ACCOUNT_KEY_PORT,
	ACCOUNT_KEY_SECURITY,
	ACCOUNT_KEY_ALLOW_PLAINTEXT,
	ACCOUNT_KEY_USERNAME,
	ACCOUNT_KEY_PASSWORD,
	ACCOUNT_KEY_PASSWORD_COMMAND,
	ACCOUNT_KEY_AUTH,
	ACCOUNT_KEY_FOLDERS,
	ACCOUNT_KEY_TLS_CA_FILE,
	ACCOUNT_KEY_IDLE_REFRESH,
	ACCOUNT_KEY_NOTIFY,
	ACCOUNT_KEY_NOTIFY_FOLDERS,
	ACCOUNT_KEY_OPEN_COMMAND,
};

static const char *const account_keys[] = {
    [ACCOUNT_KEY_HOST] = "host",
    [ACCOUNT_KEY_PORT] = "port",
    [ACCOUNT_KEY_SECURITY] = "security",
    [ACCOUNT_KEY_ALLOW_PLAINTEXT] = "allow_plaintext",
    [ACCOUNT_KEY_USERNAME] = "username",
    [ACCOUNT_KEY_PASSWORD] = "password",
    [ACCOUNT_KEY_PASSWORD_COMMAND] = "password_command",
    [ACCOUNT_KEY_AUTH] = "auth",
    [ACCOUNT_KEY_FOLDERS] = "folders",
    [ACCOUNT_KEY_TLS_CA_FILE] = "tls_ca_file",
    [ACCOUNT_KEY_IDLE_REFRESH] = "idle_refresh",
    [ACCOUNT_KEY_NOTIFY] = "notify",
    [ACCOUNT_KEY_NOTIFY_FOLDERS] = "notify_folders",
    [ACCOUNT_KEY_OPEN_COMMAND] = "open_command",
    NULL,
};

static int key_index(const char *const *keys, const char *key)
{
	for (int i = 0; keys[i]; i++) {
		if (strcmp(keys[i], key) == 0) {
			return i;
		}
	}
	return -1;
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

static bool unknown_key_fail(struct parse *p, const char *group, const struct ini_entry *entry,
                             bool in_daemon)
{
	const char *const *keys = in_daemon ? daemon_keys : account_keys;
	const char *const *other = in_daemon ? account_keys : daemon_keys;
	const char *near;
	g_autofree char *list = NULL;

	if (key_index(other, entry->key) >= 0) {
		return fail(p, entry->line, group, entry->key, "this key belongs in %s",
		            in_daemon ? "an [account NAME] group" : "[daemon]");
	}
	near = nearest_name(keys, entry->key);
	if (near) {
		return fail(p, entry->line, group, entry->key, "unknown key; did you mean '%s'?",
		            near);
	}
	list = g_strjoinv(", ", (char **)keys);
	return fail(p, entry->line, group, entry->key, "unknown key; the keys here are %s", list);
}

static bool unknown_group_fail(struct parse *p, const struct ini_group *group)
{
	static const char *const account_word[] = {"account", NULL};
	static const char *const daemon_word[] = {"daemon", NULL};
	const char *space = strchr(group->name, ' ');
	g_autofree char *first =
	    g_strndup(group->name, space ? (gsize)(space - group->name) : strlen(group->name));

	if (space && nearest_name(account_word, first)) {
		return fail(p, group->line, NULL, NULL,
		            "unknown group [%s]; did you mean '[account%s]'?", group->name, space);
	}
	if (!space && nearest_name(daemon_word, group->name)) {
		return fail(p, group->line, NULL, NULL,
		            "unknown group [%s]; did you mean '[daemon]'?", group->name);
	}
	return fail(p, group->line, NULL, NULL,
	            "unknown group [%s]; the groups are [daemon] and [account NAME]", group->name);
}

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
	g_strfreev(account->folders);
	g_free(account->tls_ca_file);
	g_strfreev(account->notify_folders);
	g_free(account->open_command);
	g_free(account);
}

typedef struct config_account config_account;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(config_account, account_free)

static bool daemon_build(struct parse *p, struct config *cfg, const struct ini_group *group)
{
	for (guint i = 0; i < group->entries->len; i++) {
		const struct ini_entry *e = group->entries->pdata[i];
		guint choice = 0;
		bool ok = true;

		switch (key_index(daemon_keys, e->key)) {
		case DAEMON_KEY_NOTIFICATIONS:
			ok = value_bool(p, group->name, e, &cfg->notifications);
			break;
		case DAEMON_KEY_STARTUP:
			ok = value_choice(p, group->name, e, startup_names, &choice);
			cfg->startup = (enum config_startup)choice;
			break;
		case DAEMON_KEY_IDLE_REFRESH:
			ok = value_duration(p, group->name, e, MIN_IDLE_REFRESH, MAX_IDLE_REFRESH,
			                    &cfg->idle_refresh);
			break;
		case DAEMON_KEY_PASSWORD_TIMEOUT:
			ok = value_duration(p, group->name, e, MIN_PASSWORD_TIMEOUT,
			                    MAX_PASSWORD_TIMEOUT, &cfg->password_timeout);
			break;
		case DAEMON_KEY_NOTIFY_MAX:
			ok = value_count(p, group->name, e, 1, MAX_NOTIFY_MAX, &cfg->notify_max);
			break;
		case DAEMON_KEY_NOTIFICATION_SOUND:
			ok = value_bool(p, group->name, e, &cfg->notification_sound);
			break;
		case DAEMON_KEY_NOTIFICATION_CONTENT:
			ok = value_choice(p, group->name, e, content_names, &choice);
			cfg->notification_content = (enum config_content)choice;
			break;
		default:
			ok = unknown_key_fail(p, group->name, e, true);
			break;
		}
		if (!ok) {
			return false;
		}
	}
	return true;
}

/* Checks that need the whole group: required keys, password vs. command,
 * plaintext, the default port. */
static bool account_finish(struct parse *p, struct config_account *a, const struct ini_group *g,
                           bool port_set, guint idle_refresh_set)
{
	const struct ini_entry *security = ini_find_entry(g, "security");
	const struct ini_entry *password = ini_find_entry(g, "password");
	const struct ini_entry *command = ini_find_entry(g, "password_command");

	if (!a->host) {
		return fail(p, g->line, g->name, NULL,
		            "key 'host' is missing; add host = the IMAP server's name");
	}
	if (!a->username) {
		return fail(p, g->line, g->name, NULL,
		            "key 'username' is missing; add username = your login name");
	}
	if (password && command) {
		const struct ini_entry *later = password->line > command->line ? password : command;
		const struct ini_entry *first = later == password ? command : password;

		return fail(p, later->line, g->name, later->key,
		            "%s is already set on line %u; keep only one of password and "
		            "password_command",
		            first->key, first->line);
	}
	if (!password && !command) {
		return fail(p, g->line, g->name, NULL,
		            "neither password nor password_command is set; add one of them "
		            "(password_command keeps the password out of this file)");
	}
	if (a->security == CONFIG_SECURITY_NONE && !a->allow_plaintext) {
		return fail(p, security->line, g->name, security->key,
		            "security = none is refused unless allow_plaintext = true is also set "
		            "in this group (the password and mail would travel unencrypted)");
	}
	if (!port_set) {
		a->port = a->security == CONFIG_SECURITY_TLS ? 993 : 143;
	}
	if (!a->folders) {
		a->folders = g_new0(char *, 2);
		a->folders[0] = g_strdup("INBOX");
	}
	for (guint i = 0; a->notify_folders && a->notify_folders[i]; i++) {
		const struct ini_entry *e = ini_find_entry(g, "notify_folders");

		if (!g_strv_contains((const char *const *)a->folders, a->notify_folders[i])) {
			return fail(p, e->line, g->name, e->key,
			            "folder '%s' is not watched; add it to folders first",
			            a->notify_folders[i]);
		}
	}
	a->idle_refresh = idle_refresh_set;
	return true;
}

static struct config_account *account_build(struct parse *p, const struct ini_group *g,
                                            const char *name)
{
	g_autoptr(config_account) a = g_new0(struct config_account, 1);
	bool port_set = false;
	guint idle_refresh = 0;

	if (*name == '\0') {
		fail(p, g->line, NULL, NULL,
		     "the account has no name; write [account NAME], e.g. [account work]");
		return NULL;
	}
	if (strchr(name, '/')) {
		fail(p, g->line, g->name, NULL,
		     "the account name must not contain '/' (it is part of message ids "
		     "like NAME/INBOX/…)");
		return NULL;
	}
	a->name = g_strdup(name);
	a->notify = true;
	for (guint i = 0; i < g->entries->len; i++) {
		const struct ini_entry *e = g->entries->pdata[i];
		guint choice = 0;
		bool ok = true;

		switch (key_index(account_keys, e->key)) {
		case ACCOUNT_KEY_HOST:
			ok = value_string(p, g->name, e, &a->host);
			if (ok && (strstr(a->host, "://") || strpbrk(a->host, " \t/"))) {
				ok = fail(p, e->line, g->name, e->key,
				          "'%s' is not a host name; write only the name, like "
				          "imap.example.com, and the port under 'port'",
				          a->host);
			}
			break;
		case ACCOUNT_KEY_PORT:
			ok = value_port(p, g->name, e, &a->port);
			port_set = true;
			break;
		case ACCOUNT_KEY_SECURITY:
			ok = value_choice(p, g->name, e, security_names, &choice);
			a->security = (enum config_security)choice;
			break;
		case ACCOUNT_KEY_ALLOW_PLAINTEXT:
			ok = value_bool(p, g->name, e, &a->allow_plaintext);
			break;
		case ACCOUNT_KEY_USERNAME:
			ok = value_string(p, g->name, e, &a->username);
			break;
		case ACCOUNT_KEY_PASSWORD:
			ok = value_string(p, g->name, e, &a->password);
			break;
		case ACCOUNT_KEY_PASSWORD_COMMAND:
			ok = value_string(p, g->name, e, &a->password_command);
			break;
		case ACCOUNT_KEY_AUTH:
			ok = value_choice(p, g->name, e, auth_names, &choice);
			a->auth = (enum config_auth)choice;
			break;
		case ACCOUNT_KEY_FOLDERS:
			ok = value_folders(p, g->name, e, "remove the line to watch INBOX",
			                   &a->folders);
			break;
		case ACCOUNT_KEY_TLS_CA_FILE:
			ok = value_ca_file(p, g->name, e, &a->tls_ca_file);
			break;
		case ACCOUNT_KEY_IDLE_REFRESH:
			ok = value_duration(p, g->name, e, MIN_IDLE_REFRESH, MAX_IDLE_REFRESH,
			                    &idle_refresh);
			break;
		case ACCOUNT_KEY_NOTIFY:
			ok = value_bool(p, g->name, e, &a->notify);
			break;
		case ACCOUNT_KEY_NOTIFY_FOLDERS:
			ok = value_folders(p, g->name, e,
			                   "write notify = false to have no notifications from "
			                   "this account",
			                   &a->notify_folders);
			break;
		case ACCOUNT_KEY_OPEN_COMMAND:
			ok = value_open_command(p, g->name, e, &a->open_command);
			break;
		default:
			ok = unknown_key_fail(p, g->name, e, false);
			break;
		}
		if (!ok) {
			return NULL;
		}
	}
	if (!account_finish(p, a, g, port_set, idle_refresh)) {
		return NULL;
	}
	return g_steal_pointer(&a);
}

static struct config *config_build(struct parse *p, GPtrArray *groups)
{
	g_autoptr(config) cfg = g_new0(struct config, 1);

	cfg->path = g_strdup(p->path);
	cfg->notifications = true;
	cfg->startup = CONFIG_STARTUP_SUMMARY;
	cfg->idle_refresh = DEFAULT_IDLE_REFRESH;
	cfg->password_timeout = DEFAULT_PASSWORD_TIMEOUT;
	cfg->notify_max = DEFAULT_NOTIFY_MAX;
	cfg->notification_sound = true;
	cfg->notification_content = CONFIG_CONTENT_FULL;
	cfg->accounts = g_ptr_array_new_with_free_func((GDestroyNotify)account_free);

	for (guint i = 0; i < groups->len; i++) {
		const struct ini_group *g = groups->pdata[i];
		struct config_account *a;
		const char *name;

		if (strcmp(g->name, "daemon") == 0) {
			if (!daemon_build(p, cfg, g)) {
				return NULL;
			}
			continue;
		}
		if (strcmp(g->name, "account") != 0 && !g_str_has_prefix(g->name, "account ")) {
			unknown_group_fail(p, g);
			return NULL;
		}
		name = g->name + strlen("account");
		while (*name == ' ') {
			name++;
		}
		a = account_build(p, g, name);
		if (!a) {
			return NULL;
		}
		g_ptr_array_add(cfg->accounts, a);
	}
	if (cfg->accounts->len == 0) {
		fail(p, 0, NULL, NULL,
		     "no [account NAME] group; add one for each mail account to watch");
		return NULL;
	}
	/* An account without its own idle_refresh follows [daemon], wherever
	 * that group is in the file. */
	for (guint i = 0; i < cfg->accounts->len; i++) {
		struct config_account *a = cfg->accounts->pdata[i];

		if (a->idle_refresh == 0) {
			a->idle_refresh = cfg->idle_refresh;
		}
	}
	return g_steal_pointer(&cfg);
}

struct config *config_load_data(const char *data, gsize len, const char *path, GError **error)
{
	struct parse p = {.path = path ? path : "(config)", .error = error};
	g_autoptr(GPtrArray) groups = NULL;

	g_return_val_if_fail(data || len == 0, NULL);
	if (len > CONFIG_MAX_SIZE) {
		fail(&p, 0, NULL, NULL, "the file is larger than %u bytes; is it the right file?",
		     CONFIG_MAX_SIZE);
		return NULL;
	}
	groups = ini_read(&p, data ? data : "", len);
	if (!groups) {
		return NULL;
	}
	return config_build(&p, groups);
}

struct config *config_load_file(const char *path, GError **error)
{
	g_autofree char *data = NULL;
	struct config *cfg;
	gsize len = 0;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int err = errno;

		g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO, "%s: cannot open: %s", path,
		            g_strerror(err));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX_SIZE) {
		g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
		            "%s: not a regular file of at most %u bytes", path, CONFIG_MAX_SIZE);
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

const char *config_security_name(enum config_security security)
{
	if ((unsigned)security >= G_N_ELEMENTS(security_names) - 1) {
		return "unknown";
	}
	return security_names[security];
}

const char *config_auth_name(enum config_auth auth)
{
	if ((unsigned)auth >= G_N_ELEMENTS(auth_names) - 1) {
		return "unknown";
	}
	return auth_names[auth];
}

static const char *startup_name(enum config_startup startup)
{
	if ((unsigned)startup >= G_N_ELEMENTS(startup_names) - 1) {
		return "unknown";
	}
	return startup_names[startup];
}

static const char *content_name(enum config_content content)
{
	if ((unsigned)content >= G_N_ELEMENTS(content_names) - 1) {
		return "unknown";
	}
	return content_names[content];
}

bool config_account_notifies(const struct config_account *account, const char *folder)
{
	if (!account->notify) {
		return false;
	}
	return !account->notify_folders ||
	       g_strv_contains((const char *const *)account->notify_folders, folder);
}

char **config_expand_open_command(const char *command, const char *account, const char *folder,
                                  uint32_t uid, const char *message_id, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_auto(GStrv) words = NULL;
	g_autofree char *uid_s = uid ? g_strdup_printf("%u", uid) : g_strdup("");
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

	/* GLib's own message quotes the whole command and is translated;
	 * ours stays short and stable. */
	if (!g_shell_parse_argv(command, NULL, &words, &local)) {
		g_set_error_literal(error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
		                    g_error_matches(local, G_SHELL_ERROR, G_SHELL_ERROR_BAD_QUOTING)
		                        ? "a quote is not closed, or a backslash ends the command; "
		                          "quote words as in a shell"
		                        : "no command to run");
		return NULL;
	}
	for (guint i = 0; words[i]; i++) {
		GString *word = g_string_new(NULL);

		for (const char *c = words[i]; *c; c++) {
			const char *value = NULL;

			if (*c != '%') {
				g_string_append_c(word, *c);
				continue;
			}
			switch (c[1]) {
			case 'a':
				value = account;
				break;
			case 'f':
				value = folder;
				break;
			case 'u':
				value = uid_s;
				break;
			case 'm':
				value = message_id;
				break;
			case '%':
				value = "%";
				break;
			default:
				g_set_error(
				    error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
				    "'%%%.1s' is not a placeholder; the placeholders are %%a "
				    "(account), %%f (folder), %%u (UID), %%m (Message-ID) and "
				    "%%%% (a percent sign)",
				    c + 1);
				g_string_free(word, TRUE);
				return NULL;
			}
			g_string_append(word, value ? value : "");
			c++;
		}
		g_ptr_array_add(out, g_string_free(word, FALSE));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

bool config_parse_duration(const char *s, guint *seconds)
{
	static const struct {
		char unit;
		guint factor;
	} units[] = {{'h', 3600}, {'m', 60}, {'s', 1}};
	guint64 total = 0;
	gsize next_unit = 0;

	if (!s || *s == '\0') {
		return false;
	}
	while (*s) {
		guint64 n = 0;
		bool found = false;

		if (!g_ascii_isdigit(*s)) {
			return false;
		}
		for (; g_ascii_isdigit(*s); s++) {
			n = n * 10 + (guint64)(*s - '0');
			if (n > G_MAXUINT) {
				return false;
			}
		}
		/* Units in the order h, m, s, each at most once: "1h30m". */
		for (; next_unit < G_N_ELEMENTS(units); next_unit++) {
			if (*s == units[next_unit].unit) {
				total += n * units[next_unit].factor;
				next_unit++;
				found = true;
				break;
			}
		}
		if (!found || total > G_MAXUINT) {
			return false;
		}
		s++;
	}
	*seconds = (guint)total;
	return true;
}

char *config_format_duration(guint seconds)
{
	GString *out = g_string_new(NULL);

	if (seconds >= 3600) {
		g_string_append_printf(out, "%uh", seconds / 3600);
	}
	if (seconds % 3600 >= 60) {
		g_string_append_printf(out, "%um", seconds % 3600 / 60);
	}
	if (seconds % 60 != 0 || seconds == 0) {
		g_string_append_printf(out, "%us", seconds % 60);
	}
	return g_string_free(out, FALSE);
}

static void describe_duration(GString *out, const char *key, guint seconds)
{
	g_autofree char *s = config_format_duration(seconds);

	g_string_append_printf(out, "  %s: %s\n", key, s);
}

static void describe_folders(GString *out, const char *key, char **folders)
{
	g_string_append_printf(out, "  %s: ", key);
	for (guint f = 0; folders[f]; f++) {
		g_autofree char *escaped = NULL;
		g_auto(GStrv) parts = g_strsplit(folders[f], ";", -1);

		/* Written back in the list syntax of the file. */
		escaped = g_strjoinv("\\;", parts);
		g_string_append_printf(out, "%s%s", f > 0 ? "; " : "", escaped);
	}
	g_string_append(out, "\n");
}

char *config_describe(const struct config *cfg)
{
	GString *out = g_string_new(NULL);

	g_string_append_printf(out, "config file: %s\n\n[daemon]\n", cfg->path);
	g_string_append_printf(out, "  notifications: %s\n", cfg->notifications ? "true" : "false");
	g_string_append_printf(out, "  startup: %s\n", startup_name(cfg->startup));
	describe_duration(out, "idle_refresh", cfg->idle_refresh);
	describe_duration(out, "password_timeout", cfg->password_timeout);
	g_string_append_printf(out, "  notify_max: %u\n", cfg->notify_max);
	g_string_append_printf(out, "  notification_sound: %s\n",
	                       cfg->notification_sound ? "true" : "false");
	g_string_append_printf(out, "  notification_content: %s\n",
	                       content_name(cfg->notification_content));

	for (guint i = 0; i < cfg->accounts->len; i++) {
		const struct config_account *a = cfg->accounts->pdata[i];

		g_string_append_printf(out, "\n[account %s]\n", a->name);
		g_string_append_printf(out, "  host: %s\n", a->host);
		g_string_append_printf(out, "  port: %u\n", a->port);
		g_string_append_printf(out, "  security: %s%s\n", config_security_name(a->security),
		                       a->security == CONFIG_SECURITY_NONE
		                           ? " (plaintext allowed by allow_plaintext)"
		                           : "");
		g_string_append_printf(out, "  username: %s\n", a->username);
		g_string_append_printf(out, "  auth: %s\n", config_auth_name(a->auth));
		describe_folders(out, "folders", a->folders);
		g_string_append_printf(out, "  tls_ca_file: %s\n",
		                       a->tls_ca_file ? a->tls_ca_file
		                                      : "(not set; system trust store only)");
		describe_duration(out, "idle_refresh", a->idle_refresh);
		g_string_append_printf(out, "  notify: %s\n", a->notify ? "true" : "false");
		if (a->notify_folders) {
			describe_folders(out, "notify_folders", a->notify_folders);
		} else {
			g_string_append(out, "  notify_folders: (not set; every watched folder)\n");
		}
		g_string_append_printf(out, "  open_command: %s\n",
		                       a->open_command ? a->open_command
		                                       : "(not set; the default mail client)");
		if (a->password_command) {
			g_string_append_printf(out, "  password: from command: %s\n",
			                       a->password_command);
		} else {
			g_string_append(out, "  password: (set in config file)\n");
		}
	}
	return g_string_free(out, FALSE);
}

bool config_account_equal(const struct config_account *a, const struct config_account *b)
{
	if (g_strcmp0(a->name, b->name) != 0 || g_strcmp0(a->host, b->host) != 0 ||
	    a->port != b->port || a->security != b->security ||
	    a->allow_plaintext != b->allow_plaintext || g_strcmp0(a->username, b->username) != 0 ||
	    g_strcmp0(a->password, b->password) != 0 ||
	    g_strcmp0(a->password_command, b->password_command) != 0 || a->auth != b->auth ||
	    g_strcmp0(a->tls_ca_file, b->tls_ca_file) != 0 || a->idle_refresh != b->idle_refresh) {
		return false;
	}
	return g_strv_equal((const char *const *)a->folders, (const char *const *)b->folders);
}
