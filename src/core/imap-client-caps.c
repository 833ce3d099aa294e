/* SPDX-License-Identifier: MIT */
/*
 * What the client knows of the server: its capabilities (C1, S4), the SASL
 * mechanisms it offered before login, the response codes every machine
 * cares about (CAPABILITY, ALERT), and what a refusal means for retries
 * (A6). The commands and replies are in imap-client.c.
 */
#include "core/imap-client-private.h"

#include <string.h>

/* Mechanisms kept for imap_client_get_auth_mechanisms(): server text, so
 * bounded in count and length. */
#define AUTH_MECHANISMS_MAX   16
#define AUTH_MECHANISM_LENGTH 40

static const struct {
	const char *name;
	enum imap_cap cap;
} cap_names[] = {
    {"IMAP4REV1", IMAP_CAP_IMAP4REV1},
    {"IMAP4REV2", IMAP_CAP_IMAP4REV2},
    {"STARTTLS", IMAP_CAP_STARTTLS},
    {"LOGINDISABLED", IMAP_CAP_LOGINDISABLED},
    {"AUTH=PLAIN", IMAP_CAP_AUTH_PLAIN},
    {"AUTH=XOAUTH2", IMAP_CAP_AUTH_XOAUTH2},
    {"AUTH=OAUTHBEARER", IMAP_CAP_AUTH_OAUTHBEARER},
    {"SASL-IR", IMAP_CAP_SASL_IR},
    {"IDLE", IMAP_CAP_IDLE},
    {"ID", IMAP_CAP_ID},
    {"ENABLE", IMAP_CAP_ENABLE},
    {"CONDSTORE", IMAP_CAP_CONDSTORE},
    {"QRESYNC", IMAP_CAP_QRESYNC},
    {"LITERAL+", IMAP_CAP_LITERAL_PLUS},
    {"LITERAL-", IMAP_CAP_LITERAL_MINUS},
    {"UNSELECT", IMAP_CAP_UNSELECT},
    {"NOTIFY", IMAP_CAP_NOTIFY},
    {"ESEARCH", IMAP_CAP_ESEARCH},
    {"UIDPLUS", IMAP_CAP_UIDPLUS},
    {"SPECIAL-USE", IMAP_CAP_SPECIAL_USE},
    {"LIST-STATUS", IMAP_CAP_LIST_STATUS},
    {"X-GM-EXT-1", IMAP_CAP_X_GM_EXT_1},
    {"NAMESPACE", IMAP_CAP_NAMESPACE},
};

const char *imap_failure_name(enum imap_failure failure)
{
	static const char *const names[] = {
	    [IMAP_FAILURE_TRANSIENT] = "transient", [IMAP_FAILURE_PERMANENT] = "permanent",
	    [IMAP_FAILURE_RESOURCE] = "resource",   [IMAP_FAILURE_CREDENTIALS] = "credentials",
	    [IMAP_FAILURE_REAUTH] = "reauth",
	};

	return (unsigned)failure < G_N_ELEMENTS(names) ? names[failure] : "unknown";
}

enum imap_failure imap_failure_for_reply(const char *code, const char *text)
{
	/* Servers that say "not now" in words only (A6): Gmail over its limit
	 * of connections ("NO [ALERT] Too many simultaneous connections.
	 * (Failure)"), Microsoft 365 throttling ("NO Request is throttled.
	 * Suggested Backoff Time: ..."): a resource, not a refusal for good. */
	static const char *const limits[] = {"too many simultaneous connections",
	                                     "maximum number of connections",
	                                     "too many connections", "request is throttled"};
	/* Microsoft 365 refusing what follows the login of a session it broke
	 * on its side ("BAD User is authenticated but not connected."): a new
	 * connection may well work. */
	static const char *const broken[] = {"authenticated but not connected"};
	g_autofree char *lower = g_ascii_strdown(text != NULL ? text : "", -1);

	/* [ALERT] asks to show the text and says nothing of the class, so the
	 * words decide there too. */
	if (code == NULL || strcmp(code, "ALERT") == 0) {
		for (size_t i = 0; i < G_N_ELEMENTS(limits); i++) {
			if (strstr(lower, limits[i]) != NULL) {
				return IMAP_FAILURE_RESOURCE;
			}
		}
		for (size_t i = 0; i < G_N_ELEMENTS(broken); i++) {
			if (strstr(lower, broken[i]) != NULL) {
				return IMAP_FAILURE_TRANSIENT;
			}
		}
	}
	return imap_failure_for_code(code);
}

enum imap_failure imap_failure_for_code(const char *code)
{
	/* A6 */
	if (code != NULL && (strcmp(code, "UNAVAILABLE") == 0 || strcmp(code, "LIMIT") == 0 ||
	                     strcmp(code, "INUSE") == 0 || strcmp(code, "OVERQUOTA") == 0)) {
		return IMAP_FAILURE_RESOURCE;
	}
	/* RFC 5530: the server hit a bug of its own; nothing the user can
	 * change, and it may well pass. */
	if (code != NULL && strcmp(code, "SERVERBUG") == 0) {
		return IMAP_FAILURE_TRANSIENT;
	}
	return IMAP_FAILURE_PERMANENT;
}

/* The AUTH=... mechanisms of a capability list before login, upper-case,
 * printable ASCII only. */
static void auth_mechanisms_set(struct imap_client *c, const struct imap_arg *args, size_t n)
{
	unsigned count = 0;

	g_string_truncate(c->auth_mechanisms, 0);
	for (size_t i = 0; i < n && count < AUTH_MECHANISMS_MAX; i++) {
		const char *name = imap_arg_as_string(&args[i]);

		if (name == NULL || args[i].type != IMAP_ARG_ATOM ||
		    g_ascii_strncasecmp(name, "AUTH=", 5) != 0 || name[5] == '\0') {
			continue;
		}
		if (count++ > 0) {
			g_string_append_c(c->auth_mechanisms, ' ');
		}
		for (size_t k = 5; name[k] != '\0' && k < 5 + AUTH_MECHANISM_LENGTH; k++) {
			char ch = name[k];
			g_string_append_c(c->auth_mechanisms,
			                  g_ascii_isgraph(ch) ? g_ascii_toupper(ch) : '?');
		}
	}
}

void imap_client_caps_set(struct imap_client *c, const struct imap_arg *args, size_t n)
{
	c->caps = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = imap_arg_as_string(&args[i]);

		if (name == NULL || args[i].type != IMAP_ARG_ATOM) {
			continue;
		}
		for (size_t k = 0; k < G_N_ELEMENTS(cap_names); k++) {
			if (g_ascii_strcasecmp(name, cap_names[k].name) == 0) {
				c->caps |= cap_names[k].cap;
			}
		}
	}
	c->caps_known = true;
	if (!c->authenticated) {
		auth_mechanisms_set(c, args, n);
	}
}

bool imap_client_has_cap(const struct imap_client *c, enum imap_cap cap)
{
	return (c->caps & cap) != 0;
}

bool imap_client_caps_known(const struct imap_client *c)
{
	return c->caps_known;
}

void imap_client_forget_caps(struct imap_client *c)
{
	c->caps_known = false;
}

void imap_client_set_authenticated(struct imap_client *c)
{
	c->authenticated = true;
}

char *imap_client_describe_capabilities(const struct imap_client *c)
{
	GString *out = g_string_new(NULL);

	for (size_t k = 0; k < G_N_ELEMENTS(cap_names); k++) {
		if (c->caps & cap_names[k].cap) {
			if (out->len > 0) {
				g_string_append_c(out, ' ');
			}
			g_string_append(out, cap_names[k].name);
		}
	}
	return g_string_free(out, FALSE);
}

const char *imap_client_get_auth_mechanisms(const struct imap_client *c)
{
	return c->auth_mechanisms->str;
}

void imap_client_handle_code(struct imap_client *c, const struct imap_response *r)
{
	if (r->code == NULL) {
		return;
	}
	if (strcmp(r->code, "CAPABILITY") == 0) {
		/* S4: capabilities sent before TLS are never trusted later;
		 * they are discarded when TLS starts. */
		imap_client_caps_set(c, r->code_args, r->n_code_args);
	} else if (strcmp(r->code, "ALERT") == 0) {
		/* S7/P8: alerts only when they cannot have been injected. */
		if (c->tls_active && c->io->alert != NULL) {
			c->io->alert(r->text, c->io->user_data);
		} else if (c->tls_active) {
			g_warning("server alert for account '%s': %s", c->account, r->text);
		} else {
			g_debug("ignoring unprotected ALERT for account '%s'", c->account);
		}
	}
}
