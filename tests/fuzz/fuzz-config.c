/* SPDX-License-Identifier: MIT */
/*
 * The config reader on arbitrary text. It must never crash; an error must
 * say where, as config.h promises: "PATH:LINE: ..." with a line that
 * exists, or one of the two messages that concern the whole file (too big,
 * no account); a config that loads must satisfy what config.h documents,
 * and config_describe() must not depend on the passwords, so it cannot
 * show them.
 */
#include "fuzz.h"

#include "imapwatch/core/config.h"

#include <string.h>

#define PATH "fuzz.conf"

static void check_error(const GError *error, const uint8_t *data, size_t size)
{
	const char *m;
	guint64 line = 0;
	size_t lines = 1;
	char *end = NULL;

	FUZZ_CHECK(error != NULL && error->message != NULL);
	FUZZ_CHECK(error->domain == CONFIG_ERROR && error->code == CONFIG_ERROR_INVALID);
	FUZZ_CHECK_MSG(g_utf8_validate(error->message, -1, NULL), "message is not UTF-8: %s",
	               error->message);
	FUZZ_CHECK_MSG(g_str_has_prefix(error->message, PATH ":"), "no path: %s", error->message);
	m = error->message + strlen(PATH ":");
	if (*m == ' ') {
		FUZZ_CHECK_MSG(g_str_has_prefix(m, " no [account NAME] group") ||
		                   g_str_has_prefix(m, " the file is larger than"),
		               "no line number: %s", error->message);
		return;
	}
	FUZZ_CHECK_MSG(g_ascii_isdigit(*m), "no line number: %s", error->message);
	line = g_ascii_strtoull(m, &end, 10);
	FUZZ_CHECK_MSG(*end == ':', "no ':' after the line number: %s", error->message);
	for (size_t i = 0; i < size; i++) {
		lines += data[i] == '\n';
	}
	FUZZ_CHECK_MSG(line >= 1 && line <= lines, "line %" G_GUINT64_FORMAT " of %zu: %s", line,
	               lines, error->message);
}

static void check_config(struct config *cfg)
{
	g_autofree char *before = config_describe(cfg);

	FUZZ_CHECK(g_utf8_validate(before, -1, NULL));
	FUZZ_CHECK(cfg->accounts->len > 0);
	FUZZ_CHECK(cfg->idle_refresh >= 60 && cfg->idle_refresh <= 29 * 60);
	for (guint i = 0; i < cfg->accounts->len; i++) {
		struct config_account *a = cfg->accounts->pdata[i];

		FUZZ_CHECK(a->name != NULL && a->name[0] != '\0' && strchr(a->name, '/') == NULL);
		FUZZ_CHECK(config_find_account(cfg, a->name) != NULL);
		FUZZ_CHECK(a->host != NULL && a->username != NULL && a->port != 0);
		FUZZ_CHECK((a->password == NULL) != (a->password_command == NULL));
		FUZZ_CHECK(a->security != CONFIG_SECURITY_NONE || a->allow_plaintext);
		FUZZ_CHECK(a->folders != NULL && a->folders[0] != NULL);
		FUZZ_CHECK(a->idle_refresh >= 60 && a->idle_refresh <= 29 * 60);
	}

	/* Swap every password for another one: the description must not
	 * change, so no part of it comes from a password. */
	g_autoptr(GPtrArray) saved = g_ptr_array_new();
	for (guint i = 0; i < cfg->accounts->len; i++) {
		struct config_account *a = cfg->accounts->pdata[i];

		g_ptr_array_add(saved, a->password);
		if (a->password != NULL) {
			a->password = g_strdup("another password entirely");
		}
	}
	g_autofree char *after = config_describe(cfg);
	for (guint i = 0; i < cfg->accounts->len; i++) {
		struct config_account *a = cfg->accounts->pdata[i];

		if (a->password != NULL) {
			g_free(a->password);
			a->password = saved->pdata[i];
		}
	}
	FUZZ_CHECK_MSG(strcmp(before, after) == 0, "describe() shows the password:\n%s", before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;

	fuzz_init();
	g_autoptr(config) cfg = config_load_data((const char *)data, size, PATH, &error);
	if (cfg == NULL) {
		check_error(error, data, size);
		return 0;
	}
	FUZZ_CHECK(error == NULL);
	FUZZ_CHECK(strcmp(cfg->path, PATH) == 0);
	check_config(cfg);
	return 0;
}
