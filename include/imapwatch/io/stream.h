/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_STREAM_H
#define IMAPWATCH_STREAM_H

/*
 * A byte stream to an IMAP server on the GLib main loop: asynchronous DNS and
 * connect through GIO (GSocketClient), then non-blocking OpenSSL on the
 * socket — implicit TLS at once, or later on request (STARTTLS). Certificates
 * are verified against the system store plus an optional CA file, with SNI
 * and a host-name check (SSL_set1_host, no partial wildcards, T3–T6), TLS
 * 1.2 or newer (T2). Failures are reported as events, never retried here.
 *
 * TCP keepalive is set on every socket (idle 60 s, interval 10 s, 6 probes)
 * plus TCP_USER_TIMEOUT (L3).
 *
 * Callbacks are always delivered from the main loop, never from inside the
 * call that caused them. The callback may call stream_destroy() on its own
 * stream; no further callbacks follow.
 */

#include "imapwatch/core/config.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stream;

struct stream_config {
	const char *host; /* name to connect to and to verify */
	uint16_t port;
	bool implicit_tls;     /* TLS handshake right after connect */
	const char *ca_file;   /* extra trusted CA(s), PEM; NULL for none */
	guint connect_timeout; /* seconds for DNS + TCP + TLS; 0 = 30 */
	/* When set (32 bytes), accept exactly the server certificate with this
	 * SHA-256 fingerprint instead of verifying chain and name (pinning,
	 * RFC 8314 §5.4); anything else is a CERTIFICATE error. */
	const uint8_t *pin_sha256;
};

enum stream_event {
	STREAM_EVENT_CONNECTED, /* TCP up, and TLS too when implicit_tls */
	STREAM_EVENT_TLS_READY, /* handshake after stream_start_tls() done */
	STREAM_EVENT_DATA,      /* data/len: bytes received (plaintext) */
	STREAM_EVENT_CLOSED,    /* the peer closed the connection */
	STREAM_EVENT_ERROR,     /* see stream_get_error*() */
};
/* CLOSED and ERROR are final: no event follows either. */

enum stream_error {
	STREAM_ERROR_NONE,
	STREAM_ERROR_RESOLVE,     /* DNS lookup failed */
	STREAM_ERROR_CONNECT,     /* TCP connect failed (refused, unreachable) */
	STREAM_ERROR_TIMEOUT,     /* connect/handshake took too long */
	STREAM_ERROR_TLS,         /* handshake or record layer failure */
	STREAM_ERROR_CERTIFICATE, /* chain or host name not verified */
	STREAM_ERROR_IO,          /* read/write error after connect */
};

/* The settings for an account's server: host, port, implicit TLS when
 * security = tls (STARTTLS is the session's to request), the CA file. The
 * strings point into account, which must outlive *config (stream_create()
 * copies them). */
void stream_config_for_account(struct stream_config *config, const struct config_account *account,
                               guint connect_timeout);

typedef void (*stream_callback)(struct stream *stream, enum stream_event event, const char *data,
                                size_t len, void *user_data);

/* Copies what it needs from config. Does not connect yet. */
struct stream *stream_create(const struct stream_config *config, stream_callback callback,
                             void *user_data);

/* Starts connecting; the outcome arrives as CONNECTED or ERROR. Call once.
 * The TLS context is set up here, so a CA file that does not load is an
 * ERROR (CERTIFICATE) too, also for plaintext streams; like every event it
 * arrives from the main loop. No proxy is used: host and port are taken as
 * configured, the host is not parsed for a ":port". */
void stream_connect(struct stream *stream);

/* Starts a TLS handshake on a connected plaintext stream (STARTTLS). The
 * caller must have checked that no plaintext is buffered (S3). Returns 0, or
 * -EINVAL if the stream is not a connected plaintext stream. Outcome:
 * TLS_READY or ERROR. No DATA events are delivered until then. The
 * handshake is bounded by connect_timeout. Output still queued is sent over
 * TLS once the handshake is done. */
int stream_start_tls(struct stream *stream);

/* Queues bytes for sending; never blocks. Before the connection (or the
 * implicit TLS handshake) is up, bytes wait in the queue. */
void stream_write(struct stream *stream, const char *data, size_t len);

/* Bytes queued but not yet written. */
size_t stream_get_pending_output(const struct stream *stream);

/* Sends TLS close_notify when TLS is up (T9), then closes the socket.
 * Further writes are dropped. No more events are delivered. */
void stream_close(struct stream *stream);

/* Closes (without waiting) and frees. Accepts NULL. Safe inside the
 * stream's own callback. */
void stream_destroy(struct stream *stream);

bool stream_is_tls(const struct stream *stream);

/* "TLSv1.3, TLS_AES_256_GCM_SHA384" once TLS is up, else NULL. */
const char *stream_get_tls_description(const struct stream *stream);

/* The address the TCP connection went to ("192.0.2.7", "::1") once it is
 * up; it stays readable after a later failure (a TLS error, say) and after
 * close. NULL before, or when the connection never came up. */
const char *stream_get_peer_address(const struct stream *stream);

/* The verdict on the server's certificate. */
enum stream_verify {
	STREAM_VERIFY_OK,            /* chain and host name verified */
	STREAM_VERIFY_UNTRUSTED,     /* no trusted CA: unknown issuer, self-signed */
	STREAM_VERIFY_NAME_MISMATCH, /* not valid for the configured host */
	STREAM_VERIFY_EXPIRED,
	STREAM_VERIFY_NOT_YET_VALID,
	STREAM_VERIFY_OTHER, /* see verify_reason */
};

/* The server's certificate as received in the last TLS handshake, for
 * diagnostics (imapwatch doctor). Every string is peer text made safe:
 * printable ASCII, bounded. */
struct stream_certificate_info {
	char *subject;         /* RFC 2253, e.g. "CN=imap.example.com,O=Example" */
	char *issuer;          /* likewise */
	char *names;           /* "imap.example.com, 192.0.2.7": SANs, else the CN */
	char *not_after;       /* "2026-01-31 12:00:00 UTC" */
	gint64 not_after_unix; /* 0 when unreadable */
	enum stream_verify verify;
	char *verify_reason; /* OpenSSL's words ("certificate has expired"); "ok" */
	/* "sha256:3F:A1:…": the SHA-256 fingerprint of the certificate, as
	 * tls_fingerprint takes it; NULL if it could not be computed. */
	char *sha256;
};

/* Set once the server's certificate arrived, also when verifying it then
 * failed the handshake (STREAM_ERROR_CERTIFICATE); stays readable after
 * close. NULL when no certificate was received. Owned by the stream. */
const struct stream_certificate_info *stream_get_peer_certificate(const struct stream *stream);

enum stream_error stream_get_error(const struct stream *stream);

/* What failed, in words a user can act on, e.g. "certificate verify failed
 * for imap.example.com: self-signed certificate in certificate chain" or
 * "host name mismatch: certificate is for mail.other.org, not
 * imap.example.com". NULL when there is no error. */
const char *stream_get_error_message(const struct stream *stream);

/* TLS contexts are shared between streams with the same CA file. Forget
 * them (after a configuration reload, or at exit for leak checkers); streams
 * keep their own references. */
void stream_flush_tls_cache(void);

/* Where the system's trusted CAs are read from, for advice: a hashed
 * directory ("/etc/ssl/certs"), or the bundle file and directories
 * ("/usr/lib/ssl/cert.pem, /usr/lib/ssl/certs"), as OpenSSL's defaults and
 * SSL_CERT_FILE / SSL_CERT_DIR say. New string. */
char *stream_describe_system_store(void);

typedef struct stream stream;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(stream, stream_destroy)

#endif
