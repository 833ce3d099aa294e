/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_LOGIN_H
#define IMAPWATCH_IMAP_LOGIN_H

/*
 * The client side of an IMAP connection up to the authenticated state,
 * shared by the watching session (imap-session) and the mark-as-read action
 * (imap-action). Pure like both: bytes in through imap_login_feed(), bytes
 * out through the io callbacks, no sockets, no timers.
 *
 * It runs the greeting, strict STARTTLS when configured (S1–S4: fatal if not
 * offered, refused or answered with "+", plaintext after the tagged OK is an
 * injection, PREAUTH before TLS is fatal), CAPABILITY, AUTHENTICATE PLAIN / XOAUTH2 /
 * OAUTHBEARER with SASL-IR when advertised, or LOGIN as the last resort and
 * never with LOGINDISABLED (A1–A4), and reads the capabilities again after
 * login (C1). Then it hands over to its owner and stays the owner's wire:
 * the parser, command tags (one command outstanding at a time, P6), the
 * capabilities and the --trace-imap lines with credentials replaced by
 * "<redacted>".
 *
 * Handling common to every state happens here before the owner sees a
 * response: tagged replies that do not answer the outstanding command are
 * dropped; CAPABILITY data updates the capabilities; [ALERT] is logged only
 * when TLS protects it (S7); BYE text is kept for the close message (P7).
 * Message data before authentication never reaches the owner (S5). A flood
 * of untagged responses closes the connection (IMAP_LOGIN_UNTAGGED_LIMIT).
 *
 * Callbacks run synchronously from inside the entry points.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/imap-parser.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the supervisor should do after a failure (style anchors: isync). */
enum imap_failure {
	IMAP_FAILURE_TRANSIENT, /* network, BYE, timeout, parse error: retry with backoff */
	IMAP_FAILURE_PERMANENT, /* auth rejected, security violation, bad folder: wait for user */
	IMAP_FAILURE_RESOURCE,  /* [UNAVAILABLE], [LIMIT], too many connections: longer backoff */
};

enum imap_login_cap {
	IMAP_LOGIN_CAP_IMAP4REV1 = 1u << 0,
	IMAP_LOGIN_CAP_IMAP4REV2 = 1u << 1,
	IMAP_LOGIN_CAP_STARTTLS = 1u << 2,
	IMAP_LOGIN_CAP_LOGINDISABLED = 1u << 3,
	IMAP_LOGIN_CAP_AUTH_PLAIN = 1u << 4,
	IMAP_LOGIN_CAP_AUTH_XOAUTH2 = 1u << 5,
	IMAP_LOGIN_CAP_AUTH_OAUTHBEARER = 1u << 6,
	IMAP_LOGIN_CAP_SASL_IR = 1u << 7,
	IMAP_LOGIN_CAP_IDLE = 1u << 8,
	IMAP_LOGIN_CAP_ID = 1u << 9,
	IMAP_LOGIN_CAP_ENABLE = 1u << 10,
	IMAP_LOGIN_CAP_CONDSTORE = 1u << 11,
	IMAP_LOGIN_CAP_QRESYNC = 1u << 12,
	IMAP_LOGIN_CAP_LITERAL_PLUS = 1u << 13,
	IMAP_LOGIN_CAP_LITERAL_MINUS = 1u << 14,
	IMAP_LOGIN_CAP_UNSELECT = 1u << 15,
	IMAP_LOGIN_CAP_NOTIFY = 1u << 16,
	IMAP_LOGIN_CAP_ESEARCH = 1u << 17,
	IMAP_LOGIN_CAP_UIDPLUS = 1u << 18,
	IMAP_LOGIN_CAP_SPECIAL_USE = 1u << 19,
};

/* Untagged responses accepted between two completed commands (the tagged
 * reply to the outstanding command resets the count; an IDLE counts until
 * its end). More is a flood: the login fails (TRANSIENT) and the connection
 * is closed. Owners whose commands legitimately return more, such as a flag
 * listing of a large folder, raise it with imap_login_set_untagged_limit(). */
#define IMAP_LOGIN_UNTAGGED_LIMIT 100000

/* The ID command sent after login when the server offers ID (A8). */
#define IMAP_LOGIN_ID_COMMAND "ID (\"name\" \"imapwatch\" \"version\" \"" IMAPWATCH_VERSION "\")"

/* The transport: the driver's callbacks, passed through unchanged. */
struct imap_login_io {
	/* Bytes to write to the server. */
	void (*send)(const char *data, size_t len, void *user_data);
	/* STARTTLS was accepted and nothing is buffered: start the handshake
	 * and call imap_login_tls_ready() when it completes. */
	void (*start_tls)(void *user_data);
	/* A protocol line for --trace-imap, credentials already replaced by
	 * "<redacted>" (outgoing = client to server). May be NULL. */
	void (*trace)(bool outgoing, const char *line, void *user_data);
	void *user_data;
};

/* The session that owns the login. */
struct imap_login_ops {
	/* The greeting was accepted (OK, or PREAUTH where allowed). May be
	 * NULL. */
	void (*greeted)(void *owner);
	/* Logged in and the capabilities are known (C1): the owner sends its
	 * first command now. */
	void (*authenticated)(void *owner);
	/* After authentication: each response after the common handling;
	 * tagged ones only when they answer the outstanding command, which is
	 * then no longer outstanding. */
	void (*response)(const struct imap_response *response, void *owner);
	/* The login failed, or a response did not parse; message is for the
	 * user. The login is stopped before this is called, once at most. */
	void (*failed)(enum imap_failure failure, const char *message, void *owner);
};

struct imap_login_config {
	const char *account; /* for messages */
	enum config_security security;
	enum config_auth auth;
	const char *username;
	const char *password; /* copied; the copy is wiped on destroy */
	bool trace;           /* call io->trace */
};

struct imap_login;

/* io and ops are borrowed and must outlive the login. Sends nothing until
 * the greeting arrives. */
struct imap_login *imap_login_create(const struct imap_login_config *config,
                                     const struct imap_login_io *io,
                                     const struct imap_login_ops *ops, void *owner);
/* Accepts NULL. Wipes the password. */
void imap_login_destroy(struct imap_login *login);

/* Bytes from the server (plaintext, after TLS). */
void imap_login_feed(struct imap_login *login, const char *data, size_t len);

/* The TLS handshake requested by io->start_tls succeeded. */
void imap_login_tls_ready(struct imap_login *login);

/* Stops handling input for good (the owner failed or finished); no callback
 * follows. Idempotent. */
void imap_login_stop(struct imap_login *login);

/* Sets how many untagged responses may arrive between two completed
 * commands; never below IMAP_LOGIN_UNTAGGED_LIMIT. */
void imap_login_set_untagged_limit(struct imap_login *login, size_t limit);

/* True once the server accepted the credentials (or greeted with an allowed
 * PREAUTH), even while the capabilities are still being read. */
bool imap_login_is_authenticated(const struct imap_login *login);

/* Sends "TAG command\r\n" and makes it the outstanding command. redacted,
 * when not NULL, is what the trace shows after the tag instead of command
 * (which then holds a secret and is wiped from our copies). */
void imap_login_send_command(struct imap_login *login, const char *command, const char *redacted);

/* Sends bytes that are not a command ("DONE\r\n"); the trace shows them
 * without the line end. */
void imap_login_send_raw(struct imap_login *login, const char *data, size_t len);

/* True if the server advertises cap in its latest capability list. */
bool imap_login_has_cap(const struct imap_login *login, enum imap_login_cap cap);

/* Capabilities as last reported, space separated, upper-case. New string. */
char *imap_login_describe_capabilities(const struct imap_login *login);

/* True once the server answered AUTHENTICATE or LOGIN with a refusal that
 * is not temporary (A6): the credentials were rejected. */
bool imap_login_credentials_rejected(const struct imap_login *login);

/* The SASL mechanisms (the AUTH=... capabilities) the server offered
 * before login, space separated, upper-case, without "AUTH=": for example
 * "PLAIN LOGIN". "" when none were seen. Owned by the login; valid until
 * the next input. Server text, bounded and printable ASCII. */
const char *imap_login_get_auth_mechanisms(const struct imap_login *login);

/* Why the connection ended, for the user, once the transport has closed:
 * "server closed the connection: <text>" with the text of the last untagged
 * BYE (P7) and *failure set to what it means for retries (A6), else message
 * and TRANSIENT. New string. */
char *imap_login_describe_close(const struct imap_login *login, const char *message,
                                enum imap_failure *failure);

/* A6: the failure class for a tagged NO with this response code (may be
 * NULL): [UNAVAILABLE], [LIMIT], [INUSE], [OVERQUOTA] are RESOURCE,
 * [SERVERBUG] TRANSIENT, anything else PERMANENT. */
enum imap_failure imap_login_failure_for_code(const char *code);

typedef struct imap_login imap_login;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_login, imap_login_destroy)

#endif
