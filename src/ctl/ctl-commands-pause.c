/* SPDX-License-Identifier: MIT */
/*
 * imapwatch pause [DURATION] and imapwatch resume: desktop notifications
 * held back (no popups, no sounds) for a while or until resumed; and the
 * line of imapwatch status that says so.
 */
#include "ctl/ctl-commands-private.h"

#include "imapwatch/core/config.h"

#include <stdio.h>

#define PROPERTIES_GET "org.freedesktop.DBus.Properties.Get"
#define INTERFACE      "org.imapwatch.Daemon1"

/* "2026-12-07 15:42" in local time. */
static char *local_time_text(gint64 when)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(when);

	return t != NULL ? g_date_time_format(t, "%Y-%m-%d %H:%M") : g_strdup("?");
}

/* "paused until …" for PausedUntil (-1, or Unix seconds > 0). */
static char *paused_text(gint64 paused_until)
{
	g_autofree char *when = NULL;

	if (paused_until < 0) {
		return g_strdup("paused until 'imapwatch resume'");
	}
	when = local_time_text(paused_until);
	return g_strdup_printf("paused until %s", when);
}

/* The value of one property of the daemon's interface, or NULL (said). */
static GVariant *get_property(struct ctl_client *client, const char *name, int *code)
{
	g_autoptr(GVariant) reply =
	    ctl_client_call(client, PROPERTIES_GET, g_variant_new("(ss)", INTERFACE, name),
	                    CTL_CALL_TIMEOUT_MS, code);
	GVariant *value = NULL;

	if (reply != NULL) {
		g_variant_get(reply, "(v)", &value);
	}
	return value;
}

/* What holds notifications back, as a status dictionary says it
 * (paused_until, quiet): "paused until …, quiet hours", or NULL. */
static char *reasons_text(GVariant *status)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree const char **quiet = NULL;
	gint64 paused_until = 0;

	g_variant_lookup(status, "paused_until", "x", &paused_until);
	g_variant_lookup(status, "quiet", "^a&s", &quiet);
	if (paused_until != 0) {
		g_autofree char *paused = paused_text(paused_until);

		g_string_append(out, paused);
	}
	for (gsize i = 0; quiet != NULL && quiet[i] != NULL; i++) {
		const char *what = NULL;

		if (g_str_equal(quiet[i], "quiet-hours")) {
			what = "quiet hours";
		} else if (g_str_equal(quiet[i], "do-not-disturb")) {
			what = "the desktop's Do Not Disturb";
		}
		if (what != NULL) {
			g_string_append_printf(out, "%s%s", out->len > 0 ? ", " : "", what);
		}
	}
	return out->len > 0 ? g_strdup(out->str) : NULL;
}

char *ctl_commands_quiet_text(GVariant *status)
{
	g_autofree char *reasons = reasons_text(status);

	return reasons != NULL ? g_strdup_printf("Notifications held back: %s\n", reasons) : NULL;
}

int ctl_commands_pause(int argc, char **argv)
{
	GOptionEntry entries[] = {G_OPTION_ENTRY_NULL};
	guint seconds = 0;
	int code = CTL_EXIT_OK;

	if (!ctl_commands_parse_options("pause", &argc, &argv, entries, 1,
	                                "takes at most one DURATION")) {
		return CTL_EXIT_USAGE;
	}
	if (argc == 2 && (!config_parse_duration(argv[1], &seconds) || seconds == 0)) {
		g_autofree char *message = g_strdup_printf(
		    "'%s' is not a duration; write it with a unit, like 30m, 1h or 1h30m (leave it "
		    "out to pause until 'imapwatch resume')",
		    argv[1]);

		return ctl_commands_usage_error("pause", NULL, message);
	}
	struct ctl_client *client = ctl_client_connect(false, &code);
	if (client == NULL) {
		return code;
	}
	g_autoptr(GVariant) reply = ctl_client_call(client, "Pause", g_variant_new("(u)", seconds),
	                                            CTL_CALL_TIMEOUT_MS, &code);
	g_autoptr(GVariant) until =
	    reply != NULL ? get_property(client, "PausedUntil", &code) : NULL;
	ctl_client_free(client);
	if (until == NULL) {
		return code;
	}
	g_autofree char *paused = paused_text(g_variant_get_int64(until));
	g_autofree char *text = g_strdup_printf(
	    "Notifications %s: no popups and no sounds; mail is still watched.\n", paused);
	return ctl_commands_print_out(text) ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}

int ctl_commands_resume(int argc, char **argv)
{
	GOptionEntry entries[] = {G_OPTION_ENTRY_NULL};
	int code = CTL_EXIT_OK;

	if (!ctl_commands_parse_options("resume", &argc, &argv, entries, 0, "takes no arguments")) {
		return CTL_EXIT_USAGE;
	}
	struct ctl_client *client = ctl_client_connect(false, &code);
	if (client == NULL) {
		return code;
	}
	g_autoptr(GVariant) reply =
	    ctl_client_call(client, "Resume", NULL, CTL_CALL_TIMEOUT_MS, &code);
	g_autoptr(GVariant) quiet = reply != NULL ? get_property(client, "Quiet", &code) : NULL;
	ctl_client_free(client);
	if (quiet == NULL) {
		return code;
	}
	/* Quiet hours or the desktop's Do Not Disturb may still hold them. */
	g_autoptr(GVariantBuilder) builder = g_variant_builder_new(G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(builder, "{sv}", "quiet", quiet);
	g_autoptr(GVariant) status = g_variant_ref_sink(g_variant_builder_end(builder));
	g_autofree char *still = reasons_text(status);
	g_autofree char *text =
	    still != NULL ? g_strdup_printf("Notifications resumed; still held back: %s.\n", still)
	                  : g_strdup("Notifications resumed.\n");
	return ctl_commands_print_out(text) ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}
