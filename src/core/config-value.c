/* SPDX-License-Identifier: MIT */
/*
 * One value of one key, as the reader left it (quotes, escapes and
 * comments resolved): strings, booleans, choices, durations, numbers,
 * folder lists, fingerprints, file names and commands. Each
 * config_value_*() sets *out and returns true, or returns false after
 * config_fail() with the line and key of the entry.
 */
#include "core/config-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* What completes "has no value" or "the list is empty": a value that was
 * all comment is probably one with a '#' of its own. */
static const char *comment_hint(const struct config_ini_entry *entry)
{
	return entry->commented ? " (a '#' at the start of a value, or after a blank, starts a "
	                          "comment; put the value in double quotes to keep it)"
	                        : "";
}

bool config_value_string(struct config_parse *p, const char *group,
                         const struct config_ini_entry *entry, char **out)
{
	if (entry->value[0] == '\0') {
		return config_fail(p, entry->line, group, entry->key,
		                   "has no value; give one or remove the line%s",
		                   comment_hint(entry));
	}
	secret_free(*out);
	*out = g_strdup(entry->value);
	return true;
}

bool config_value_bool(struct config_parse *p, const char *group,
                       const struct config_ini_entry *entry, bool *out)
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
	return config_fail(p, entry->line, group, entry->key,
	                   "'%s' is not a boolean; write true or false", v);
}

/* names is NULL-terminated and indexed by the enum value. */
bool config_value_choice(struct config_parse *p, const char *group,
                         const struct config_ini_entry *entry, const char *const *names, guint *out)
{
	g_autofree char *list = NULL;

	for (guint i = 0; names[i]; i++) {
		if (strcmp(entry->value, names[i]) == 0) {
			*out = i;
			return true;
		}
	}
	list = g_strjoinv(", ", (char **)names);
	return config_fail(p, entry->line, group, entry->key, "'%s' is not one of %s", entry->value,
	                   list);
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

bool config_value_duration(struct config_parse *p, const char *group,
                           const struct config_ini_entry *entry, guint min, guint max, guint *out)
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
		return config_fail(p, entry->line, group, entry->key,
		                   "'%s' has no unit; write %s, not %s (units: s, m, h)",
		                   entry->value, hint, entry->value);
	}
	if (!config_parse_duration(entry->value, &seconds)) {
		return config_fail(p, entry->line, group, entry->key,
		                   "'%s' is not a duration; write it like 30s, 9m, 1h or 1h30m",
		                   entry->value);
	}
	if (seconds < min || seconds > max) {
		return config_fail(p, entry->line, group, entry->key,
		                   "%s is out of range; use a value from %s to %s", entry->value,
		                   min_s, max_s);
	}
	*out = seconds;
	return true;
}

bool config_value_port(struct config_parse *p, const char *group,
                       const struct config_ini_entry *entry, uint16_t *out)
{
	guint64 n = 0;

	if (!all_digits(entry->value) ||
	    !g_ascii_string_to_unsigned(entry->value, 10, 1, 65535, &n, NULL)) {
		return config_fail(p, entry->line, group, entry->key,
		                   "'%s' is not a port number from 1 to 65535", entry->value);
	}
	*out = (uint16_t)n;
	return true;
}

bool config_value_count(struct config_parse *p, const char *group,
                        const struct config_ini_entry *entry, guint min, guint max, guint *out)
{
	guint64 n = 0;

	if (!all_digits(entry->value) ||
	    !g_ascii_string_to_unsigned(entry->value, 10, min, max, &n, NULL)) {
		return config_fail(p, entry->line, group, entry->key,
		                   "'%s' is not a number from %u to %u", entry->value, min, max);
	}
	*out = (guint)n;
	return true;
}

/* ["INBOX", "Work"] (TOML, YAML, JSON) into INBOX;Work; NULL when value
 * is not written like that. A folder named [Gmail] is not such a list. */
static char *foreign_list_fix(const char *value)
{
	gsize len = strlen(value);
	g_autofree char *inner = NULL;
	g_auto(GStrv) parts = NULL;

	if (len < 2 || value[0] != '[' || value[len - 1] != ']' || !strpbrk(value, ",\"'")) {
		return NULL;
	}
	inner = g_strndup(value + 1, len - 2);
	parts = g_strsplit(inner, ",", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		char *part = g_strstrip(parts[i]);
		gsize n = strlen(part);

		if (n >= 2 && (part[0] == '"' || part[0] == '\'') && part[n - 1] == part[0]) {
			memmove(part, part + 1, n - 2);
			part[n - 2] = '\0';
		}
	}
	return g_strjoinv(";", parts);
}

/* "INBOX, Work" written as one entry: the list with ';' for each ", ". */
static char *comma_list_fix(const char *value)
{
	g_autoptr(GString) fixed = g_string_new(NULL);

	for (const char *k = value; *k; k++) {
		if (*k == ',') {
			g_string_append_c(fixed, ';');
			while (g_ascii_isspace(k[1])) {
				k++;
			}
		} else {
			g_string_append_c(fixed, *k);
		}
	}
	return g_string_free(g_steal_pointer(&fixed), FALSE);
}

/* The folders list: entries as the reader split them, "inbox" in any case
 * normalised to INBOX (RFC 3501 §5.1: INBOX is case-insensitive). */
bool config_value_folders(struct config_parse *p, const char *group,
                          const struct config_ini_entry *entry, const char *empty_hint, char ***out)
{
	g_autoptr(GPtrArray) folders = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *foreign = foreign_list_fix(entry->value);

	if (foreign != NULL) {
		return config_fail(p, entry->line, group, entry->key,
		                   "'%s' looks like a list of another format (TOML, YAML); "
		                   "separate folders with ';', without brackets (%s = %s)",
		                   entry->value, entry->key, foreign);
	}
	if (entry->items->len == 0) {
		return config_fail(p, entry->line, group, entry->key, "the list is empty; %s%s",
		                   empty_hint, comment_hint(entry));
	}
	for (guint n = 0; n < entry->items->len; n++) {
		const struct config_ini_item *item = entry->items->pdata[n];
		char *name;

		if (item->text[0] == '\0') {
			return config_fail(p, entry->line, group, entry->key,
			                   item->quoted
			                       ? "entry %u of the list is empty"
			                       : "entry %u of the list is empty; remove the "
			                         "extra ';'",
			                   n + 1);
		}
		name = g_strdup(item->text);
		g_ptr_array_add(folders, name);
		for (const char *k = name; *k; k++) {
			if (g_ascii_iscntrl(*k)) {
				return config_fail(p, entry->line, group, entry->key,
				                   "folder '%s' contains a control character",
				                   name);
			}
		}
		const char *comma = strchr(name, ',');
		if (!item->quoted && comma != NULL && comma > name && g_ascii_isspace(comma[1])) {
			/* "INBOX, Work": another tool's list syntax. */
			g_autofree char *fixed = comma_list_fix(entry->value);

			return config_fail(p, entry->line, group, entry->key,
			                   "'%s' looks like two folders separated by a comma; "
			                   "separate folders with ';' (%s = %s)",
			                   name, entry->key, fixed);
		}
		if (g_ascii_strcasecmp(name, "INBOX") == 0) {
			memcpy(name, "INBOX", 5);
		}
		for (guint i = 0; i + 1 < folders->len; i++) {
			if (strcmp(folders->pdata[i], name) == 0) {
				return config_fail(p, entry->line, group, entry->key,
				                   "folder '%s' is listed twice", name);
			}
		}
	}
	g_ptr_array_add(folders, NULL);
	g_strfreev(*out);
	*out = (char **)g_ptr_array_free(g_steal_pointer(&folders), FALSE);
	return true;
}

/* "sha256:" and 64 hex digits, colons between bytes allowed (as openssl
 * x509 -fingerprint prints them). */
bool config_value_fingerprint(struct config_parse *p, const char *group,
                              const struct config_ini_entry *entry,
                              uint8_t out[CONFIG_FINGERPRINT_LEN])
{
	g_autofree char *raw = NULL;
	size_t n = 0;

	if (!config_value_string(p, group, entry, &raw)) {
		return false;
	}
	const char *hex = raw;
	if (g_ascii_strncasecmp(hex, "sha256:", 7) != 0) {
		return config_fail(
		    p, entry->line, group, entry->key,
		    "write sha256: followed by the certificate's SHA-256 fingerprint in hex "
		    "(openssl x509 -noout -fingerprint -sha256 -in cert.pem)");
	}
	for (hex += 7; *hex != '\0'; hex++) {
		if (*hex == ':') {
			continue;
		}
		int hi = g_ascii_xdigit_value(hex[0]);
		int lo = hex[1] != '\0' ? g_ascii_xdigit_value(hex[1]) : -1;
		if (hi < 0 || lo < 0 || n == CONFIG_FINGERPRINT_LEN) {
			break;
		}
		out[n++] = (uint8_t)(hi << 4 | lo);
		hex++;
	}
	if (*hex != '\0' || n != CONFIG_FINGERPRINT_LEN) {
		return config_fail(
		    p, entry->line, group, entry->key,
		    "a SHA-256 fingerprint is 32 bytes: 64 hex digits after sha256:");
	}
	return true;
}

bool config_value_file(struct config_parse *p, const char *group,
                       const struct config_ini_entry *entry, const char *what, char **out)
{
	g_autofree char *raw = NULL;
	g_autofree char *path = NULL;
	GStatBuf st;

	if (!config_value_string(p, group, entry, &raw)) {
		return false;
	}
	if (g_str_has_prefix(raw, "~/")) {
		path = g_build_filename(g_get_home_dir(), raw + 2, NULL);
	} else if (g_path_is_absolute(raw)) {
		path = g_strdup(raw);
	} else {
		/* The daemon's working directory is arbitrary (systemd uses /). */
		return config_fail(
		    p, entry->line, group, entry->key,
		    "'%s' is a relative path; write an absolute path or one starting "
		    "with ~/",
		    raw);
	}
	/* Checked now so that a typo shows up in --check-config rather than as
	 * a failure later (a TLS failure, a silent popup). */
	if (g_stat(path, &st) != 0 || access(path, R_OK) != 0) {
		int err = errno;

		return config_fail(p, entry->line, group, entry->key, "cannot read '%s': %s", path,
		                   g_strerror(err));
	}
	if (!S_ISREG(st.st_mode)) {
		return config_fail(p, entry->line, group, entry->key,
		                   "'%s' is not a regular file; give %s", path, what);
	}
	g_free(*out);
	*out = g_steal_pointer(&path);
	return true;
}

bool config_value_open_command(struct config_parse *p, const char *group,
                               const struct config_ini_entry *entry, char **out)
{
	g_autofree char *command = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) argv = NULL;

	if (!config_value_string(p, group, entry, &command)) {
		return false;
	}
	/* Checked with sample values so that a mistake shows up now, not on
	 * the first click. */
	argv = config_expand_open_command(command, "a", "f", 1, "<m>", &error);
	if (!argv) {
		return config_fail(p, entry->line, group, entry->key, "%s", error->message);
	}
	g_free(*out);
	*out = g_steal_pointer(&command);
	return true;
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
			default: {
				/* Name the character after '%' whole: one byte of
				 * a multi-byte one would not be UTF-8, and an
				 * invisible one would not be seen. */
				gunichar u = g_utf8_get_char_validated(c + 1, -1);
				g_autofree char *shown =
				    u < 0x80 && g_ascii_isgraph((char)u)
				        ? g_strdup_printf("'%%%c'", (char)u)
				    : c[1] == '\0' ? g_strdup("'%'")
				    : u < 0x110000
				        ? g_strdup_printf("'%%' followed by U+%04X", u)
				        : g_strdup("'%' followed by a byte that is not UTF-8");

				g_set_error(
				    error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
				    "%s is not a placeholder; the placeholders are %%a "
				    "(account), %%f (folder), %%u (UID), %%m (Message-ID) and "
				    "%%%% (a percent sign)",
				    shown);
				g_string_free(word, TRUE);
				return NULL;
			}
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

/* Secret Service attributes, as secret-tool takes them: ';'-separated
 * attr=value pairs (trimmed; quotes and escapes as in other lists), each
 * attribute once, none empty. */
bool config_value_secret_attributes(struct config_parse *p, const char *group,
                                    const struct config_ini_entry *entry, char ***out)
{
	g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func(g_free);

	for (guint n = 0; n < entry->items->len; n++) {
		const struct config_ini_item *item = entry->items->pdata[n];
		g_autofree char *attr = g_strdup(item->text);
		char *eq = strchr(attr, '=');

		if (eq == NULL || eq == attr || eq[1] == '\0') {
			return config_fail(p, entry->line, group, entry->key,
			                   "entry %u is not attribute=value; write the attributes "
			                   "as secret-tool takes them, e.g. service=imap;user=me",
			                   n + 1);
		}
		*eq = '\0';
		g_strstrip(attr);
		g_strstrip(eq + 1);
		for (guint j = 0; j < pairs->len; j += 2) {
			if (strcmp(pairs->pdata[j], attr) == 0) {
				return config_fail(p, entry->line, group, entry->key,
				                   "attribute '%s' is given twice", attr);
			}
		}
		g_ptr_array_add(pairs, g_strdup(attr));
		g_ptr_array_add(pairs, g_strdup(eq + 1));
	}
	if (pairs->len == 0) {
		return config_fail(p, entry->line, group, entry->key,
		                   "has no value; give the item's attributes, e.g. "
		                   "service=imap;user=me%s",
		                   comment_hint(entry));
	}
	g_ptr_array_add(pairs, NULL);
	g_strfreev(*out);
	*out = (char **)g_ptr_array_free(g_steal_pointer(&pairs), FALSE);
	return true;
}

char *config_secret_attributes_text(char *const *pairs)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; pairs != NULL && pairs[i] != NULL && pairs[i + 1] != NULL; i += 2) {
		g_string_append_printf(out, "%s%s=%s", i > 0 ? "; " : "", pairs[i], pairs[i + 1]);
	}
	return g_string_free(out, FALSE);
}
