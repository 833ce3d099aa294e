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
    .outcome = "failed:permanent:authentication failed for user 'alice': Authentication "
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

int main(int argc, char **argv)
{
	static const struct transcript *const all[] = {
	    &starttls_auth_failed, &starttls_injection,    &no_starttls,
	    &starttls_refused,     &starttls_continuation, &preauth,
	    &logindisabled,
	};

	g_test_init(&argc, &argv, NULL);
	session_add_transcripts(all, G_N_ELEMENTS(all));
	return g_test_run();
}
