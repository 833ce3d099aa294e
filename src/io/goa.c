/* SPDX-License-Identifier: MIT */
/*
 * GNOME Online Accounts (goa.h): one GetManagedObjects call finds the
 * account and its IMAP settings; each connection asks for its credentials
 * with one method call. GDBus, asynchronous, cancellable.
 */
#include "imapwatch/io/goa.h"

#include <string.h>

#define GOA_NAME         "org.gnome.OnlineAccounts"
#define GOA_MANAGER_PATH "/org/gnome/OnlineAccounts"
#define GOA_ACCOUNT      "org.gnome.OnlineAccounts.Account"
#define GOA_MAIL         "org.gnome.OnlineAccounts.Mail"
#define GOA_OAUTH2       "org.gnome.OnlineAccounts.OAuth2Based"
#define GOA_PASSWORD     "org.gnome.OnlineAccounts.PasswordBased"
/* What goa-daemon's IMAP accounts call their IMAP password. */
#define GOA_IMAP_PASSWORD_ID "imap-password"
/* A method call to goa-daemon may have to refresh a token over the net. */
#define GOA_CALL_TIMEOUT_MS (60 * 1000)

struct goa_request {
	GCancellable *cancellable;
	char *identity;    /* a lookup's */
	char *object_path; /* a credentials request's account */
	goa_lookup_callback lookup;
	goa_credentials_callback credentials;
	void *user_data;
	bool oauth2;
};

void goa_imap_clear(struct goa_imap *imap)
{
	g_free(imap->object_path);
	g_free(imap->host);
	g_free(imap->username);
	memset(imap, 0, sizeof(*imap));
}

struct config_account *goa_imap_login(const struct config_account *config,
                                      const struct goa_imap *imap)
{
	struct config_account *login = g_memdup2(config, sizeof(*config));

	login->host = imap->host;
	login->port = imap->port;
	login->security = imap->security;
	login->username = imap->username;
	login->auth = !imap->oauth2                             ? CONFIG_AUTH_AUTO
	              : config->auth == CONFIG_AUTH_OAUTHBEARER ? CONFIG_AUTH_OAUTHBEARER
	                                                        : CONFIG_AUTH_XOAUTH2;
	return login;
}

static void request_free(struct goa_request *r)
{
	g_clear_object(&r->cancellable);
	g_free(r->identity);
	g_free(r->object_path);
	g_free(r);
}

void goa_request_cancel(struct goa_request *r)
{
	if (r == NULL) {
		return;
	}
	/* The pending call's callback sees CANCELLED and leaves r alone. */
	g_cancellable_cancel(r->cancellable);
	request_free(r);
}

static const char *string_prop(GVariant *props, const char *name)
{
	const char *v = NULL;

	if (props == NULL || !g_variant_lookup(props, name, "&s", &v)) {
		return NULL;
	}
	return v;
}

static bool bool_prop(GVariant *props, const char *name)
{
	gboolean v = FALSE;

	return props != NULL && g_variant_lookup(props, name, "b", &v) && v;
}

/* "host" or "host:port", with the port GOA's settings imply otherwise. */
static bool split_host(const char *text, bool ssl, char **host, uint16_t *port)
{
	const char *colon = strrchr(text, ':');
	guint64 p = ssl ? 993 : 143;

	if (colon != NULL && strchr(text, ']') == NULL && strchr(text, ':') == colon) {
		if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &p, NULL)) {
			return false;
		}
		*host = g_strndup(text, (gsize)(colon - text));
	} else {
		*host = g_strdup(text);
	}
	*port = (uint16_t)p;
	return (*host)[0] != '\0';
}

/* One account object: does it answer to identity, and what are its IMAP
 * settings. */
static bool account_matches(GVariant *interfaces, const char *identity)
{
	g_autoptr(GVariant) account = g_variant_lookup_value(interfaces, GOA_ACCOUNT, NULL);
	g_autoptr(GVariant) mail = g_variant_lookup_value(interfaces, GOA_MAIL, NULL);
	const char *names[] = {
	    string_prop(account, "Identity"),
	    string_prop(account, "PresentationIdentity"),
	    string_prop(mail, "EmailAddress"),
	};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		if (names[i] != NULL && g_ascii_strcasecmp(names[i], identity) == 0) {
			return true;
		}
	}
	return false;
}

static bool account_imap(const char *path, GVariant *interfaces, struct goa_imap *out,
                         GError **error)
{
	g_autoptr(GVariant) account = g_variant_lookup_value(interfaces, GOA_ACCOUNT, NULL);
	g_autoptr(GVariant) mail = g_variant_lookup_value(interfaces, GOA_MAIL, NULL);
	g_autoptr(GVariant) oauth2 = g_variant_lookup_value(interfaces, GOA_OAUTH2, NULL);
	g_autoptr(GVariant) password = g_variant_lookup_value(interfaces, GOA_PASSWORD, NULL);
	const char *host = string_prop(mail, "ImapHost");
	const char *user = string_prop(mail, "ImapUserName");

	if (bool_prop(account, "MailDisabled") || mail == NULL) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		                    "its mail is switched off in GNOME Online Accounts (Settings, "
		                    "Online Accounts: turn Mail on)");
		return false;
	}
	if (!bool_prop(mail, "ImapSupported") || host == NULL || host[0] == '\0') {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		                    "GNOME Online Accounts offers no IMAP server for it");
		return false;
	}
	if (oauth2 == NULL && password == NULL) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		                    "GNOME Online Accounts offers neither a token nor a password "
		                    "for it");
		return false;
	}
	out->oauth2 = oauth2 != NULL;
	/* Never ImapAcceptSslErrors: certificates are always verified. */
	out->security = bool_prop(mail, "ImapUseSsl")   ? CONFIG_SECURITY_TLS
	                : bool_prop(mail, "ImapUseTls") ? CONFIG_SECURITY_STARTTLS
	                                                : CONFIG_SECURITY_NONE;
	if (out->security == CONFIG_SECURITY_NONE) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		                    "GNOME Online Accounts has it without encryption, which "
		                    "imapwatch refuses; choose SSL or STARTTLS there");
		return false;
	}
	if (!split_host(host, out->security == CONFIG_SECURITY_TLS, &out->host, &out->port)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		            "GNOME Online Accounts gives an IMAP server that cannot be used: '%s'",
		            host);
		goa_imap_clear(out);
		return false;
	}
	out->username =
	    g_strdup(user != NULL && user[0] != '\0' ? user : string_prop(account, "Identity"));
	if (out->username == NULL) {
		out->username = g_strdup("");
	}
	out->object_path = g_strdup(path);
	return true;
}

static void got_objects(GObject *source, GAsyncResult *result, gpointer data)
{
	struct goa_request *r = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	struct goa_imap imap = {0};

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		return;
	}
	if (reply == NULL) {
		g_autoptr(GError) e =
		    g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
		                "GNOME Online Accounts does not answer on the session bus (%s)",
		                error->message);
		r->lookup(NULL, e, r->user_data);
		request_free(r);
		return;
	}
	g_autoptr(GVariant) objects = g_variant_get_child_value(reply, 0);
	GVariantIter it;
	const char *path;
	GVariant *interfaces;
	g_variant_iter_init(&it, objects);
	while (g_variant_iter_next(&it, "{&o@a{sa{sv}}}", &path, &interfaces)) {
		g_autoptr(GVariant) owned = interfaces;
		g_autoptr(GError) why = NULL;

		if (!account_matches(interfaces, r->identity)) {
			continue;
		}
		if (!account_imap(path, interfaces, &imap, &why)) {
			g_prefix_error(&why, "GNOME Online Accounts account '%s': ", r->identity);
			r->lookup(NULL, why, r->user_data);
			request_free(r);
			return;
		}
		r->lookup(&imap, NULL, r->user_data);
		goa_imap_clear(&imap);
		request_free(r);
		return;
	}
	g_autoptr(GError) none =
	    g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
	                "GNOME Online Accounts has no account '%s' (goa_account names its "
	                "address, as Settings, Online Accounts shows it)",
	                r->identity);
	r->lookup(NULL, none, r->user_data);
	request_free(r);
}

static void got_bus(GObject *source, GAsyncResult *result, gpointer data);

struct goa_request *goa_lookup_start(const char *identity, goa_lookup_callback callback,
                                     void *user_data)
{
	struct goa_request *r = g_new0(struct goa_request, 1);

	r->cancellable = g_cancellable_new();
	r->identity = g_strdup(identity);
	r->lookup = callback;
	r->user_data = user_data;
	g_bus_get(G_BUS_TYPE_SESSION, r->cancellable, got_bus, r);
	return r;
}

static void got_credentials(GObject *source, GAsyncResult *result, gpointer data)
{
	struct goa_request *r = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		return;
	}
	if (reply == NULL) {
		g_dbus_error_strip_remote_error(error);
		g_prefix_error(
		    &error, "GNOME Online Accounts gave no %s: ", r->oauth2 ? "token" : "password");
		r->credentials(NULL, 0, error, r->user_data);
		request_free(r);
		return;
	}
	const char *secret = NULL;
	gint32 expires_in = 0;
	if (r->oauth2) {
		g_variant_get(reply, "(&si)", &secret, &expires_in);
	} else {
		g_variant_get(reply, "(&s)", &secret);
	}
	r->credentials(secret, expires_in > 0 ? g_get_real_time() / G_USEC_PER_SEC + expires_in : 0,
	               NULL, r->user_data);
	/* The reply's copy of the secret goes with the reply; wipe it. */
	explicit_bzero((char *)secret, strlen(secret));
	request_free(r);
}

static void got_bus(GObject *source, GAsyncResult *result, gpointer data)
{
	struct goa_request *r = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) bus = g_bus_get_finish(result, &error);

	(void)source;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		return;
	}
	if (bus == NULL) {
		g_prefix_error(&error, "no session bus for GNOME Online Accounts: ");
		if (r->lookup != NULL) {
			r->lookup(NULL, error, r->user_data);
		} else {
			r->credentials(NULL, 0, error, r->user_data);
		}
		request_free(r);
		return;
	}
	if (r->lookup != NULL) {
		g_dbus_connection_call(
		    bus, GOA_NAME, GOA_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
		    "GetManagedObjects", NULL, G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
		    G_DBUS_CALL_FLAGS_NONE, GOA_CALL_TIMEOUT_MS, r->cancellable, got_objects, r);
		return;
	}
	if (r->oauth2) {
		g_dbus_connection_call(bus, GOA_NAME, r->object_path, GOA_OAUTH2, "GetAccessToken",
		                       NULL, G_VARIANT_TYPE("(si)"), G_DBUS_CALL_FLAGS_NONE,
		                       GOA_CALL_TIMEOUT_MS, r->cancellable, got_credentials, r);
	} else {
		g_dbus_connection_call(bus, GOA_NAME, r->object_path, GOA_PASSWORD, "GetPassword",
		                       g_variant_new("(s)", GOA_IMAP_PASSWORD_ID),
		                       G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE,
		                       GOA_CALL_TIMEOUT_MS, r->cancellable, got_credentials, r);
	}
}

struct goa_request *goa_credentials_start(const struct goa_imap *imap,
                                          goa_credentials_callback callback, void *user_data)
{
	struct goa_request *r = g_new0(struct goa_request, 1);

	r->cancellable = g_cancellable_new();
	r->object_path = g_strdup(imap->object_path);
	r->credentials = callback;
	r->user_data = user_data;
	r->oauth2 = imap->oauth2;
	g_bus_get(G_BUS_TYPE_SESSION, r->cancellable, got_bus, r);
	return r;
}
