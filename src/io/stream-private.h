/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IO_STREAM_PRIVATE_H
#define IMAPWATCH_IO_STREAM_PRIVATE_H

/*
 * Shared by the parts of the stream module, not for other modules: stream.c
 * (the object, its state and events, the connect, the public API),
 * stream-tls.c (OpenSSL: contexts, pinning, the socket BIO, certificates)
 * and stream-io.c (the fd watch, handshake steps, writing and reading).
 */

#include "imapwatch/io/stream.h"

#include <gio/gio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define STREAM_READ_SIZE 16384

enum stream_state {
	STREAM_STATE_NEW,
	STREAM_STATE_CONNECTING, /* DNS + TCP in GSocketClient */
	STREAM_STATE_HANDSHAKE,  /* TLS handshake, implicit or STARTTLS */
	STREAM_STATE_OPEN,
	STREAM_STATE_CLOSED, /* closed, failed or peer gone: no more events */
};

/* Outlives the stream when the stream goes away during a connect: the
 * GSocketClient callback still runs and must find out. */
struct stream_connect_op {
	struct stream *owner;
};

struct stream_source {
	GSource source;
	struct stream *owner;
	gpointer tag;
};

struct stream {
	char *host;
	uint16_t port;
	bool implicit_tls;
	char *ca_file;
	guint timeout_seconds;
	stream_callback callback;
	void *user_data;

	enum stream_state state;
	GSocketClient *client;
	GCancellable *cancellable;
	struct stream_connect_op *connect_op;
	GSocketConnection *connection; /* owns fd */
	int fd;
	struct stream_source *fd_source;
	guint timeout_id;
	guint idle_id;
	bool error_pending; /* ERROR to be delivered by the idle source */

	SSL_CTX *ssl_ctx;
	BIO_METHOD *bio_method;
	SSL *ssl;
	bool tls;      /* handshake completed */
	bool starttls; /* handshake started by stream_start_tls() */
	GIOCondition handshake_condition;
	bool read_wants_write;
	bool write_wants_read;
	int bio_errno; /* errno of the last failed send/recv under OpenSSL */
	bool bio_eof;
	bool has_pin; /* pinning instead of chain and name verification */
	uint8_t pin[32];
	bool pin_mismatch;
	int verify_error;  /* first failure seen by the verify callback */
	X509 *verify_cert; /* the certificate it failed on */
	char *tls_description;
	char *peer_address;
	struct stream_certificate_info *certificate;

	GByteArray *output;

	enum stream_error error;
	char *error_message;

	unsigned in_callback;
	bool destroyed;

	char read_buffer[STREAM_READ_SIZE];
};

/* ---- stream.c ---- */

void stream_set_state(struct stream *self, enum stream_state state);
/* Delivers event; false when the callback destroyed the stream. */
bool stream_emit(struct stream *self, enum stream_event event, const char *data, size_t len);
/* Drops sockets, sources and the pending connect. */
void stream_teardown(struct stream *self);
/* Sets the error (takes message), tears down and delivers ERROR; false when
 * the stream is gone. */
bool stream_fail(struct stream *self, enum stream_error error, char *message);
/* Another stream_run() from the main loop, soon. */
void stream_schedule_pass(struct stream *self);

/* ---- stream-tls.c ---- */

/* The OpenSSL error queue as one line, emptied. New string. */
char *stream_openssl_error(void);
/* Our socket BIO's method; NULL on an OpenSSL failure. */
BIO_METHOD *stream_bio_method_new(void);
/* A new reference to the context for ca_file (NULL: the system store only),
 * shared through the cache; NULL with *error_out and *message_out set. */
SSL_CTX *stream_ssl_ctx_new(const char *ca_file, enum stream_error *error_out, char **message_out);
/* A client SSL on the stream's socket for its host; NULL on failure. */
SSL *stream_ssl_new(struct stream *self);
void stream_certificate_info_free(struct stream_certificate_info *info);
/* Keeps the server's certificate for stream_get_peer_certificate(). */
void stream_capture_certificate(struct stream *self);
/* Why the handshake failed, in words; sets *error_out. New string. */
char *stream_tls_failure_message(struct stream *self, int ssl_error, enum stream_error *error_out);

/* ---- stream-io.c ---- */

/* Sets the fd watch's condition from the state and what OpenSSL wants. */
void stream_update_watch(struct stream *self);
/* Attaches the fd watch, with no condition yet. */
void stream_watch_fd(struct stream *self);
/* One SSL_connect() step; false when the stream is gone. */
bool stream_step_handshake(struct stream *self);
/* One pass: handshake, write, read, as far as the state allows. */
void stream_run(struct stream *self);

/* ---- stream-text.c ---- */

/*
 * Certificates in words, for error messages and the doctor: names, dates
 * and the reason a verification failed. Text from certificates is cut to
 * printable ASCII (at most 128 characters a name, 5 names), since a
 * certificate is attacker-controlled until verified.
 */

/* "CN=host, O=org" */
void stream_text_append_name(GString *out, const X509_NAME *name);
/* "2026-01-02 03:04:05 UTC" */
void stream_text_append_time(GString *out, const ASN1_TIME *time);
/* The DNS and IP subjectAltNames, else the CN: "a.example, b.example" */
void stream_text_append_cert_names(GString *out, X509 *cert);
/* Why cert (the one verification failed on; NULL if unknown) was refused
 * for host, in words a user can act on. New string. */
char *stream_text_describe_verify_error(X509 *cert, const char *host, long error);

#endif
