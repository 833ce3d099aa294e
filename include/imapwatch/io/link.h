/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_LINK_H
#define IMAPWATCH_LINK_H

/*
 * One IMAP connection's I/O: a stream (socket and TLS) bound to an
 * imap_client, and the timers that bound every wait. Used alike by the
 * watching connection, mark-read and the doctor; each keeps only its own
 * policy and drives its protocol machine over link_get_client().
 *
 * Stream events go to the client: bytes are fed, the end of a STARTTLS
 * handshake is reported, a close or a stream error ends the client with
 * what it means for retries (a certificate that does not verify is
 * PERMANENT: it will not verify next time either, T3/T7; anything else is
 * TRANSIENT, or what the server's BYE said, P7).
 *
 * The response timer (L4): while the client is waiting — for the
 * greeting, a STARTTLS handshake, a reply or the end of an IDLE after
 * DONE — the server must send a byte within IMAP_RESPONSE_TIMEOUT seconds
 * (or the shorter time link_expect_reply_within() asked for), else the
 * client ends as if the connection had dropped. An optional deadline
 * bounds the whole connection (link_set_deadline()).
 *
 * The end: the protocol machine's owner calls link_close() from the
 * machine's failed/finished callback; the stream closes at once and
 * ops->closed follows from the main loop, where the owner may destroy the
 * link and its machine. Callbacks never come from inside a link_* call.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/imap-client.h"
#include "imapwatch/io/stream.h"

#include <glib.h>
#include <stdbool.h>

/* Seconds without a byte while a reply is due (L4). */
#define IMAP_RESPONSE_TIMEOUT 30

struct link;

struct link_ops {
	/* A stream event (CONNECTED, TLS_READY, DATA) after the link handed
	 * it to the client, unless that ended the connection: for owners that
	 * follow the connection itself (timers, liveness, the doctor's
	 * report). was_waiting: the client was waiting for the server before
	 * the event. May be NULL. */
	void (*stream_event)(struct link *link, enum stream_event event, bool was_waiting,
	                     void *user_data);
	/* From the main loop, once, after link_close(): failed and failure
	 * and message (NULL when not failed) as given there. */
	void (*closed)(struct link *link, bool failed, enum imap_failure failure,
	               const char *message, void *user_data);
};

/* account is borrowed and must outlive the link (host, port, security, CA
 * file, pin, name). label names the connection in trace lines ("work/INBOX",
 * "work/INBOX mark-read"); copied. trace: --trace-imap. connect_timeout:
 * seconds for DNS, TCP and TLS (0: IMAP_RESPONSE_TIMEOUT). Does not connect
 * yet. */
struct link *link_create(const struct config_account *account, const char *label, bool trace,
                         guint connect_timeout, const struct link_ops *ops, void *user_data);
/* Closes at once, without a callback. Accepts NULL. */
void link_destroy(struct link *link);

/* The protocol side: create the machine on it before link_start(). Owned
 * by the link. */
struct imap_client *link_get_client(struct link *link);
/* The stream, for what it knows: TLS, certificate, peer address. */
const struct stream *link_get_stream(const struct link *link);

/* Starts connecting; the client waits for the greeting from now on. */
void link_start(struct link *link);

/* The next wait for the server (the one under way, or the next one to
 * start) is bounded by seconds instead of IMAP_RESPONSE_TIMEOUT: a probe
 * after resume or a network change. */
void link_expect_reply_within(struct link *link, guint seconds);

/* The whole connection must be over within seconds from now, or the client
 * ends with "not done within N s". */
void link_set_deadline(struct link *link, guint seconds);

/* True once the response timer or the deadline ended the connection. */
bool link_timed_out(const struct link *link);

/* Closes the stream (TLS close_notify first), stops the timers and the
 * client, and reports ops->closed from the main loop. Only the first call
 * counts. */
void link_close(struct link *link, bool failed, enum imap_failure failure, const char *message);

#endif
