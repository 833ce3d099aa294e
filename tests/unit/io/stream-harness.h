/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_TEST_STREAM_HARNESS_H
#define IMAPWATCH_TEST_STREAM_HARNESS_H

/*
 * What the stream tests share. Certificates are made at run time with the
 * openssl command-line tool in a temporary directory. The server runs in a
 * thread with blocking OpenSSL on 127.0.0.1; the client side runs on the
 * main loop and every test waits for stream events, never for time to pass.
 */

#include "imapwatch/io/stream.h"

#include <glib.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- certificates ------------------------------------------------------- */

/* Makes the test CA and the certificates the tests name ("server", "self",
 * "chain", "other", "wildcard", "expired", "future") in a new temporary
 * directory, which remove_certificates() deletes. */
void make_certificates(void);
void remove_certificates(void);
/* A file in that directory. New string. */
char *cert_path(const char *name);

/* ---- server ------------------------------------------------------------- */

enum server_mode {
	SERVER_TLS_ECHO,       /* TLS, "* OK hello", then echo */
	SERVER_TLS_BYE,        /* TLS, "* BYE", close_notify, close */
	SERVER_TLS_FLOOD,      /* TLS, then data until the client goes away */
	SERVER_STARTTLS,       /* plaintext until "a STARTTLS", then TLS echo */
	SERVER_SILENT,         /* accepts, never speaks */
	SERVER_PLAIN_GREETING, /* "* OK plain", then waits for EOF */
	SERVER_PLAIN_ABORT,    /* greeting, then RST once the client writes */
};

struct server {
	enum server_mode mode;
	int listen_fd;
	uint16_t port;
	SSL_CTX *ctx;
	GThread *thread;
	bool handshake_done;
};

/* cert: base name of a .pem/.key made by make_certificates(), or NULL for
 * plaintext modes. */
struct server *server_start(enum server_mode mode, const char *cert);
/* Waits for the server's one session to end. Returns whether its TLS
 * handshake succeeded. */
bool server_stop(struct server *server);
/* A port on 127.0.0.1 that nothing listens on. */
uint16_t closed_port(void);

/* ---- client ------------------------------------------------------------- */

struct client;
typedef void (*client_hook)(struct client *client, enum stream_event event);

struct client {
	struct stream *stream;
	GMainLoop *loop;
	GString *data;
	GArray *events;
	client_hook hook;
	bool in_call; /* inside a stream_* call: no callback may arrive */
	bool destroyed;
	enum stream_error error;
	char *error_message;
	size_t want_bytes;
	bool tls_at_connect;
	char *tls_description;
};

/* A client whose stream has config; hook (NULL: quit the loop on CONNECTED,
 * CLOSED and ERROR) sees every event after it is recorded. */
struct client *client_new(const struct stream_config *config, client_hook hook);
/* Runs the main loop until a hook quits it. */
void client_run(struct client *client);
void client_connect(struct client *client);
void client_write(struct client *client, const char *data, size_t len);
/* Runs whatever is ready, e.g. the completion of a cancelled connect. */
void drain_main_context(void);
void client_free(struct client *client);
enum stream_event client_last_event(struct client *client);
void client_destroy_stream(struct client *client);

#endif
