/* SPDX-License-Identifier: MIT */
/*
 * Session transcripts (session-harness.h) before the folder is reached:
 * STARTTLS (not offered, refused, answered with a continuation, data
 * injected after its OK), PREAUTH before TLS, LOGINDISABLED and rejected
 * credentials. None of them may log in in plaintext.
 */
#include "session-harness.h"

static const struct step starttls_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED AUTH=PLAIN] ready\r\n", "A1 STARTTLS\r\n"},
    {"A1 OK Begin TLS negotiation now.\r\n", ""},
    {"<TLS>", "A2 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN IDLE\r\nA2 OK Pre-login capabilities\r\n",
     "A3 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", ""},
    {NULL, NULL},
};

static const struct transcript starttls_auth_failed = {
    .name = "starttls-auth-failed",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = starttls_steps,
    .events = "",
    .outcome = "failed:credentials:authentication failed for user 'alice': Authentication "
               "failed.",
};

/* S3: bytes injected after "OK Begin TLS" in the same segment. */
static const struct step injection_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", "A1 STARTTLS\r\n"},
    {"A1 OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n", ""},
    {NULL, NULL},
};

static const struct transcript starttls_injection = {
    .name = "starttls-injection",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = injection_steps,
    .events = "",
    .outcome = "failed:permanent:server sent data after accepting STARTTLS",
};

/* S1: STARTTLS not offered, or refused: never log in in plaintext. */
static const struct step no_starttls_steps[] = {
    {"* OK ready\r\n", "A1 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA1 OK\r\n", ""},
    {NULL, NULL},
};

static const struct transcript no_starttls = {
    .name = "no-starttls",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = no_starttls_steps,
    .events = "",
    .outcome = "failed:permanent:server does not offer STARTTLS",
};

/* S1: "+" to STARTTLS is no OK either; waiting would only stall. */
static const struct step starttls_continuation_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n", "A1 STARTTLS\r\n"},
    {"+ go ahead\r\n", ""},
    {NULL, NULL},
};

static const struct transcript starttls_continuation = {
    .name = "starttls-continuation",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = starttls_continuation_steps,
    .events = "",
    .outcome = "failed:permanent:server answered STARTTLS with a continuation request",
};

static const struct step starttls_refused_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", "A1 STARTTLS\r\n"},
    {"A1 BAD not now\r\n", ""},
    {NULL, NULL},
};

static const struct transcript starttls_refused = {
    .name = "starttls-refused",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = starttls_refused_steps,
    .events = "",
    .outcome = "failed:permanent:server refused STARTTLS",
};

/* S2/T11: PREAUTH on a connection that still needs STARTTLS. */
static const struct step preauth_steps[] = {
    {"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] welcome\r\n", ""},
    {NULL, NULL},
};

static const struct transcript preauth = {
    .name = "preauth-before-tls",
    .security = CONFIG_SECURITY_STARTTLS,
    .steps = preauth_steps,
    .events = "",
    .outcome = "failed:permanent:server greeted with PREAUTH before TLS",
};

/* S5: message data before the selection is ignored; LOGINDISABLED with no
 * AUTH=PLAIN gives up rather than sending LOGIN. */
static const struct step logindisabled_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] ready\r\n* 5 EXISTS\r\n"
     "* 1 FETCH (UID 1 FLAGS ())\r\n",
     ""},
    {NULL, NULL},
};

static const struct transcript logindisabled = {
    .name = "logindisabled",
    .security = CONFIG_SECURITY_TLS,
    .steps = logindisabled_steps,
    .events = "",
    .outcome = "failed:permanent:server disables LOGIN",
};

/* A4: XOAUTH2 refused: the server's JSON error comes as a challenge, is
 * answered with an empty line, and is told in the failure (A5: a refused
 * token is "credentials", which the account answers with one fresh token). */
static const struct step xoauth2_refused_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\r\n",
     "A1 AUTHENTICATE XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5LnRva2VuAQE=\r\n"},
    {"+ "
     "eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8if"
     "Q==\r\n",
     "\r\n"},
    {"A1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n", ""},
    {NULL, NULL},
};

static const struct transcript xoauth2_refused = {
    .name = "xoauth2-refused",
    .security = CONFIG_SECURITY_TLS,
    .auth = CONFIG_AUTH_XOAUTH2,
    .password = "ya29.token",
    .steps = xoauth2_refused_steps,
    .events = "",
    .outcome = "failed:credentials:authentication failed for user 'alice': Invalid "
               "credentials (Failure) (the server says of the token: status 400, scope "
               "https://mail.google.com/, schemes Bearer)",
};

/* A5: Gmail ends the session when the token runs out under it: "log in
 * again" (reauth), not a failure of the credentials. */
static const struct step token_expired_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 IDLE] ready\r\n",
     "A1 AUTHENTICATE XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5LnRva2VuAQE=\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 IDLE] alice@gmail.com authenticated (Success)\r\n",
     "A2 EXAMINE INBOX\r\n"},
    {"* 0 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA2 OK [READ-ONLY] done\r\n", "A3 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* BYE Session invalidated - AccessTokenExpired\r\n", ""},
    {"<CLOSE>", ""},
    {NULL, NULL},
};

static const struct transcript token_expired = {
    .name = "token-expired-bye",
    .security = CONFIG_SECURITY_TLS,
    .auth = CONFIG_AUTH_XOAUTH2,
    .password = "ya29.token",
    .steps = token_expired_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n",
    .outcome = "failed:reauth:server closed the connection: Session invalidated - "
               "AccessTokenExpired",
};

int main(int argc, char **argv)
{
	static const struct transcript *const all[] = {
	    &starttls_auth_failed, &starttls_injection,    &no_starttls,
	    &starttls_refused,     &starttls_continuation, &preauth,
	    &logindisabled,        &xoauth2_refused,       &token_expired,
	};

	g_test_init(&argc, &argv, NULL);
	session_add_transcripts(all, G_N_ELEMENTS(all));
	return g_test_run();
}
