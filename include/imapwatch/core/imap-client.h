/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_CLIENT_H
#define IMAPWATCH_IMAP_CLIENT_H

/*
 * The wire of one IMAP connection, pure ("sans-I/O"): bytes from the
 * server go in through imap_client_feed(), bytes to the server come out
 * through io->send. Every protocol machine that runs on a connection —
 * imap-login, then the watching session (imap-session), the mark-as-read
 * action (imap-action) or the doctor's probe (imap-probe) — talks to the
 * server through this one object, never to each other.
 *
 * It owns what is common to the whole connection: the parser, command tags
 * and the matching of tagged replies to their commands (several may be
 * outstanding: pipelining, within the rules of docs/PROTOCOL.md H4 and S3),
 * the capabilities (C1, S4), IDLE's continuation and DONE (I1, I3), the
 * limit on untagged responses between two completed commands, BYE text and
 * what a closed connection means for retries (P7, A6), [ALERT] logging only
 * under TLS (S7), STARTTLS's check that nothing follows the tagged OK in
 * plaintext (S3), and --trace-imap lines with secrets replaced by
 * "<redacted>".
 *
 * One handler at a time — the machine driving the connection now — gets
 * the untagged responses and continuations, and the failure. Tagged
 * replies go to the callback given with their command. Callbacks run
 * synchronously from inside the entry points; none may destroy the client.
 *
 * Rule IDs in comments (S3, I1, …) are those of docs/PROTOCOL.md.
 */

#include "imapwatch/core/imap-parser.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the supervisor should do after a failure (docs/PROTOCOL.md L5,
 * A6). */
enum imap_failure {
	IMAP_FAILURE_TRANSIENT, /* network, BYE, timeout, parse error: retry with backoff */
	IMAP_FAILURE_PERMANENT, /* auth rejected, security violation, bad folder: wait for user */
	IMAP_FAILURE_RESOURCE,  /* [UNAVAILABLE], [LIMIT], too many connections: longer backoff */
	/* The server refused the credentials: like PERMANENT, except that a
	 * token may be fetched afresh and tried once more (A5). */
	IMAP_FAILURE_CREDENTIALS,
	/* The server ended the session because its OAuth token expired
	 * (A5): log in again at once, with a fresh token. */
	IMAP_FAILURE_REAUTH,
};

enum imap_cap {
	IMAP_CAP_IMAP4REV1 = 1u << 0,
	IMAP_CAP_IMAP4REV2 = 1u << 1,
	IMAP_CAP_STARTTLS = 1u << 2,
	IMAP_CAP_LOGINDISABLED = 1u << 3,
	IMAP_CAP_AUTH_PLAIN = 1u << 4,
	IMAP_CAP_AUTH_XOAUTH2 = 1u << 5,
	IMAP_CAP_AUTH_OAUTHBEARER = 1u << 6,
	IMAP_CAP_SASL_IR = 1u << 7,
	IMAP_CAP_IDLE = 1u << 8,
	IMAP_CAP_ID = 1u << 9,
	IMAP_CAP_ENABLE = 1u << 10,
	IMAP_CAP_CONDSTORE = 1u << 11,
	IMAP_CAP_QRESYNC = 1u << 12,
	IMAP_CAP_LITERAL_PLUS = 1u << 13,
	IMAP_CAP_LITERAL_MINUS = 1u << 14,
	IMAP_CAP_UNSELECT = 1u << 15,
	IMAP_CAP_NOTIFY = 1u << 16,
	IMAP_CAP_ESEARCH = 1u << 17,
	IMAP_CAP_UIDPLUS = 1u << 18,
	IMAP_CAP_SPECIAL_USE = 1u << 19,
	IMAP_CAP_LIST_STATUS = 1u << 20, /* RFC 5819 */
	IMAP_CAP_X_GM_EXT_1 = 1u << 21,  /* Gmail: X-GM-MSGID, X-GM-LABELS */
	IMAP_CAP_NAMESPACE = 1u << 22,   /* RFC 2342 */
};

/* Untagged responses accepted between two completed commands (a tagged
 * reply resets the count; an IDLE counts until its end). More is a flood:
 * the client fails (TRANSIENT) and the connection is closed. Machines whose
 * commands legitimately return more, such as a flag listing of a large
 * folder, raise it with imap_client_set_untagged_limit(). */
#define IMAP_CLIENT_UNTAGGED_LIMIT 100000

/* The ID command sent after login when the server offers ID (A8). */
#define IMAP_CLIENT_ID_COMMAND "ID (\"name\" \"imapwatch\" \"version\" \"" IMAPWATCH_VERSION "\")"

/* The transport: the link's callbacks (src/io/link.c), or a test's. */
struct imap_client_io {
	/* Bytes to write to the server. */
	void (*send)(const char *data, size_t len, void *user_data);
	/* STARTTLS was accepted and nothing is buffered: start the handshake
	 * and call imap_client_tls_ready() when it completes. */
	void (*start_tls)(void *user_data);
	/* A protocol line for --trace-imap, secrets already replaced by
	 * "<redacted>" (outgoing = client to server). May be NULL. */
	void (*trace)(bool outgoing, const char *line, void *user_data);
	/* An [ALERT] the user must see (S7, P8), only over TLS. May be NULL:
	 * then it is logged as a warning each time. */
	void (*alert)(const char *text, void *user_data);
	void *user_data;
};

/* The machine that drives the connection now (imap_client_set_handler()). */
struct imap_client_handler {
	/* The first response of the connection, whatever its kind. May be
	 * NULL: then it is handled like any other. */
	void (*greeting)(const struct imap_response *response, void *owner);
	/* An untagged response, after the common handling (CAPABILITY data
	 * and codes, BYE, ALERT). */
	void (*untagged)(const struct imap_response *response, void *owner);
	/* A "+" continuation request. May be NULL (ignored, P1). */
	void (*continuation)(const struct imap_response *response, void *owner);
	/* Every complete response of one imap_client_feed() call was handled:
	 * what the server sent together can be acted on together (an EXISTS
	 * and the FETCH that NOTIFY pushes with it, F4). May be NULL. */
	void (*batch_end)(void *owner);
	/* The client failed: a response did not parse, too many untagged
	 * responses, the transport closed, or imap_client_fail(). Called once;
	 * the client is stopped before. message is for the user. */
	void (*failed)(enum imap_failure failure, const char *message, void *owner);
};

/* The tagged reply to a command; data as given with the command. */
typedef void (*imap_client_reply)(const struct imap_response *reply, void *data);

struct imap_client;

/* account: the account's name for log lines, borrowed (it must outlive the
 * client). io is borrowed too. trace: call io->trace. Sends nothing by
 * itself. */
struct imap_client *imap_client_create(const char *account, bool trace,
                                       const struct imap_client_io *io);
/* Accepts NULL. */
void imap_client_destroy(struct imap_client *client);

/* Who gets untagged responses, continuations and the failure from now on;
 * handler is borrowed. */
void imap_client_set_handler(struct imap_client *client, const struct imap_client_handler *handler,
                             void *owner);

/* Bytes from the server (plaintext, after TLS). */
void imap_client_feed(struct imap_client *client, const char *data, size_t len);

/* The transport closed (EOF, error, timeout): the client fails with the
 * text of the last BYE and what it means for retries when the server said
 * goodbye (P7), else with message and failure. Nothing if already
 * stopped. */
void imap_client_transport_closed(struct imap_client *client, enum imap_failure failure,
                                  const char *message);

/* Stops and tells the handler (failed), once; nothing if stopped already. */
void imap_client_fail(struct imap_client *client, enum imap_failure failure, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Stops for good without a callback (the machine finished or failed on
 * its own). Input is ignored from now on. Idempotent. */
void imap_client_stop(struct imap_client *client);

bool imap_client_is_stopped(const struct imap_client *client);

/* --- commands ------------------------------------------------------------ */

/* Sends "TAG command\r\n"; reply gets its tagged reply. redacted, when not
 * NULL, is what the trace shows after the tag instead of command (which
 * then holds a secret and is wiped from our copies). Nothing is sent once
 * stopped. */
void imap_client_command(struct imap_client *client, const char *command, const char *redacted,
                         imap_client_reply reply, void *data);

/* Sends bytes that are not a command (a SASL response); redacted as
 * above, NULL to trace the bytes themselves without the line end. */
void imap_client_send_raw(struct imap_client *client, const char *data, size_t len,
                          const char *redacted);

/* True while the server owes us something: the greeting, the end of a
 * STARTTLS handshake, or the reply to an outstanding command that is not
 * an IDLE the server has accepted (I1). The link bounds that wait (L4). */
bool imap_client_is_waiting(const struct imap_client *client);

/* Sends IDLE (C2: only when the server offers it). The server's "+" goes to
 * the handler's continuation; from then on the client is not waiting until
 * imap_client_idle_done(). reply gets the IDLE's tagged reply, which comes
 * after DONE — or at once when the server refuses IDLE (I1). */
void imap_client_idle(struct imap_client *client, imap_client_reply reply, void *data);
/* Ends an accepted IDLE: sends exactly "DONE" (I3); the IDLE's tagged reply
 * follows. Nothing when no IDLE was accepted. */
void imap_client_idle_done(struct imap_client *client);
/* True between the server's "+" to IDLE and DONE. */
bool imap_client_is_idling(const struct imap_client *client);

/* Sends STARTTLS. On the tagged OK: the capabilities learnt in plaintext
 * are forgotten (S4), the client fails if any byte follows the OK in the
 * same read (S3), io->start_tls is called, and ready(data) once
 * imap_client_tls_ready() reports the handshake. Any other reply goes to
 * refused(reply, data). */
void imap_client_starttls(struct imap_client *client, void (*ready)(void *data),
                          imap_client_reply refused, void *data);

/* The TLS handshake requested by io->start_tls succeeded. */
void imap_client_tls_ready(struct imap_client *client);

/* True once TLS protects the connection (implicit or after STARTTLS). */
bool imap_client_is_tls(const struct imap_client *client);
/* For implicit TLS: the stream was TLS from the first byte. */
void imap_client_set_tls(struct imap_client *client);

/* Sets how many untagged responses may arrive between two completed
 * commands; never below IMAP_CLIENT_UNTAGGED_LIMIT. */
void imap_client_set_untagged_limit(struct imap_client *client, size_t limit);
/* Sets the longest line accepted (imap_parser_set_max_line()); never below
 * the parser's default (64 KiB). */
void imap_client_set_line_limit(struct imap_client *client, size_t limit);

/* --- capabilities -------------------------------------------------------- */

/* True if the server advertises cap in its latest capability list. */
bool imap_client_has_cap(const struct imap_client *client, enum imap_cap cap);

/* True once a capability list arrived since the last time they were
 * forgotten. */
bool imap_client_caps_known(const struct imap_client *client);

/* Forgets the capabilities (C1: they change after login). */
void imap_client_forget_caps(struct imap_client *client);

/* The credentials were accepted: from now on a capability list no longer
 * changes the mechanisms offered before login
 * (imap_client_get_auth_mechanisms()). */
void imap_client_set_authenticated(struct imap_client *client);

/* Capabilities as last reported, space separated, upper-case. New string. */
char *imap_client_describe_capabilities(const struct imap_client *client);

/* The SASL mechanisms (the AUTH=... capabilities) the server offered
 * before login, space separated, upper-case, without "AUTH=": for example
 * "PLAIN LOGIN". "" when none were seen. Owned by the client; valid until
 * the next input. Server text, bounded and printable ASCII. */
const char *imap_client_get_auth_mechanisms(const struct imap_client *client);

/* Applies the codes of a tagged reply that every machine cares about
 * (CAPABILITY, ALERT), as the client does for untagged ones itself. */
void imap_client_handle_code(struct imap_client *client, const struct imap_response *reply);

/* A6: the failure class for a tagged NO with this response code (may be
 * NULL): [UNAVAILABLE], [LIMIT], [INUSE], [OVERQUOTA] are RESOURCE,
 * [SERVERBUG] TRANSIENT (RFC 5530), anything else PERMANENT. */
enum imap_failure imap_failure_for_code(const char *code);

/* The failure class of a tagged NO: as imap_failure_for_code(), and
 * RESOURCE for a reply without a code whose text says the server allows no
 * more connections ("Too many simultaneous connections", "Maximum number of
 * connections"). */
enum imap_failure imap_failure_for_reply(const char *code, const char *text);

/* "transient", "permanent", "resource". */
const char *imap_failure_name(enum imap_failure failure);

typedef struct imap_client imap_client;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_client, imap_client_destroy)

#endif
