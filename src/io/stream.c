/* SPDX-License-Identifier: MIT */
/*
 * The stream object, its state and its events, the connect (DNS and TCP
 * through GSocketClient, socket options) and the public API. The TLS side
 * is in stream-tls.c, the reading and writing passes in stream-io.c.
 */
#include "io/stream-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/socket.h>

#define STREAM_DEFAULT_TIMEOUT 30
/* L3: keepalive probes after 60 s idle, every 10 s, 6 of them. */
#define STREAM_KEEPIDLE  60
#define STREAM_KEEPINTVL 10
#define STREAM_KEEPCNT   6
/* Unacknowledged writes fail after as long as the keepalive probes take, so
 * both mechanisms declare a peer dead at the same time (L3). */
#define STREAM_USER_TIMEOUT_MS ((STREAM_KEEPIDLE + STREAM_KEEPINTVL * STREAM_KEEPCNT) * 1000)

static const char *const state_names[] = {
    [STREAM_STATE_NEW] = "new",
    [STREAM_STATE_CONNECTING] = "connecting",
    [STREAM_STATE_HANDSHAKE] = "handshake",
    [STREAM_STATE_OPEN] = "open",
    [STREAM_STATE_CLOSED] = "closed",
};

void stream_set_state(struct stream *self, enum stream_state state)
{
	g_debug("stream %s:%u: %s -> %s", self->host, self->port, state_names[self->state],
	        state_names[state]);
	self->state = state;
}

static void stream_free(struct stream *self)
{
	g_free(self->host);
	g_free(self->peer_address);
	stream_certificate_info_free(self->certificate);
	g_free(self->ca_file);
	g_free(self->tls_description);
	g_free(self->error_message);
	if (self->output != NULL) {
		g_byte_array_unref(self->output);
	}
	X509_free(self->verify_cert);
	SSL_free(self->ssl);
	SSL_CTX_free(self->ssl_ctx);
	BIO_meth_free(self->bio_method);
	g_free(self);
}

/* Returns false when the stream was destroyed inside the callback; the
 * caller must not touch it then. */
bool stream_emit(struct stream *self, enum stream_event event, const char *data, size_t len)
{
	self->in_callback++;
	self->callback(self, event, data, len, self->user_data);
	self->in_callback--;
	if (self->destroyed) {
		if (self->in_callback == 0) {
			stream_free(self);
		}
		return false;
	}
	return true;
}

/* Drops sockets, sources and the pending connect; the stream then delivers
 * nothing more. Error state and the TLS description stay readable. */
void stream_teardown(struct stream *self)
{
	if (self->connect_op != NULL) {
		self->connect_op->owner = NULL;
		self->connect_op = NULL;
	}
	if (self->cancellable != NULL) {
		g_cancellable_cancel(self->cancellable);
		g_clear_object(&self->cancellable);
	}
	g_clear_object(&self->client);
	g_clear_handle_id(&self->timeout_id, g_source_remove);
	g_clear_handle_id(&self->idle_id, g_source_remove);
	if (self->fd_source != NULL) {
		g_source_destroy(&self->fd_source->source);
		g_source_unref(&self->fd_source->source);
		self->fd_source = NULL;
	}
	if (self->ssl != NULL) {
		SSL_free(self->ssl);
		self->ssl = NULL;
	}
	if (self->connection != NULL) {
		/* A GTcpConnection without graceful disconnect closes at once. */
		(void)g_io_stream_close(G_IO_STREAM(self->connection), NULL, NULL);
		g_clear_object(&self->connection);
	}
	self->fd = -1;
	g_byte_array_set_size(self->output, 0);
	if (self->state != STREAM_STATE_CLOSED) {
		stream_set_state(self, STREAM_STATE_CLOSED);
	}
}

static void stream_set_error(struct stream *self, enum stream_error error, char *message)
{
	self->error = error;
	g_free(self->error_message);
	self->error_message = message;
	g_debug("connection to %s:%u failed: %s", self->host, self->port, message);
}

/* Takes message. Returns false when the stream is gone. */
bool stream_fail(struct stream *self, enum stream_error error, char *message)
{
	stream_set_error(self, error, message);
	stream_teardown(self);
	return stream_emit(self, STREAM_EVENT_ERROR, NULL, 0);
}

static gboolean stream_on_idle(gpointer user_data)
{
	struct stream *self = user_data;

	self->idle_id = 0;
	if (self->error_pending) {
		self->error_pending = false;
		(void)stream_emit(self, STREAM_EVENT_ERROR, NULL, 0);
		return G_SOURCE_REMOVE;
	}
	stream_run(self);
	return G_SOURCE_REMOVE;
}

void stream_schedule_pass(struct stream *self)
{
	if (self->idle_id == 0) {
		self->idle_id = g_idle_add(stream_on_idle, self);
	}
}

/* For failures inside public calls: events never come from inside them. */
static void stream_fail_later(struct stream *self, enum stream_error error, char *message)
{
	stream_set_error(self, error, message);
	stream_teardown(self);
	self->error_pending = true;
	stream_schedule_pass(self);
}

/* ---- connect ------------------------------------------------------------ */

static gboolean stream_on_timeout(gpointer user_data)
{
	struct stream *self = user_data;
	const char *what =
	    self->state == STREAM_STATE_HANDSHAKE ? "TLS handshake with" : "connection to";

	self->timeout_id = 0;
	(void)stream_fail(self, STREAM_ERROR_TIMEOUT,
	                  g_strdup_printf("%s %s:%u timed out after %u s", what, self->host,
	                                  self->port, self->timeout_seconds));
	return G_SOURCE_REMOVE;
}

static void stream_start_timeout(struct stream *self)
{
	guint64 ms = (guint64)self->timeout_seconds * 1000;

	g_clear_handle_id(&self->timeout_id, g_source_remove);
	/* Millisecond timer: a seconds timer may fire up to a second late. */
	self->timeout_id = g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)MIN(ms, G_MAXUINT),
	                                      stream_on_timeout, self, NULL);
}

/* L3; best effort: a socket without them still works. */
static void stream_set_keepalive(struct stream *self)
{
	static const struct {
		int level;
		int name;
		int value;
	} options[] = {
	    {SOL_SOCKET, SO_KEEPALIVE, 1},
	    {IPPROTO_TCP, TCP_KEEPIDLE, STREAM_KEEPIDLE},
	    {IPPROTO_TCP, TCP_KEEPINTVL, STREAM_KEEPINTVL},
	    {IPPROTO_TCP, TCP_KEEPCNT, STREAM_KEEPCNT},
	    {IPPROTO_TCP, TCP_USER_TIMEOUT, STREAM_USER_TIMEOUT_MS},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
		if (setsockopt(self->fd, options[i].level, options[i].name, &options[i].value,
		               sizeof(options[i].value)) != 0) {
			g_debug("socket option %d/%d for %s:%u not set: %s", options[i].level,
			        options[i].name, self->host, self->port, g_strerror(errno));
		}
	}
}

/* GSocket creates its fds with SOCK_CLOEXEC and O_NONBLOCK already; make
 * sure rather than rely on it. */
static bool stream_prepare_fd(int fd, GError **error)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0 ||
	    ((flags & FD_CLOEXEC) == 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
		            "cannot set close-on-exec: %s", g_strerror(errno));
		return false;
	}
	return g_unix_set_fd_nonblocking(fd, TRUE, error);
}

static void stream_connect_failed(struct stream *self, const GError *error)
{
	enum stream_error kind = STREAM_ERROR_CONNECT;

	if (error->domain == G_RESOLVER_ERROR) {
		(void)stream_fail(
		    self, STREAM_ERROR_RESOLVE,
		    g_strdup_printf("cannot resolve %s: %s", self->host, error->message));
		return;
	}
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
		kind = STREAM_ERROR_TIMEOUT;
	}
	(void)stream_fail(self, kind,
	                  g_strdup_printf("cannot connect to %s port %u: %s", self->host,
	                                  self->port, error->message));
}

static void stream_on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
	struct stream_connect_op *op = user_data;
	struct stream *self = op->owner;
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) connection =
	    g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);

	g_free(op);
	if (self == NULL) {
		/* closed or destroyed meanwhile; connection (if any) closes here */
		return;
	}
	self->connect_op = NULL;
	g_clear_object(&self->cancellable);
	g_clear_object(&self->client);
	if (connection == NULL) {
		stream_connect_failed(self, error);
		return;
	}

	self->fd = g_socket_get_fd(g_socket_connection_get_socket(connection));
	if (!stream_prepare_fd(self->fd, &error)) {
		self->fd = -1;
		(void)stream_fail(
		    self, STREAM_ERROR_CONNECT,
		    g_strdup_printf("cannot use socket to %s: %s", self->host, error->message));
		return;
	}
	self->connection = g_steal_pointer(&connection);
	g_autoptr(GSocketAddress) remote =
	    g_socket_connection_get_remote_address(self->connection, NULL);
	if (remote != NULL && G_IS_INET_SOCKET_ADDRESS(remote)) {
		g_free(self->peer_address);
		self->peer_address = g_inet_address_to_string(
		    g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
	}
	stream_set_keepalive(self);
	stream_watch_fd(self);

	if (self->implicit_tls) {
		self->ssl = stream_ssl_new(self);
		if (self->ssl == NULL) {
			g_autofree char *reason = stream_openssl_error();
			(void)stream_fail(
			    self, STREAM_ERROR_TLS,
			    g_strdup_printf("cannot set up TLS for %s: %s", self->host, reason));
			return;
		}
		stream_set_state(self, STREAM_STATE_HANDSHAKE);
		(void)stream_step_handshake(self);
		return;
	}
	g_clear_handle_id(&self->timeout_id, g_source_remove);
	stream_set_state(self, STREAM_STATE_OPEN);
	stream_update_watch(self);
	(void)stream_emit(self, STREAM_EVENT_CONNECTED, NULL, 0);
}

/* ---- public API --------------------------------------------------------- */

void stream_config_for_account(struct stream_config *config, const struct config_account *account,
                               guint connect_timeout)
{
	*config = (struct stream_config){
	    .host = account->host,
	    .port = account->port,
	    .implicit_tls = account->security == CONFIG_SECURITY_TLS,
	    .ca_file = account->tls_ca_file,
	    .connect_timeout = connect_timeout,
	    .pin_sha256 = account->has_tls_fingerprint ? account->tls_fingerprint : NULL,
	};
}

struct stream *stream_create(const struct stream_config *config, stream_callback callback,
                             void *user_data)
{
	struct stream *self;

	g_return_val_if_fail(config != NULL && config->host != NULL && callback != NULL, NULL);
	self = g_new0(struct stream, 1);
	self->host = g_strdup(config->host);
	self->port = config->port;
	self->implicit_tls = config->implicit_tls;
	self->ca_file = g_strdup(config->ca_file);
	if (config->pin_sha256 != NULL) {
		self->has_pin = true;
		memcpy(self->pin, config->pin_sha256, sizeof(self->pin));
	}
	self->timeout_seconds =
	    config->connect_timeout != 0 ? config->connect_timeout : STREAM_DEFAULT_TIMEOUT;
	self->callback = callback;
	self->user_data = user_data;
	self->fd = -1;
	self->output = g_byte_array_new();
	self->state = STREAM_STATE_NEW;
	return self;
}

void stream_connect(struct stream *self)
{
	g_autoptr(GSocketConnectable) address = NULL;
	enum stream_error error = STREAM_ERROR_NONE;
	char *message = NULL;

	g_return_if_fail(self != NULL && self->state == STREAM_STATE_NEW);
	stream_set_state(self, STREAM_STATE_CONNECTING);
	g_debug("connecting to %s:%u%s", self->host, self->port,
	        self->implicit_tls ? " (TLS)" : "");

	/* Set up TLS first so a bad CA file fails before any traffic, also
	 * for streams that will only use STARTTLS later. */
	self->bio_method = stream_bio_method_new();
	if (self->bio_method == NULL) {
		g_autofree char *reason = stream_openssl_error();
		stream_fail_later(self, STREAM_ERROR_TLS,
		                  g_strdup_printf("cannot set up TLS: %s", reason));
		return;
	}
	self->ssl_ctx = stream_ssl_ctx_new(self->ca_file, &error, &message);
	if (self->ssl_ctx == NULL) {
		stream_fail_later(self, error, message);
		return;
	}

	self->client = g_socket_client_new();
	/* The configured host and port are authoritative (T10): no proxy
	 * from the environment, no TLS wrapping by GIO. */
	g_socket_client_set_enable_proxy(self->client, FALSE);
	self->cancellable = g_cancellable_new();
	self->connect_op = g_new0(struct stream_connect_op, 1);
	self->connect_op->owner = self;
	/* Not g_socket_client_connect_to_host_async(): that parses "host:port"
	 * out of the host string; the configured name is used verbatim (T4). */
	address = g_network_address_new(self->host, self->port);
	g_socket_client_connect_async(self->client, address, self->cancellable, stream_on_connected,
	                              self->connect_op);
	stream_start_timeout(self);
}

int stream_start_tls(struct stream *self)
{
	g_return_val_if_fail(self != NULL, -EINVAL);
	if (self->state != STREAM_STATE_OPEN || self->ssl != NULL) {
		return -EINVAL;
	}
	self->ssl = stream_ssl_new(self);
	if (self->ssl == NULL) {
		g_autofree char *reason = stream_openssl_error();
		stream_fail_later(
		    self, STREAM_ERROR_TLS,
		    g_strdup_printf("cannot set up TLS for %s: %s", self->host, reason));
		return 0;
	}
	self->starttls = true;
	self->read_wants_write = false;
	self->write_wants_read = false;
	stream_set_state(self, STREAM_STATE_HANDSHAKE);
	/* The ClientHello goes out when the socket is writable: at once,
	 * but from the main loop. */
	self->handshake_condition = G_IO_OUT;
	stream_update_watch(self);
	stream_start_timeout(self);
	return 0;
}

void stream_write(struct stream *self, const char *data, size_t len)
{
	g_return_if_fail(self != NULL);
	if (self->state == STREAM_STATE_CLOSED || len == 0) {
		return;
	}
	g_return_if_fail(len <= G_MAXUINT - self->output->len);
	g_byte_array_append(self->output, (const guint8 *)data, (guint)len);
	stream_update_watch(self);
}

size_t stream_get_pending_output(const struct stream *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->output->len;
}

void stream_close(struct stream *self)
{
	g_return_if_fail(self != NULL);
	if (self->state == STREAM_STATE_CLOSED) {
		/* Also drops an ERROR still waiting to be delivered. */
		stream_teardown(self);
		return;
	}
	g_debug("closing connection to %s:%u", self->host, self->port);
	if (self->state == STREAM_STATE_OPEN) {
		/* One non-blocking attempt each: queued output, then T9's
		 * close_notify; we do not wait for the peer's. */
		if (self->ssl != NULL) {
			size_t written = 0;
			ERR_clear_error();
			if (self->output->len > 0 &&
			    SSL_write_ex(self->ssl, self->output->data, self->output->len,
			                 &written) != 1) {
				ERR_clear_error();
			}
			if (SSL_shutdown(self->ssl) < 0) {
				/* Nothing more to do: the socket closes next. */
				ERR_clear_error();
			}
		} else if (self->output->len > 0) {
			/* Best effort; the socket closes next either way. */
			(void)send(self->fd, self->output->data, self->output->len,
			           MSG_NOSIGNAL | MSG_DONTWAIT);
		}
	}
	stream_teardown(self);
}

void stream_destroy(struct stream *self)
{
	if (self == NULL || self->destroyed) {
		return;
	}
	stream_close(self);
	if (self->in_callback > 0) {
		/* stream_emit() frees it when the callback returns. */
		self->destroyed = true;
		return;
	}
	stream_free(self);
}

bool stream_is_tls(const struct stream *self)
{
	g_return_val_if_fail(self != NULL, false);
	return self->tls;
}

const char *stream_get_tls_description(const struct stream *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->tls ? self->tls_description : NULL;
}

enum stream_error stream_get_error(const struct stream *self)
{
	g_return_val_if_fail(self != NULL, STREAM_ERROR_NONE);
	return self->error;
}

const char *stream_get_error_message(const struct stream *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->error_message;
}

const char *stream_get_peer_address(const struct stream *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->peer_address;
}

const struct stream_certificate_info *stream_get_peer_certificate(const struct stream *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->certificate;
}
