/* SPDX-License-Identifier: MIT */
/*
 * imapwatch-test-mark-read: runs one mark_read_start() against a real server
 * for the integration tests (there is no user-facing command for it yet).
 *
 *   imapwatch-test-mark-read --host H --port P [--security tls|starttls]
 *       [--ca FILE] --username U --folder F --uidvalidity N [--trace] UID...
 *
 * The password comes from the environment (IMAPWATCH_TEST_PASSWORD), not
 * the command line, where other users could read it. Exits 0 when the
 * messages were marked, 1 with the error on stderr when not, 2 on bad usage.
 */
#include "imapwatch/io/mark-read.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct outcome {
	GMainLoop *loop;
	int status;
	unsigned calls;
};

static void done_cb(const GError *error, void *user_data)
{
	struct outcome *o = user_data;

	o->calls++;
	if (error != NULL) {
		fprintf(stderr, "%s\n", error->message);
		o->status = 1;
	} else {
		o->status = 0;
	}
	g_main_loop_quit(o->loop);
}

static bool parse_u32(const char *s, uint32_t *out)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT32, &v, NULL)) {
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

int main(int argc, char **argv)
{
	g_autofree char *host = NULL;
	g_autofree char *security = NULL;
	g_autofree char *ca = NULL;
	g_autofree char *username = NULL;
	g_autofree char *folder = NULL;
	g_autofree char *uidvalidity_text = NULL;
	int port = 0;
	gboolean trace = FALSE;
	GOptionEntry entries[] = {
	    {"host", 0, 0, G_OPTION_ARG_STRING, &host, "server host", "H"},
	    {"port", 0, 0, G_OPTION_ARG_INT, &port, "server port", "P"},
	    {"security", 0, 0, G_OPTION_ARG_STRING, &security, "tls or starttls", "S"},
	    {"ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, "extra trusted CA file", "FILE"},
	    {"username", 0, 0, G_OPTION_ARG_STRING, &username, "user name", "U"},
	    /* FILENAME: bytes as given; STRING would convert from the
	     * locale's charset, which fails for UTF-8 under LANG=C. */
	    {"folder", 0, 0, G_OPTION_ARG_FILENAME, &folder, "folder (UTF-8)", "F"},
	    {"uidvalidity", 0, 0, G_OPTION_ARG_STRING, &uidvalidity_text, "UIDVALIDITY", "N"},
	    {"trace", 0, 0, G_OPTION_ARG_NONE, &trace, "log the protocol", NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_autoptr(GOptionContext) context = g_option_context_new("UID...");
	g_autoptr(GError) error = NULL;
	uint32_t uidvalidity;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "%s\n", error->message);
		return 2;
	}
	const char *password = g_getenv("IMAPWATCH_TEST_PASSWORD");
	if (host == NULL || port <= 0 || port > 65535 || username == NULL || folder == NULL ||
	    !g_utf8_validate(folder, -1, NULL) || uidvalidity_text == NULL ||
	    !parse_u32(uidvalidity_text, &uidvalidity) || password == NULL) {
		fprintf(stderr, "missing or invalid arguments (see --help; password in "
		                "IMAPWATCH_TEST_PASSWORD)\n");
		return 2;
	}
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	for (int i = 1; i < argc; i++) {
		uint32_t uid;

		if (!parse_u32(argv[i], &uid)) {
			fprintf(stderr, "not a UID: %s\n", argv[i]);
			return 2;
		}
		g_array_append_val(uids, uid);
	}

	struct config_account account = {
	    .name = "test",
	    .host = host,
	    .port = (uint16_t)port,
	    .security = g_strcmp0(security, "starttls") == 0 ? CONFIG_SECURITY_STARTTLS
	                                                     : CONFIG_SECURITY_TLS,
	    .username = username,
	    .auth = CONFIG_AUTH_AUTO,
	    .tls_ca_file = ca,
	};
	struct outcome outcome = {.loop = g_main_loop_new(NULL, FALSE), .status = 1};
	g_autoptr(secret) secret = secret_new(password);

	mark_read_start(&account, secret, folder, uidvalidity, (const uint32_t *)(void *)uids->data,
	                uids->len, trace, done_cb, &outcome);
	g_main_loop_run(outcome.loop);
	g_main_loop_unref(outcome.loop);
	if (outcome.calls != 1) {
		fprintf(stderr, "done() was called %u times\n", outcome.calls);
		return 1;
	}
	return outcome.status;
}
