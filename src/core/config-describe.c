/* SPDX-License-Identifier: MIT */
/*
 * What --check-config prints: the config as the daemon will use it, every
 * default resolved, where each password comes from (never the password).
 */
#include "core/config-private.h"

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

/* As openssl x509 -fingerprint prints it, with what it means. */
static void describe_fingerprint(GString *out, const struct config_account *a)
{
	if (!a->has_tls_fingerprint) {
		g_string_append(
		    out, a->security == CONFIG_SECURITY_NONE
		             ? "  tls_fingerprint: (not set)\n"
		             : "  tls_fingerprint: (not set; chain and host name verified)\n");
		return;
	}
	g_string_append(out, "  tls_fingerprint: sha256:");
	for (size_t i = 0; i < CONFIG_FINGERPRINT_LEN; i++) {
		g_string_append_printf(out, "%s%02X", i > 0 ? ":" : "", a->tls_fingerprint[i]);
	}
	g_string_append(out, " (only this certificate; chain and host name not checked)\n");
}

static void describe_hooks(GString *out, char *const *hooks,
                           const struct config_hook_timing *timing)
{
	g_autofree char *delay = config_format_duration(timing->delay);
	g_autofree char *max_delay = config_format_duration(timing->max_delay);
	g_autofree char *timeout = config_format_duration(timing->timeout);

	bool any = hooks == NULL;

	/* An account shows the hooks it has, with their timing. */
	for (guint h = 0; hooks != NULL && h < CONFIG_HOOK_N; h++) {
		if (hooks[h] != NULL) {
			g_string_append_printf(out, "  %s: %s\n", config_hook_names[h], hooks[h]);
			any = true;
		}
	}
	if (!any) {
		return;
	}
	g_string_append_printf(out, "  hook_delay: %s\n  hook_max_delay: %s\n  hook_timeout: %s\n",
	                       delay, max_delay, timeout);
}

static void describe_rules(GString *out, const struct config *cfg)
{
	for (guint i = 0; i < cfg->rules->len; i++) {
		const struct config_rule *r = cfg->rules->pdata[i];

		g_string_append_printf(out, "\n[rule %s]\n", r->name);
		g_string_append_printf(out, "  account: %s\n  folder: %s\n  from: %s\n",
		                       r->account ? r->account : "(any)",
		                       r->folder ? r->folder : "(any)",
		                       r->from ? r->from : "(any)");
		if (r->notify >= 0) {
			g_string_append_printf(out, "  notify: %s\n", r->notify ? "true" : "false");
		}
		if (r->urgency >= 0) {
			g_string_append_printf(
			    out, "  urgency: %s\n",
			    config_urgency_name((enum config_urgency)r->urgency));
		}
		if (r->content >= 0) {
			g_string_append_printf(
			    out, "  content: %s\n",
			    config_content_name((enum config_content)r->content));
		}
		if (r->sound != NULL) {
			g_string_append_printf(out, "  sound: %s\n", r->sound);
		}
		for (guint h = 0; h < CONFIG_HOOK_STATE; h++) {
			if (r->hooks[h] != NULL) {
				g_string_append_printf(out, "  %s: %s\n", config_hook_names[h],
				                       r->hooks[h]);
			}
		}
	}
}

char *config_describe(const struct config *cfg)
{
	GString *out = g_string_new(NULL);

	g_string_append_printf(out, "config file: %s\n\n[daemon]\n", cfg->path);
	g_string_append_printf(out, "  notifications: %s\n", cfg->notifications ? "true" : "false");
	g_string_append_printf(out, "  startup: %s\n", config_startup_name(cfg->startup));
	describe_duration(out, "idle_refresh", cfg->idle_refresh);
	describe_duration(out, "poll_interval", cfg->poll_interval);
	describe_duration(out, "password_timeout", cfg->password_timeout);
	g_string_append_printf(out, "  notify_max: %u\n", cfg->notify_max);
	g_string_append_printf(out, "  notification_sound: %s\n",
	                       cfg->notification_sound ? "true" : "false");
	g_string_append_printf(out, "  notification_content: %s\n",
	                       config_content_name(cfg->notification_content));
	g_string_append_printf(out, "  mailnag_compat: %s\n",
	                       cfg->mailnag_compat ? "true" : "false");
	if (cfg->has_quiet_hours) {
		g_string_append_printf(out, "  quiet_hours: %02u:%02u-%02u:%02u\n",
		                       cfg->quiet_start / 60, cfg->quiet_start % 60,
		                       cfg->quiet_end / 60, cfg->quiet_end % 60);
	} else {
		g_string_append(out, "  quiet_hours: (not set)\n");
	}
	describe_hooks(out, NULL, &cfg->hook_timing);

	for (guint i = 0; i < cfg->accounts->len; i++) {
		const struct config_account *a = cfg->accounts->pdata[i];

		g_string_append_printf(out, "\n[account %s]\n", a->name);
		g_string_append(out, a->disabled ? "  enabled: false (not watched: no connection, "
		                                   "no password looked up)\n"
		                                 : "  enabled: true\n");
		if (a->goa_account != NULL) {
			g_string_append_printf(
			    out,
			    "  goa_account: %s (server, port, security and username "
			    "from GNOME Online Accounts)\n",
			    a->goa_account);
		} else {
			g_string_append_printf(out, "  host: %s\n", a->host);
			g_string_append_printf(out, "  port: %u\n", a->port);
			g_string_append_printf(out, "  security: %s%s\n",
			                       config_security_name(a->security),
			                       a->security == CONFIG_SECURITY_NONE
			                           ? " (plaintext allowed by allow_plaintext)"
			                           : "");
			g_string_append_printf(out, "  username: %s\n", a->username);
		}
		g_string_append_printf(out, "  auth: %s\n", config_auth_name(a->auth));
		describe_folders(out, "folders", a->folders);
		g_string_append_printf(out, "  tls_ca_file: %s\n",
		                       a->tls_ca_file ? a->tls_ca_file
		                                      : "(not set; system trust store only)");
		describe_fingerprint(out, a);
		describe_duration(out, "idle_refresh", a->idle_refresh);
		describe_duration(out, "poll_interval", a->poll_interval);
		g_string_append_printf(out, "  max_connections: %u\n", a->max_connections);
		g_string_append_printf(out, "  notify: %s\n", a->notify ? "true" : "false");
		if (a->notify_folders) {
			describe_folders(out, "notify_folders", a->notify_folders);
		} else {
			g_string_append(out, "  notify_folders: (not set; every watched folder)\n");
		}
		g_string_append_printf(out, "  open_command: %s\n",
		                       a->open_command ? a->open_command
		                                       : "(not set; the default mail client)");
		describe_hooks(out, a->hooks, &a->hook_timing);
		if (a->goa_account) {
			g_string_append_printf(
			    out,
			    "  password: from GNOME Online Accounts (goa_account = "
			    "%s), with the server and the login\n",
			    a->goa_account);
		} else if (a->password_command) {
			g_string_append_printf(out, "  password: from command: %s\n",
			                       a->password_command);
		} else if (a->password_secret) {
			g_autofree char *joined = config_secret_attributes_text(a->password_secret);

			g_string_append_printf(out, "  password: from the Secret Service: %s\n",
			                       joined);
		} else {
			g_string_append(out, "  password: (set in config file)\n");
		}
	}
	describe_rules(out, cfg);
	return g_string_free(out, FALSE);
}
