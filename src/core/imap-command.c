/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/imap-command.h"

#include <stdlib.h>
#include <string.h>

/* ASTRING-CHAR = ATOM-CHAR / "]": CHAR except CTL, SP and "(){%*\"\\". */
static bool is_astring_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("(){%*\"\\", ch) == NULL;
}

bool imap_command_needs_quoting(const char *s)
{
	if (s == NULL || *s == '\0' || g_ascii_strcasecmp(s, "NIL") == 0) {
		return true;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (!is_astring_char(*p)) {
			return true;
		}
	}
	return false;
}

bool imap_command_append_astring(GString *out, const char *s)
{
	if (s == NULL) {
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f) {
			return false;
		}
	}
	if (!imap_command_needs_quoting(s)) {
		g_string_append(out, s);
		return true;
	}
	g_string_append_c(out, '"');
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			g_string_append_c(out, '\\');
		}
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
	return true;
}

static int uid_compare(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void append_range(GString *out, uint32_t first, uint32_t last)
{
	if (first == last) {
		g_string_append_printf(out, "%" G_GUINT32_FORMAT, first);
	} else {
		g_string_append_printf(out, "%" G_GUINT32_FORMAT ":%" G_GUINT32_FORMAT, first,
		                       last);
	}
}

void imap_command_append_uid_set(GString *out, const uint32_t *uids, size_t n)
{
	g_autofree uint32_t *copy = NULL;
	uint32_t first;
	uint32_t last;

	if (n == 0) {
		return;
	}
	for (size_t i = 1; i < n; i++) {
		if (uids[i] < uids[i - 1]) {
			copy = g_memdup2(uids, n * sizeof(*uids));
			qsort(copy, n, sizeof(*copy), uid_compare);
			uids = copy;
			break;
		}
	}
	first = last = uids[0];
	for (size_t i = 1; i < n; i++) {
		if (uids[i] == last) {
			continue;
		}
		if (uids[i] == last + 1) {
			last = uids[i];
			continue;
		}
		append_range(out, first, last);
		g_string_append_c(out, ',');
		first = last = uids[i];
	}
	append_range(out, first, last);
}

char *imap_command_base64_plain(const char *authzid, const char *user, const char *password)
{
	size_t authzid_len = authzid != NULL ? strlen(authzid) : 0;
	size_t user_len;
	size_t password_len;
	size_t len;
	char *message;
	char *encoded;

	if (user == NULL || *user == '\0' || password == NULL || *password == '\0') {
		return NULL;
	}
	user_len = strlen(user);
	password_len = strlen(password);
	len = authzid_len + 1 + user_len + 1 + password_len;
	message = g_malloc(len);
	if (authzid_len > 0) {
		memcpy(message, authzid, authzid_len);
	}
	message[authzid_len] = '\0';
	memcpy(message + authzid_len + 1, user, user_len);
	message[authzid_len + 1 + user_len] = '\0';
	memcpy(message + authzid_len + 1 + user_len + 1, password, password_len);
	encoded = g_base64_encode((const guchar *)message, len);
	/* explicit_bzero: a plain memset before free may be optimised away. */
	explicit_bzero(message, len);
	g_free(message);
	return encoded;
}
