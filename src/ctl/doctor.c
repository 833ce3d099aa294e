/* SPDX-License-Identifier: MIT */
#include "imapwatch/ctl/doctor.h"

#include "imapwatch/core/config.h"
#include "imapwatch/core/imap-probe.h"
#include "imapwatch/core/secret.h"
#include "imapwatch/io/link.h"
#include "imapwatch/io/password.h"

#include <gio/gio.h>
#include <string.h>

/* DNS, TCP and TLS: fails before the response timeout, with a better
 * message. */
#define CONNECT_TIMEOUT 20
/* One account, password to LOGOUT. */
#define DEADLINE 60
/* A certificate this close to its end gets a warning. */
#define EXPIRY_WARNING_DAYS 14
/* How much of a list is shown. */
#define ADDRESSES_SHOWN 4
#define MAILBOXES_SHOWN 25

enum mark {
	MARK_OK,
	MARK_WARN,
	MARK_FAIL,
	MARK_SKIP,
};

static const char *const mark_names[] = {
    [MARK_OK] = "ok  ",
    [MARK_WARN] = "warn",
    [MARK_FAIL] = "FAIL",
    [MARK_SKIP] = "skip",
};

struct doctor {
	GMainLoop *loop;
	FILE *out;
	const struct config *config;
	GPtrArray *accounts; /* const struct config_account *, borrowed */
	guint next;          /* index of the next account to check */
	guint failed_accounts;

	/* The account being checked. */
	const struct config_account *account;
	unsigned failures;
	char *password; /* wiped on free */
	struct password_request *password_request;
	GCancellable *cancellable;
	struct link *link;
	const struct stream *stream; /* the link's */
	struct imap_probe *probe;
	bool tcp_reported;
	bool tls_reported;
	guint done_source;
};

static void account_next(struct doctor *d);

/* --- output -------------------------------------------------------------- */

/* Text from servers and certificates goes to a terminal: no control or
 * bidi formatting characters, valid UTF-8. New string. */
static char *safe(const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	GString *out = g_string_new(NULL);

	for (const char *c = valid; *c != '\0'; c = g_utf8_next_char(c)) {
		gunichar u = g_utf8_get_char(c);

		if (g_unichar_iscntrl(u) || g_unichar_type(u) == G_UNICODE_FORMAT) {
			g_string_append_c(out, '?');
		} else {
			g_string_append_unichar(out, u);
		}
	}
	return g_string_free(out, FALSE);
}

/* One output line: the prefix, then the formatted text. */
G_GNUC_PRINTF(3, 0)
static void print_line(struct doctor *d, const char *prefix, const char *fmt, va_list ap)
{
	g_autofree char *line = g_strdup_vprintf(fmt, ap);

	fprintf(d->out, "%s%s\n", prefix, line);
	fflush(d->out);
}

G_GNUC_PRINTF(3, 4)
static void report(struct doctor *d, enum mark mark, const char *fmt, ...)
{
	g_autofree char *prefix = g_strdup_printf("  %s  ", mark_names[mark]);
	va_list ap;

	if (mark == MARK_FAIL) {
		d->failures++;
	}
	va_start(ap, fmt);
	print_line(d, prefix, fmt, ap);
	va_end(ap);
}

/* A detail under the previous line. */
G_GNUC_PRINTF(2, 3)
static void detail(struct doctor *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line(d, "          ", fmt, ap);
	va_end(ap);
}

/* What to change, under a failure or warning. */
G_GNUC_PRINTF(2, 3)
static void advise(struct doctor *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line(d, "          fix: ", fmt, ap);
	va_end(ap);
}

static const char *password_key(const struct config_account *a)
{
	return a->password_command != NULL ? "password_command" : "password";
}

/* --- TCP and TLS ----------------------------------------------------------- */

static void report_tcp(struct doctor *d)
{
	const char *address = stream_get_peer_address(d->stream);

	if (d->tcp_reported || address == NULL) {
		return;
	}
	d->tcp_reported = true;
	report(d, MARK_OK, "TCP: connected to %s port %u", address, d->account->port);
}

static void report_certificate(struct doctor *d, const struct stream_certificate_info *cert)
{
	detail(d, "certificate: %s", cert->subject);
	detail(d, "issued by: %s", cert->issuer);
	detail(d, "valid for: %s", cert->names);
	if (cert->not_after_unix != 0) {
		gint64 days = (cert->not_after_unix - g_get_real_time() / G_USEC_PER_SEC) / 86400;
		detail(d, "valid until: %s (%" G_GINT64_FORMAT " days from now)", cert->not_after,
		       days);
	} else {
		detail(d, "valid until: %s", cert->not_after);
	}
	detail(d, "verification: %s",
	       cert->verify == STREAM_VERIFY_OK ? "ok (chain and host name verified)"
	                                        : cert->verify_reason);
}

static void report_tls_ok(struct doctor *d)
{
	const struct stream_certificate_info *cert = stream_get_peer_certificate(d->stream);

	if (d->tls_reported) {
		return;
	}
	d->tls_reported = true;
	report(d, MARK_OK, "TLS: %s%s", stream_get_tls_description(d->stream),
	       d->account->security == CONFIG_SECURITY_STARTTLS ? " (after STARTTLS)" : "");
	if (cert == NULL) {
		return;
	}
	report_certificate(d, cert);
	if (cert->not_after_unix != 0) {
		gint64 left = cert->not_after_unix - g_get_real_time() / G_USEC_PER_SEC;
		if (left < (gint64)EXPIRY_WARNING_DAYS * 86400) {
			report(d, MARK_WARN,
			       "the server's certificate expires in less than %d days",
			       EXPIRY_WARNING_DAYS);
			advise(d, "tell the server's administrator to renew it");
		}
	}
}

static void advise_certificate(struct doctor *d, const struct stream_certificate_info *cert)
{
	const char *name = d->account->name;

	switch (cert->verify) {
	case STREAM_VERIFY_UNTRUSTED:
		if (d->account->tls_ca_file != NULL) {
			advise(d,
			       "the certificate is not signed by a CA this computer trusts, nor by "
			       "the one in tls_ca_file (%s): set tls_ca_file in [account %s] to "
			       "the CA that issued it, or check the server's certificate",
			       d->account->tls_ca_file, name);
		} else {
			advise(
			    d,
			    "the certificate is not signed by a CA this computer trusts: if the "
			    "server uses its own CA, set tls_ca_file = /path/to/that-ca.pem in "
			    "[account %s]; otherwise check the server's certificate (someone may "
			    "be intercepting the connection)",
			    name);
		}
		return;
	case STREAM_VERIFY_NAME_MISMATCH:
		advise(d,
		       "set host in [account %s] to a name the certificate is valid for (%s), "
		       "or have the server's certificate fixed",
		       name, cert->names);
		return;
	case STREAM_VERIFY_EXPIRED:
		advise(d, "the server's certificate expired on %s: its administrator must renew it",
		       cert->not_after);
		return;
	case STREAM_VERIFY_NOT_YET_VALID:
		advise(d, "check this computer's date and time");
		return;
	default:
		advise(d, "check the server's certificate (%s)", cert->verify_reason);
		return;
	}
}

/* The stream failed before the IMAP session could end; say where. */
static void report_stream_error(struct doctor *d)
{
	const struct config_account *a = d->account;
	g_autofree char *message = safe(stream_get_error_message(d->stream));
	const struct stream_certificate_info *cert = stream_get_peer_certificate(d->stream);

	report_tcp(d);
	switch (stream_get_error(d->stream)) {
	case STREAM_ERROR_RESOLVE:
		report(d, MARK_FAIL, "DNS: %s", message);
		advise(d, "check host in [account %s] and that this computer is online", a->name);
		return;
	case STREAM_ERROR_CONNECT:
	case STREAM_ERROR_TIMEOUT:
		if (!d->tcp_reported) {
			report(d, MARK_FAIL, "TCP: %s", message);
			advise(d,
			       "check host and port in [account %s] (the usual ports: 993 for "
			       "security = tls, 143 for starttls) and that no firewall blocks the "
			       "connection",
			       a->name);
			return;
		}
		report(d, MARK_FAIL, "TLS: %s", message);
		advise(d,
		       "the server did not complete a TLS handshake: check security and port in "
		       "[account %s] (security = tls expects TLS from the first byte, usually on "
		       "port 993; port 143 needs security = starttls)",
		       a->name);
		return;
	case STREAM_ERROR_CERTIFICATE:
		report(d, MARK_FAIL, "TLS: %s", message);
		if (cert == NULL) {
			advise(d,
			       "fix tls_ca_file in [account %s]: it must name a readable PEM file",
			       a->name);
			return;
		}
		report_certificate(d, cert);
		advise_certificate(d, cert);
		return;
	case STREAM_ERROR_TLS:
		report(d, MARK_FAIL, "TLS: %s", message);
		advise(d,
		       "check security and port in [account %s]: security = tls expects TLS from "
		       "the first byte (usually port 993); port 143 needs security = starttls",
		       a->name);
		return;
	default:
		report(d, MARK_FAIL, "connection: %s", message);
		advise(d, "run the check again; if it keeps failing, look at the network or the "
		          "server");
		return;
	}
}

/* --- IMAP results ---------------------------------------------------------- */

static const char *yes_no(const struct imap_client *client, enum imap_cap cap)
{
	return imap_client_has_cap(client, cap) ? "yes" : "no";
}

static void report_capabilities(struct doctor *d)
{
	const struct imap_client *client = link_get_client(d->link);
	bool after_login = imap_probe_is_authenticated(d->probe);
	g_autofree char *mechanisms = safe(imap_client_get_auth_mechanisms(client));

	report(d, MARK_OK, "capabilities%s: IDLE %s, NOTIFY %s, QRESYNC %s, CONDSTORE %s",
	       after_login ? "" : " (before login)", yes_no(client, IMAP_CAP_IDLE),
	       yes_no(client, IMAP_CAP_NOTIFY), yes_no(client, IMAP_CAP_QRESYNC),
	       yes_no(client, IMAP_CAP_CONDSTORE));
	detail(d, "authentication mechanisms: %s",
	       mechanisms[0] != '\0' ? mechanisms : "none announced");
	if (after_login && !imap_client_has_cap(client, IMAP_CAP_IDLE)) {
		report(d, MARK_WARN,
		       "the server has no IDLE: imapwatch checks the folders on a "
		       "timer, so new mail shows up with a delay");
	}
}

static void report_login(struct doctor *d)
{
	const struct config_account *a = d->account;
	g_autofree char *error = safe(imap_probe_get_error(d->probe));
	g_autofree char *user = safe(a->username);

	if (d->password == NULL) {
		report(d, MARK_SKIP, "login: not tried without a password");
		return;
	}
	if (imap_probe_is_authenticated(d->probe)) {
		report(d, MARK_OK, "login: accepted for user '%s' (auth = %s)", user,
		       config_auth_name(a->auth));
		return;
	}
	if (imap_probe_credentials_rejected(d->probe)) {
		bool token = a->auth == CONFIG_AUTH_XOAUTH2 || a->auth == CONFIG_AUTH_OAUTHBEARER;

		report(d, MARK_FAIL, "login: the server rejected the %s for user '%s'",
		       token ? "access token" : "password", user);
		detail(d, "%s", error);
		if (token) {
			advise(d,
			       "check that %s in [account %s] prints a current access token, and "
			       "username",
			       password_key(a), a->name);
		} else {
			advise(d, "check %s and username in [account %s]", password_key(a),
			       a->name);
		}
		return;
	}
	report(d, MARK_FAIL, "login: %s", error);
	advise(d, "check security, auth and username in [account %s]", a->name);
}

/* Folder names the server has, for the advice: "INBOX, Sent, ... and 3
 * more". */
static char *describe_mailboxes(const struct imap_probe *probe)
{
	size_t n = 0;
	const char *const *names = imap_probe_get_mailboxes(probe, &n);
	GString *out = g_string_new(NULL);

	for (size_t i = 0; i < n && i < MAILBOXES_SHOWN; i++) {
		g_autofree char *name = safe(names[i]);

		g_string_append_printf(out, "%s%s", i > 0 ? ", " : "", name);
	}
	if (n > MAILBOXES_SHOWN) {
		g_string_append_printf(out, " and %zu more", n - MAILBOXES_SHOWN);
	}
	if (n == 0) {
		g_string_append(out, "no folders at all");
	}
	return g_string_free(out, FALSE);
}

/* A configured "Lists/dev" on a server that separates levels with '.'. */
static char *respelled(const struct imap_probe *probe, const char *folder)
{
	char separator = imap_probe_get_separator(probe);
	const char *const *names = imap_probe_get_mailboxes(probe, NULL);

	if (separator == '\0' || separator == '/' || strchr(folder, '/') == NULL) {
		return NULL;
	}
	g_autofree char *candidate = g_strdup(folder);
	g_strdelimit(candidate, "/", separator);
	return g_strv_contains(names, candidate) ? g_steal_pointer(&candidate) : NULL;
}

static void report_folders(struct doctor *d)
{
	const struct config_account *a = d->account;

	for (size_t i = 0; i < imap_probe_get_n_folders(d->probe); i++) {
		const struct imap_probe_folder *f = imap_probe_get_folder(d->probe, i);
		g_autofree char *name = safe(f->name);

		if (f->examined) {
			report(d, MARK_OK, "folder '%s': exists, %u message%s", name, f->exists,
			       f->exists == 1 ? "" : "s");
		} else if (!imap_probe_has_list(d->probe)) {
			report(d, MARK_SKIP, "folder '%s': not checked", name);
		} else if (!f->listed) {
			g_autofree char *has = describe_mailboxes(d->probe);
			g_autofree char *other = respelled(d->probe, f->name);

			report(d, MARK_FAIL, "folder '%s' does not exist; the server has: %s", name,
			       has);
			if (other != NULL) {
				g_autofree char *shown = safe(other);
				advise(
				    d,
				    "this server separates folder levels with '%c': write '%s' in "
				    "folders of [account %s]",
				    imap_probe_get_separator(d->probe), shown, a->name);
			} else {
				advise(d, "fix folders in [account %s]: use the names above",
				       a->name);
			}
		} else if (f->noselect) {
			report(d, MARK_FAIL,
			       "folder '%s' cannot be opened: it only holds other folders", name);
			advise(d, "list the folders below it in folders of [account %s] instead",
			       a->name);
		} else {
			g_autofree char *error = safe(f->error);

			report(d, MARK_FAIL, "folder '%s' exists but cannot be opened: %s", name,
			       error);
			advise(d, "check the folder's permissions on the server");
		}
	}
}

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
		report_stream_error(d);
		account_done(d);
		return;
	}
	if (tls_missing && d->password == NULL) {
		report(d, MARK_SKIP,
		       "TLS: not checked (STARTTLS follows the greeting, and "
		       "nothing is sent without a password)");
		account_done(d);
		return;
	}
	if (tls_missing) {
		g_autofree char *reason = safe(imap_probe_get_error(d->probe));

		report(d, MARK_FAIL, "TLS: %s", reason);
		advise(d,
		       "the server does not do STARTTLS on this port: use security = tls (port "
		       "993) in [account %s] if the server offers it",
		       d->account->name);
		account_done(d);
		return;
	}
	if (!imap_probe_was_greeted(d->probe)) {
		g_autofree char *reason = safe(imap_probe_get_error(d->probe));

		report(d, MARK_FAIL, "IMAP: no greeting from the server: %s", reason);
		advise(d, "check port and security in [account %s]: is this an IMAP server?",
		       d->account->name);
		account_done(d);
		return;
	}
	report_capabilities(d);
	report_login(d);
	if (imap_probe_is_authenticated(d->probe)) {
		report_folders(d);
		if (imap_probe_get_error(d->probe) != NULL) {
			g_autofree char *reason = safe(imap_probe_get_error(d->probe));

			report(d, MARK_FAIL, "connection: %s", reason);
			advise(d,
			       "run the check again; if it keeps failing, look at the network or "
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
		report_tcp(d);
		if (d->account->security == CONFIG_SECURITY_TLS) {
			report_tls_ok(d);
		} else if (d->account->security == CONFIG_SECURITY_NONE) {
			report(d, MARK_WARN,
			       "TLS: none (security = none): the password and mail "
			       "travel unencrypted");
		}
		return;
	case STREAM_EVENT_TLS_READY:
		report_tls_ok(d);
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
		g_autofree char *message = safe(error->message);

		report(d, MARK_FAIL, "DNS: cannot resolve %s: %s", d->account->host, message);
		advise(d, "check host in [account %s] (spelling) and that this computer is online",
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
	report(d, MARK_OK, "DNS: %s is %s", d->account->host, list->str);
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
		report(d, MARK_OK, "password: from password_command (not shown)");
	} else {
		g_autofree char *message = safe(error->message);

		report(d, MARK_FAIL, "password: %s", message);
		advise(d,
		       "run password_command of [account %s] in a terminal: it must print the "
		       "password on its first line and exit with status 0",
		       d->account->name);
	}
	account_resolve(d);
}

static void account_start(struct doctor *d, const struct config_account *a)
{
	g_autofree char *user = safe(a->username);

	d->account = a;
	d->failures = 0;
	d->tcp_reported = false;
	d->tls_reported = false;
	fprintf(d->out, "[account %s] %s port %u, security = %s, user '%s'\n", a->name, a->host,
	        a->port, config_security_name(a->security), user);
	fflush(d->out);
	if (a->password != NULL) {
		d->password = g_strdup(a->password);
		report(d, MARK_OK, "password: set in the config file (not shown)");
		account_resolve(d);
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
	fprintf(out, "configuration: %s is valid\n\n", path);

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
