/* SPDX-License-Identifier: MIT */
/*
 * What the doctor prints: one line per check (ok, warn, FAIL, skip), the
 * details under it, and what to change — for TCP, TLS and the certificate,
 * the capabilities, the login and each configured folder.
 */
#include "ctl/doctor-private.h"

#include <string.h>

/* A certificate this close to its end gets a warning. */
#define EXPIRY_WARNING_DAYS 14
/* How much of a list is shown. */
#define MAILBOXES_SHOWN 25

static const char *const mark_names[] = {
    [DOCTOR_OK] = "ok  ",
    [DOCTOR_WARN] = "warn",
    [DOCTOR_FAIL] = "FAIL",
    [DOCTOR_SKIP] = "skip",
};

/* Text from servers and certificates goes to a terminal: no control or
 * bidi formatting characters, valid UTF-8. New string. */
char *doctor_safe(const char *text)
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
void doctor_report(struct doctor *d, enum doctor_mark mark, const char *fmt, ...)
{
	g_autofree char *prefix = g_strdup_printf("  %s  ", mark_names[mark]);
	va_list ap;

	if (mark == DOCTOR_FAIL) {
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
void doctor_advise(struct doctor *d, const char *fmt, ...)
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

void doctor_report_tcp(struct doctor *d)
{
	const char *address = stream_get_peer_address(d->stream);

	if (d->tcp_reported || address == NULL) {
		return;
	}
	d->tcp_reported = true;
	doctor_report(d, DOCTOR_OK, "TCP: connected to %s port %u", address, d->account->port);
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
	if (cert->sha256 != NULL) {
		detail(d, "fingerprint: %s", cert->sha256);
	}
	if (d->account->has_tls_fingerprint) {
		/* Pinned: the chain and the name are not what decides (T7). */
		detail(d, "verification: %s",
		       stream_get_error(d->stream) == STREAM_ERROR_CERTIFICATE
		           ? "not the certificate tls_fingerprint pins"
		           : "ok (the certificate tls_fingerprint pins; chain and host name not "
		             "checked)");
		return;
	}
	detail(d, "verification: %s",
	       cert->verify == STREAM_VERIFY_OK ? "ok (chain and host name verified)"
	                                        : cert->verify_reason);
}

void doctor_report_tls_ok(struct doctor *d)
{
	const struct stream_certificate_info *cert = stream_get_peer_certificate(d->stream);

	if (d->tls_reported) {
		return;
	}
	d->tls_reported = true;
	doctor_report(d, DOCTOR_OK, "TLS: %s%s", stream_get_tls_description(d->stream),
	              d->account->security == CONFIG_SECURITY_STARTTLS ? " (after STARTTLS)" : "");
	if (cert == NULL) {
		return;
	}
	report_certificate(d, cert);
	if (cert->not_after_unix != 0) {
		gint64 left = cert->not_after_unix - g_get_real_time() / G_USEC_PER_SEC;
		if (left < (gint64)EXPIRY_WARNING_DAYS * 86400) {
			doctor_report(d, DOCTOR_WARN,
			              "the server's certificate expires in less than %d days",
			              EXPIRY_WARNING_DAYS);
			doctor_advise(d, "tell the server's administrator to renew it");
		}
	}
}

static void advise_certificate(struct doctor *d, const struct stream_certificate_info *cert)
{
	const char *name = d->account->name;
	g_autofree char *store = stream_describe_system_store();

	if (d->account->has_tls_fingerprint) {
		/* T7: never an offer to trust it; the user checks and decides. */
		doctor_advise(
		    d,
		    "the server's certificate is not the one tls_fingerprint in [account %s] "
		    "pins. If the server got a new certificate, check its fingerprint (above) "
		    "with the server's administrator or provider by another way than this "
		    "connection, then set tls_fingerprint = %s in [account %s]; if it did not, "
		    "someone may be intercepting the connection",
		    name, cert->sha256 != NULL ? cert->sha256 : "sha256:…", name);
		return;
	}
	switch (cert->verify) {
	case STREAM_VERIFY_UNTRUSTED:
		if (d->account->tls_ca_file != NULL) {
			doctor_advise(
			    d,
			    "the certificate is not signed by a CA this computer trusts (%s), nor "
			    "by the one in tls_ca_file (%s): set tls_ca_file in [account %s] to "
			    "the CA that issued it, or check the server's certificate",
			    store, d->account->tls_ca_file, name);
		} else {
			doctor_advise(
			    d,
			    "the certificate is not signed by a CA this computer trusts (%s): if "
			    "the server uses its own CA, set tls_ca_file = /path/to/that-ca.pem in "
			    "[account %s]; otherwise check the server's certificate (someone may "
			    "be intercepting the connection)",
			    store, name);
		}
		return;
	case STREAM_VERIFY_NAME_MISMATCH:
		doctor_advise(
		    d,
		    "set host in [account %s] to a name the certificate is valid for (%s), "
		    "or have the server's certificate fixed",
		    name, cert->names);
		return;
	case STREAM_VERIFY_EXPIRED:
		doctor_advise(
		    d, "the server's certificate expired on %s: its administrator must renew it",
		    cert->not_after);
		return;
	case STREAM_VERIFY_NOT_YET_VALID:
		doctor_advise(d, "check this computer's date and time");
		return;
	default:
		doctor_advise(d, "check the server's certificate (%s)", cert->verify_reason);
		return;
	}
}

/* The stream failed before the IMAP session could end; say where. */
void doctor_report_stream_error(struct doctor *d)
{
	const struct config_account *a = d->account;
	g_autofree char *message = doctor_safe(stream_get_error_message(d->stream));
	const struct stream_certificate_info *cert = stream_get_peer_certificate(d->stream);

	doctor_report_tcp(d);
	switch (stream_get_error(d->stream)) {
	case STREAM_ERROR_RESOLVE:
		doctor_report(d, DOCTOR_FAIL, "DNS: %s", message);
		doctor_advise(d, "check host in [account %s] and that this computer is online",
		              a->name);
		return;
	case STREAM_ERROR_CONNECT:
	case STREAM_ERROR_TIMEOUT:
		if (!d->tcp_reported) {
			doctor_report(d, DOCTOR_FAIL, "TCP: %s", message);
			doctor_advise(
			    d,
			    "check host and port in [account %s] (the usual ports: 993 for "
			    "security = tls, 143 for starttls) and that no firewall blocks the "
			    "connection",
			    a->name);
			return;
		}
		doctor_report(d, DOCTOR_FAIL, "TLS: %s", message);
		doctor_advise(
		    d,
		    "the server did not complete a TLS handshake: check security and port in "
		    "[account %s] (security = tls expects TLS from the first byte, usually on "
		    "port 993; port 143 needs security = starttls)",
		    a->name);
		return;
	case STREAM_ERROR_CERTIFICATE:
		doctor_report(d, DOCTOR_FAIL, "TLS: %s", message);
		if (cert == NULL) {
			doctor_advise(
			    d, "fix tls_ca_file in [account %s]: it must name a readable PEM file",
			    a->name);
			return;
		}
		report_certificate(d, cert);
		advise_certificate(d, cert);
		return;
	case STREAM_ERROR_TLS:
		doctor_report(d, DOCTOR_FAIL, "TLS: %s", message);
		doctor_advise(
		    d,
		    "check security and port in [account %s]: security = tls expects TLS from "
		    "the first byte (usually port 993); port 143 needs security = starttls",
		    a->name);
		return;
	default:
		doctor_report(d, DOCTOR_FAIL, "connection: %s", message);
		doctor_advise(
		    d, "run the check again; if it keeps failing, look at the network or the "
		       "server");
		return;
	}
}

/* --- IMAP results ---------------------------------------------------------- */

static const char *yes_no(const struct imap_client *client, enum imap_cap cap)
{
	return imap_client_has_cap(client, cap) ? "yes" : "no";
}

void doctor_report_capabilities(struct doctor *d)
{
	const struct imap_client *client = link_get_client(d->link);
	bool after_login = imap_probe_is_authenticated(d->probe);
	g_autofree char *mechanisms = doctor_safe(imap_client_get_auth_mechanisms(client));

	doctor_report(d, DOCTOR_OK, "capabilities%s: IDLE %s, NOTIFY %s, QRESYNC %s, CONDSTORE %s",
	              after_login ? "" : " (before login)", yes_no(client, IMAP_CAP_IDLE),
	              yes_no(client, IMAP_CAP_NOTIFY), yes_no(client, IMAP_CAP_QRESYNC),
	              yes_no(client, IMAP_CAP_CONDSTORE));
	detail(d, "authentication mechanisms: %s",
	       mechanisms[0] != '\0' ? mechanisms : "none announced");
	if (after_login && !imap_client_has_cap(client, IMAP_CAP_IDLE)) {
		doctor_report(d, DOCTOR_WARN,
		              "the server has no IDLE: imapwatch checks the folders on a "
		              "timer, so new mail shows up with a delay");
	}
}

void doctor_report_login(struct doctor *d)
{
	const struct config_account *a = d->account;
	g_autofree char *error = doctor_safe(imap_probe_get_error(d->probe));
	g_autofree char *user = doctor_safe(a->username);

	if (d->password == NULL) {
		doctor_report(d, DOCTOR_SKIP, "login: not tried without a password");
		return;
	}
	if (imap_probe_is_authenticated(d->probe)) {
		doctor_report(d, DOCTOR_OK, "login: accepted for user '%s' (auth = %s)", user,
		              config_auth_name(a->auth));
		return;
	}
	if (imap_probe_credentials_rejected(d->probe)) {
		bool token = a->auth == CONFIG_AUTH_XOAUTH2 || a->auth == CONFIG_AUTH_OAUTHBEARER;

		doctor_report(d, DOCTOR_FAIL, "login: the server rejected the %s for user '%s'",
		              token ? "access token" : "password", user);
		detail(d, "%s", error);
		if (token) {
			doctor_advise(
			    d,
			    "check that %s in [account %s] prints a current access token, and "
			    "username",
			    password_key(a), a->name);
		} else {
			doctor_advise(d, "check %s and username in [account %s]", password_key(a),
			              a->name);
		}
		return;
	}
	doctor_report(d, DOCTOR_FAIL, "login: %s", error);
	doctor_advise(d, "check security, auth and username in [account %s]", a->name);
}

/* Folder names the server has, for the advice: "INBOX, Sent, ... and 3
 * more". */
static char *describe_mailboxes(const struct imap_probe *probe)
{
	size_t n = 0;
	const char *const *names = imap_probe_get_mailboxes(probe, &n);
	GString *out = g_string_new(NULL);

	for (size_t i = 0; i < n && i < MAILBOXES_SHOWN; i++) {
		g_autofree char *name = doctor_safe(names[i]);

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

void doctor_report_folders(struct doctor *d)
{
	const struct config_account *a = d->account;

	for (size_t i = 0; i < imap_probe_get_n_folders(d->probe); i++) {
		const struct imap_probe_folder *f = imap_probe_get_folder(d->probe, i);
		g_autofree char *name = doctor_safe(f->name);

		if (f->examined) {
			doctor_report(d, DOCTOR_OK, "folder '%s': exists, %u message%s", name,
			              f->exists, f->exists == 1 ? "" : "s");
		} else if (!imap_probe_has_list(d->probe)) {
			doctor_report(d, DOCTOR_SKIP, "folder '%s': not checked", name);
		} else if (config_folder_is_pattern(f->name) && f->matched > 0) {
			doctor_report(d, DOCTOR_OK, "folders '%s': %u match", name, f->matched);
		} else if (config_folder_is_pattern(f->name)) {
			g_autofree char *has = describe_mailboxes(d->probe);

			doctor_report(d, DOCTOR_WARN,
			              "folders '%s': none matches yet; the server has: %s", name,
			              has);
			doctor_advise(
			    d,
			    "folders created later under the pattern are watched; if none "
			    "will be, fix folders in [account %s]",
			    a->name);
		} else if (!f->listed) {
			g_autofree char *has = describe_mailboxes(d->probe);
			g_autofree char *other = respelled(d->probe, f->name);

			doctor_report(d, DOCTOR_FAIL,
			              "folder '%s' does not exist; the server has: %s", name, has);
			if (other != NULL) {
				g_autofree char *shown = doctor_safe(other);
				doctor_advise(
				    d,
				    "this server separates folder levels with '%c': write '%s' in "
				    "folders of [account %s]",
				    imap_probe_get_separator(d->probe), shown, a->name);
			} else {
				doctor_advise(d, "fix folders in [account %s]: use the names above",
				              a->name);
			}
		} else if (f->noselect) {
			doctor_report(d, DOCTOR_FAIL,
			              "folder '%s' cannot be opened: it only holds other folders",
			              name);
			doctor_advise(
			    d, "list the folders below it in folders of [account %s] instead",
			    a->name);
		} else {
			g_autofree char *error = doctor_safe(f->error);

			doctor_report(d, DOCTOR_FAIL, "folder '%s' exists but cannot be opened: %s",
			              name, error);
			doctor_advise(d, "check the folder's permissions on the server");
		}
	}
}
