/* SPDX-License-Identifier: MIT */
/*
 * imapwatch doctor: each account checked the way a watching connection
 * meets it, one step at a time — the password, DNS, then one connection
 * (TCP, TLS, the IMAP probe) — as far as the steps before allow. What is
 * printed is in doctor-report.c.
 */
#include "ctl/doctor-private.h"

#include "imapwatch/core/oauth.h"
#include "imapwatch/core/secret.h"

#include <string.h>

/* DNS, TCP and TLS: fails before the response timeout, with a better
 * message. */
#define CONNECT_TIMEOUT 20
/* One account, password to LOGOUT. */
#define DEADLINE 60
/* How much of a list is shown. */
#define ADDRESSES_SHOWN 4

static void account_next(struct doctor *d);

/* --- the account's connection -------------------------------------------- */

static gboolean account_done_cb(gpointer data)
{
	struct doctor *d = data;
	const struct config_account *a = d->account;

	d->done_source = 0;
	if (d->failures == 0) {
		fprintf(d->out, "account '%s': all checks passed\n\n", a->name);
	} else {
		d->failed_accounts++;
		fprintf(d->out, "account '%s': %u problem%s\n\n", a->name, d->failures,
		        d->failures == 1 ? "" : "s");
	}
	fflush(d->out);
	g_clear_pointer(&d->probe, imap_probe_destroy);
	g_clear_pointer(&d->link, link_destroy);
	d->stream = NULL;
	g_clear_pointer(&d->password, secret_free);
	g_clear_object(&d->cancellable);
	goa_imap_clear(&d->goa);
	g_clear_pointer(&d->goa_login, g_free);
	account_next(d);
	return G_SOURCE_REMOVE;
}

/* From the main loop, never from inside a callback of the probe or the
 * stream, which are destroyed there. */
static void account_done(struct doctor *d)
{
	if (d->done_source == 0) {
		d->done_source = g_idle_add(account_done_cb, d);
	}
}

/* The connection is over: say what the probe found. */
static void link_closed(struct link *link, bool failed, enum imap_failure failure,
                        const char *message, void *user_data)
{
	struct doctor *d = user_data;
	enum stream_error error = stream_get_error(d->stream);

	(void)link;
	(void)failed;
	(void)failure;
	(void)message;
	/* With STARTTLS the greeting comes before TLS. */
	bool tls_missing = d->account->security != CONFIG_SECURITY_NONE && !d->tls_reported;
	if (error != STREAM_ERROR_NONE && (!imap_probe_was_greeted(d->probe) || tls_missing)) {
		doctor_report_stream_error(d);
		account_done(d);
		return;
	}
	if (tls_missing && d->password == NULL) {
		doctor_report(d, DOCTOR_SKIP,
		              "TLS: not checked (STARTTLS follows the greeting, and "
		              "nothing is sent without a password)");
		account_done(d);
		return;
	}
	if (tls_missing) {
		g_autofree char *reason = doctor_safe(imap_probe_get_error(d->probe));

		doctor_report(d, DOCTOR_FAIL, "TLS: %s", reason);
		doctor_advise(
		    d,
		    "the server does not do STARTTLS on this port: use security = tls (port "
		    "993) in [account %s] if the server offers it",
		    d->account->name);
		account_done(d);
		return;
	}
	if (!imap_probe_was_greeted(d->probe)) {
		g_autofree char *reason = doctor_safe(imap_probe_get_error(d->probe));

		doctor_report(d, DOCTOR_FAIL, "IMAP: no greeting from the server: %s", reason);
		doctor_advise(d, "check port and security in [account %s]: is this an IMAP server?",
		              d->account->name);
		account_done(d);
		return;
	}
	doctor_report_capabilities(d);
	doctor_report_login(d);
	if (imap_probe_is_authenticated(d->probe)) {
		doctor_report_folders(d);
		if (imap_probe_get_error(d->probe) != NULL) {
			g_autofree char *reason = doctor_safe(imap_probe_get_error(d->probe));

			doctor_report(d, DOCTOR_FAIL, "connection: %s", reason);
			doctor_advise(
			    d, "run the check again; if it keeps failing, look at the network or "
			       "the server");
		}
	}
	account_done(d);
}

/* TCP and TLS are reported as they come up. */
static void link_stream_event(struct link *link, enum stream_event event, bool was_waiting,
                              void *user_data)
{
	struct doctor *d = user_data;

	(void)link;
	(void)was_waiting;
	switch (event) {
	case STREAM_EVENT_CONNECTED:
		doctor_report_tcp(d);
		if (d->account->security == CONFIG_SECURITY_TLS) {
			doctor_report_tls_ok(d);
		} else if (d->account->security == CONFIG_SECURITY_NONE) {
			doctor_report(d, DOCTOR_WARN,
			              "TLS: none (security = none): the password and mail "
			              "travel unencrypted");
		}
		return;
	case STREAM_EVENT_TLS_READY:
		doctor_report_tls_ok(d);
		return;
	default:
		return;
	}
}

static const struct link_ops link_ops = {
    .stream_event = link_stream_event,
    .closed = link_closed,
};

static void probe_finished(void *user_data)
{
	struct doctor *d = user_data;

	link_close(d->link, false, IMAP_FAILURE_TRANSIENT, NULL);
}

static const struct imap_probe_ops probe_ops = {
    .finished = probe_finished,
};

static void account_connect(struct doctor *d)
{
	const struct config_account *a = d->account;
	struct imap_probe_config config = {
	    .account = a,
	    .password = d->password,
	    .folders = (const char *const *)a->folders,
	    .stop_after_greeting = d->password == NULL,
	};
	g_autofree char *label = g_strdup_printf("%s doctor", a->name);

	d->link = link_create(a, label, false, CONNECT_TIMEOUT, &link_ops, d);
	d->stream = link_get_stream(d->link);
	d->probe = imap_probe_create(link_get_client(d->link), &config, &probe_ops, d);
	link_set_deadline(d->link, DEADLINE);
	link_start(d->link);
}

static void resolved_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	struct doctor *d = user_data;
	g_autoptr(GError) error = NULL;
	GList *addresses = g_resolver_lookup_by_name_finish(G_RESOLVER(source), result, &error);

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		return;
	}
	if (addresses == NULL) {
		g_autofree char *message = doctor_safe(error->message);

		doctor_report(d, DOCTOR_FAIL, "DNS: cannot resolve %s: %s", d->account->host,
		              message);
		doctor_advise(
		    d, "check host in [account %s] (spelling) and that this computer is online",
		    d->account->name);
		account_done(d);
		return;
	}
	g_autoptr(GString) list = g_string_new(NULL);
	guint n = 0;
	for (GList *l = addresses; l != NULL; l = l->next, n++) {
		if (n < ADDRESSES_SHOWN) {
			g_autofree char *text = g_inet_address_to_string(l->data);
			g_string_append_printf(list, "%s%s", n > 0 ? ", " : "", text);
		}
	}
	if (n > ADDRESSES_SHOWN) {
		g_string_append_printf(list, " and %u more", n - ADDRESSES_SHOWN);
	}
	g_resolver_free_addresses(addresses);
	doctor_report(d, DOCTOR_OK, "DNS: %s is %s", d->account->host, list->str);
	account_connect(d);
}

static void account_resolve(struct doctor *d)
{
	g_autoptr(GResolver) resolver = g_resolver_get_default();

	d->cancellable = g_cancellable_new();
	g_resolver_lookup_by_name_async(resolver, d->account->host, d->cancellable, resolved_cb, d);
}

static void password_cb(const char *password, const GError *error, void *user_data)
{
	struct doctor *d = user_data;

	d->password_request = NULL;
	if (password != NULL) {
		d->password = g_strdup(password);
		doctor_report(d, DOCTOR_OK, "password: from password_command (not shown)");
	} else {
		g_autofree char *message = doctor_safe(error->message);

		doctor_report(d, DOCTOR_FAIL, "password: %s", message);
		doctor_advise(
		    d,
		    "run password_command of [account %s] in a terminal: it must print the "
		    "password on its first line and exit with status 0",
		    d->account->name);
	}
	account_resolve(d);
}

static bool uses_token(const struct config_account *a)
{
	return a->auth == CONFIG_AUTH_XOAUTH2 || a->auth == CONFIG_AUTH_OAUTHBEARER;
}

/* A5: what the token command printed, read as the daemon reads it: the
 * token (never shown) and how long it is valid. */
static void token_cb(const char *output, const GError *error, void *user_data)
{
	struct doctor *d = user_data;
	struct oauth_token token = {0};
	g_autofree char *problem = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	d->password_request = NULL;
	if (output == NULL) {
		problem = doctor_safe(error->message);
	} else if (!oauth_token_parse(output, strlen(output), now, &token, &problem)) {
		g_autofree char *why = g_steal_pointer(&problem);

		problem = doctor_safe(why);
	}
	if (problem != NULL) {
		doctor_report(d, DOCTOR_FAIL, "token: %s", problem);
		doctor_advise(d,
		              "run password_command of [account %s] in a terminal: it must print "
		              "a current access token on its first line, or JSON with "
		              "\"access_token\", and exit with status 0",
		              d->account->name);
		account_resolve(d);
		return;
	}
	if (token.expires_at == 0) {
		doctor_report(d, DOCTOR_OK,
		              "token: from password_command (not shown), validity not given; it "
		              "runs again for every connection");
	} else if (token.expires_at <= now) {
		doctor_report(d, DOCTOR_WARN,
		              "token: from password_command (not shown), expired %" G_GINT64_FORMAT
		              " s ago",
		              now - token.expires_at);
		doctor_advise(d,
		              "the token command of [account %s] hands out an expired token: "
		              "let it refresh the token",
		              d->account->name);
	} else {
		doctor_report(
		    d, DOCTOR_OK,
		    "token: from password_command (not shown), valid for %" G_GINT64_FORMAT
		    " min more",
		    (token.expires_at - now) / 60);
	}
	d->password = g_strdup(token.access_token);
	oauth_token_clear(&token);
	account_resolve(d);
}

static void keyring_cb(const char *password, const GError *error, void *user_data)
{
	struct doctor *d = user_data;

	d->keyring_request = NULL;
	if (password != NULL) {
		d->password = g_strdup(password);
		doctor_report(d, DOCTOR_OK, "password: from the Secret Service (not shown)");
	} else {
		g_autofree char *message = doctor_safe(error->message);

		doctor_report(d, DOCTOR_FAIL, "password: %s", message);
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
			doctor_advise(d,
			              "look the item up with: secret-tool lookup followed by the "
			              "attributes of password_secret in [account %s] (spaces for "
			              "'=' and ';')",
			              d->account->name);
		} else {
			doctor_advise(d, "start a Secret Service in your session (GNOME Keyring, "
			                 "KeePassXC) or use password_command");
		}
	}
	account_resolve(d);
}

/* Doctor does not wait for an unlock: it says so and goes on without. */
static void keyring_locked_cb(void *user_data)
{
	struct doctor *d = user_data;

	keyring_request_cancel(d->keyring_request);
	d->keyring_request = NULL;
	doctor_report(d, DOCTOR_FAIL, "password: the keyring holding it is locked");
	doctor_advise(d, "unlock the keyring (log in to the desktop, or open Passwords and Keys); "
	                 "imapwatchd waits for it and connects then");
	account_resolve(d);
}

static void goa_credentials_cb(const char *secret, gint64 expires_at, const GError *error,
                               void *user_data)
{
	struct doctor *d = user_data;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	d->goa_request = NULL;
	if (secret == NULL) {
		g_autofree char *message = doctor_safe(error->message);

		doctor_report(d, DOCTOR_FAIL, "%s: %s", d->goa.oauth2 ? "token" : "password",
		              message);
		doctor_advise(d, "open Settings, Online Accounts and sign in to the account again");
	} else {
		d->password = g_strdup(secret);
		if (d->goa.oauth2 && expires_at > now) {
			doctor_report(d, DOCTOR_OK,
			              "token: from GNOME Online Accounts (not shown), valid for "
			              "%" G_GINT64_FORMAT " min more",
			              (expires_at - now) / 60);
		} else {
			doctor_report(d, DOCTOR_OK, "%s: from GNOME Online Accounts (not shown)",
			              d->goa.oauth2 ? "token" : "password");
		}
	}
	account_resolve(d);
}

/* goa_account: GOA's server and login stand in for the configuration's
 * for every check that follows. */
static void goa_found_cb(struct goa_imap *imap, const GError *error, void *user_data)
{
	struct doctor *d = user_data;

	d->goa_request = NULL;
	if (imap == NULL) {
		g_autofree char *message = doctor_safe(error->message);

		doctor_report(d, DOCTOR_FAIL, "GNOME Online Accounts: %s", message);
		doctor_advise(d,
		              "check goa_account in [account %s] against Settings, Online "
		              "Accounts",
		              d->account->name);
		account_done(d); /* no server to check */
		return;
	}
	d->goa = *imap;
	memset(imap, 0, sizeof(*imap));
	d->goa_login = goa_imap_login(d->account, &d->goa);
	d->account = d->goa_login;
	g_autofree char *user = doctor_safe(d->goa.username);
	doctor_report(d, DOCTOR_OK, "GNOME Online Accounts: %s port %u, security = %s, user '%s'",
	              d->goa.host, d->goa.port, config_security_name(d->goa.security), user);
	d->goa_request = goa_credentials_start(&d->goa, goa_credentials_cb, d);
}

static void account_start(struct doctor *d, const struct config_account *a)
{
	g_autofree char *user = doctor_safe(a->username);

	d->account = a;
	d->failures = 0;
	d->tcp_reported = false;
	d->tls_reported = false;
	if (a->goa_account != NULL) {
		fprintf(d->out, "[account %s] goa_account = %s\n", a->name, a->goa_account);
		fflush(d->out);
		d->goa_request = goa_lookup_start(a->goa_account, goa_found_cb, d);
		return;
	}
	fprintf(d->out, "[account %s] %s port %u, security = %s, user '%s'\n", a->name, a->host,
	        a->port, config_security_name(a->security), user);
	fflush(d->out);
	if (a->password != NULL) {
		d->password = g_strdup(a->password);
		doctor_report(d, DOCTOR_OK, "password: set in the config file (not shown)");
		account_resolve(d);
		return;
	}
	if (a->password_secret != NULL) {
		d->keyring_request =
		    keyring_request_start(a->password_secret, keyring_cb, keyring_locked_cb, d);
		return;
	}
	if (uses_token(a)) {
		d->password_request = password_request_start_output(
		    a->password_command, d->config->password_timeout, token_cb, d);
		return;
	}
	d->password_request = password_request_start(a->password_command,
	                                             d->config->password_timeout, password_cb, d);
}

static void account_next(struct doctor *d)
{
	if (d->next >= d->accounts->len) {
		g_main_loop_quit(d->loop);
		return;
	}
	account_start(d, d->accounts->pdata[d->next++]);
}

/* --- entry point ------------------------------------------------------------ */

int doctor_run(const char *config_path, const char *account, FILE *out)
{
	g_autofree char *path = config_path != NULL ? g_strdup(config_path) : config_default_path();
	g_autoptr(GError) error = NULL;
	g_autoptr(config) config = config_load_file(path, &error);

	if (config == NULL) {
		fprintf(out, "the configuration is not valid: %s\n", error->message);
		fprintf(out, "fix it first; imapwatchd --check-config shows the accounts once it "
		             "is valid\n");
		return 1;
	}
	fprintf(out, "configuration: %s is valid\n", path);
	if (config_password_readable(config)) {
		/* The lines of doctor_report() and doctor_advise(). */
		fprintf(out,
		        "  warn  it holds a password and other users can read it (mode %04o)\n"
		        "          fix: chmod 600 %s (or move the password to password_command "
		        "or password_secret)\n",
		        config->file_mode, path);
	}
	fputc('\n', out);

	struct doctor d = {
	    .out = out,
	    .config = config,
	    .accounts = g_ptr_array_new(),
	};
	for (guint i = 0; i < config->accounts->len; i++) {
		const struct config_account *a = config->accounts->pdata[i];

		if (account == NULL || strcmp(a->name, account) == 0) {
			g_ptr_array_add(d.accounts, (gpointer)a);
		}
	}
	if (d.accounts->len == 0) {
		g_autoptr(GString) names = g_string_new(NULL);

		for (guint i = 0; i < config->accounts->len; i++) {
			const struct config_account *a = config->accounts->pdata[i];
			g_string_append_printf(names, "%s%s", i > 0 ? ", " : "", a->name);
		}
		fprintf(out, "there is no [account %s] in %s; its accounts are: %s\n", account,
		        path, names->str);
		g_ptr_array_unref(d.accounts);
		return 1;
	}

	d.loop = g_main_loop_new(NULL, FALSE);
	account_next(&d);
	g_main_loop_run(d.loop);
	g_main_loop_unref(d.loop);
	g_ptr_array_unref(d.accounts);
	stream_flush_tls_cache();

	if (d.failed_accounts == 0) {
		fprintf(out, "everything looks good\n");
		return 0;
	}
	fprintf(out, "%u of %u account%s need%s attention\n", d.failed_accounts, d.next,
	        d.next == 1 ? "" : "s", d.failed_accounts == 1 ? "s" : "");
	return 1;
}
