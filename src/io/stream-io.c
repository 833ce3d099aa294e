/* SPDX-License-Identifier: MIT */
/*
 * The passes of an open stream on the main loop: the fd watch, the TLS
 * handshake steps, writing queued output and reading, plaintext or TLS.
 */
#include "io/stream-private.h"

#include <errno.h>
#include <openssl/err.h>
#include <sys/socket.h>

/* Reads per main-loop pass, so one busy connection cannot starve others. */
#define STREAM_READ_BUDGET 16

/* ---- I/O watch ---------------------------------------------------------- */

void stream_update_watch(struct stream *self)
{
	GIOCondition condition = 0;

	if (self->fd_source == NULL) {
		return;
	}
	switch (self->state) {
	case STREAM_STATE_HANDSHAKE:
		condition = self->handshake_condition;
		break;
	case STREAM_STATE_OPEN:
		/* Without the flags a readable socket whose SSL_read needs to
		 * write first would wake us forever, and vice versa. */
		condition |= self->read_wants_write ? G_IO_OUT : G_IO_IN;
		if (self->output->len > 0) {
			condition |= self->write_wants_read ? G_IO_IN : G_IO_OUT;
		}
		break;
	default:
		break;
	}
	g_source_modify_unix_fd(&self->fd_source->source, self->fd_source->tag, condition);
}

static gboolean stream_source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	struct stream_source *watch = (struct stream_source *)source;

	(void)callback;
	(void)user_data;
	stream_run(watch->owner);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs stream_source_funcs = {
    .dispatch = stream_source_dispatch,
};

void stream_watch_fd(struct stream *self)
{
	GSource *source = g_source_new(&stream_source_funcs, sizeof(struct stream_source));

	self->fd_source = (struct stream_source *)source;
	self->fd_source->owner = self;
	self->fd_source->tag = g_source_add_unix_fd(source, self->fd, 0);
	g_source_set_static_name(source, "imapwatch stream");
	g_source_attach(source, NULL);
}

/* ---- handshake, write, read --------------------------------------------- */

/* Returns false when the stream is gone. */
bool stream_step_handshake(struct stream *self)
{
	enum stream_error error;
	char *message;
	int result;
	int ssl_error;

	ERR_clear_error();
	self->bio_errno = 0;
	result = SSL_connect(self->ssl);
	if (result == 1) {
		stream_capture_certificate(self);
		const SSL_CIPHER *cipher = SSL_get_current_cipher(self->ssl);
		g_free(self->tls_description);
		self->tls_description = g_strdup_printf("%s, %s", SSL_get_version(self->ssl),
		                                        cipher != NULL ? SSL_CIPHER_get_name(cipher)
		                                                       : "unknown cipher");
		self->tls = true;
		g_clear_handle_id(&self->timeout_id, g_source_remove);
		g_debug("TLS up with %s:%u: %s", self->host, self->port, self->tls_description);
		stream_set_state(self, STREAM_STATE_OPEN);
		stream_update_watch(self);
		return stream_emit(self,
		                   self->starttls ? STREAM_EVENT_TLS_READY : STREAM_EVENT_CONNECTED,
		                   NULL, 0);
	}
	ssl_error = SSL_get_error(self->ssl, result);
	switch (ssl_error) {
	case SSL_ERROR_WANT_READ:
		self->handshake_condition = G_IO_IN;
		stream_update_watch(self);
		return true;
	case SSL_ERROR_WANT_WRITE:
		self->handshake_condition = G_IO_OUT;
		stream_update_watch(self);
		return true;
	default:
		stream_capture_certificate(self);
		message = stream_tls_failure_message(self, ssl_error, &error);
		return stream_fail(self, error, message);
	}
}

/* Returns false when the stream is gone or no longer open. */
static bool stream_flush_plain(struct stream *self)
{
	size_t done = 0;

	while (done < self->output->len) {
		ssize_t n = send(self->fd, self->output->data + done, self->output->len - done,
		                 MSG_NOSIGNAL);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		}
		(void)stream_fail(self, STREAM_ERROR_IO,
		                  g_strdup_printf("write to %s failed: %s", self->host,
		                                  g_strerror(n < 0 ? errno : EIO)));
		return false;
	}
	g_byte_array_remove_range(self->output, 0, (guint)done);
	return true;
}

static bool stream_flush_tls(struct stream *self)
{
	size_t done = 0;

	self->write_wants_read = false;
	while (done < self->output->len) {
		size_t written = 0;
		int result;

		ERR_clear_error();
		self->bio_errno = 0;
		/* After WANT_*, this retries with the same bytes at the front of
		 * the buffer and a length that can only have grown. */
		result = SSL_write_ex(self->ssl, self->output->data + done,
		                      self->output->len - done, &written);
		if (result == 1) {
			done += written;
			continue;
		}
		int ssl_error = SSL_get_error(self->ssl, result);
		if (ssl_error == SSL_ERROR_WANT_WRITE) {
			break;
		}
		if (ssl_error == SSL_ERROR_WANT_READ) {
			self->write_wants_read = true;
			break;
		}
		g_byte_array_remove_range(self->output, 0, (guint)done);
		if (ssl_error == SSL_ERROR_SYSCALL && self->bio_errno != 0) {
			ERR_clear_error();
			(void)stream_fail(self, STREAM_ERROR_IO,
			                  g_strdup_printf("write to %s failed: %s", self->host,
			                                  g_strerror(self->bio_errno)));
			return false;
		}
		g_autofree char *reason = stream_openssl_error();
		(void)stream_fail(
		    self, STREAM_ERROR_TLS,
		    g_strdup_printf("TLS write to %s failed: %s", self->host, reason));
		return false;
	}
	g_byte_array_remove_range(self->output, 0, (guint)done);
	return true;
}

/* The peer closed: deliver CLOSED after dropping the socket. */
static bool stream_closed_by_peer(struct stream *self)
{
	g_debug("connection to %s:%u closed by the server", self->host, self->port);
	stream_teardown(self);
	(void)stream_emit(self, STREAM_EVENT_CLOSED, NULL, 0);
	return false;
}

/* One plaintext read. Returns 1 for data (len set), 0 when drained, -1 when
 * the stream is gone or no longer open. */
static int stream_read_plain(struct stream *self, size_t *len)
{
	ssize_t n;

	do {
		n = recv(self->fd, self->read_buffer, sizeof(self->read_buffer), 0);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		*len = (size_t)n;
		return 1;
	}
	if (n == 0) {
		(void)stream_closed_by_peer(self);
		return -1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		return 0;
	}
	(void)stream_fail(
	    self, STREAM_ERROR_IO,
	    g_strdup_printf("read from %s failed: %s", self->host, g_strerror(errno)));
	return -1;
}

static int stream_read_tls(struct stream *self, size_t *len)
{
	int result;
	int ssl_error;

	ERR_clear_error();
	self->bio_errno = 0;
	self->read_wants_write = false;
	result = SSL_read_ex(self->ssl, self->read_buffer, sizeof(self->read_buffer), len);
	if (result == 1) {
		return 1;
	}
	ssl_error = SSL_get_error(self->ssl, result);
	switch (ssl_error) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		self->read_wants_write = true;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		(void)stream_closed_by_peer(self);
		return -1;
	case SSL_ERROR_SYSCALL:
		if (self->bio_errno != 0) {
			ERR_clear_error();
			(void)stream_fail(self, STREAM_ERROR_IO,
			                  g_strdup_printf("read from %s failed: %s", self->host,
			                                  g_strerror(self->bio_errno)));
			return -1;
		}
		if (ERR_peek_last_error() == 0) {
			(void)stream_closed_by_peer(self);
			return -1;
		}
		break;
	default:
		break;
	}
	g_autofree char *reason = stream_openssl_error();
	(void)stream_fail(self, STREAM_ERROR_TLS,
	                  g_strdup_printf("TLS read from %s failed: %s", self->host, reason));
	return -1;
}

/* Reads until the socket (and OpenSSL) is drained or the budget is spent.
 * Decrypted bytes can wait in SSL_pending()/SSL_has_pending() where poll()
 * never sees them, so a spent budget schedules another pass instead of
 * waiting for the fd. Returns false when the stream is gone or not open. */
static bool stream_read(struct stream *self)
{
	for (int i = 0; i < STREAM_READ_BUDGET; i++) {
		size_t len = 0;
		int result =
		    self->ssl != NULL ? stream_read_tls(self, &len) : stream_read_plain(self, &len);
		if (result < 0) {
			return false;
		}
		if (result == 0) {
			return true;
		}
		if (!stream_emit(self, STREAM_EVENT_DATA, self->read_buffer, len)) {
			return false;
		}
		/* closed, or stream_start_tls() from the callback: the rest of
		 * the socket belongs to the handshake (S3). */
		if (self->state != STREAM_STATE_OPEN) {
			return false;
		}
	}
	stream_schedule_pass(self);
	return true;
}

void stream_run(struct stream *self)
{
	if (self->state == STREAM_STATE_HANDSHAKE) {
		if (!stream_step_handshake(self) || self->state != STREAM_STATE_OPEN) {
			return;
		}
	}
	if (self->state != STREAM_STATE_OPEN) {
		return;
	}
	if (self->output->len > 0) {
		bool ok = self->ssl != NULL ? stream_flush_tls(self) : stream_flush_plain(self);
		if (!ok) {
			return;
		}
	}
	if (!stream_read(self)) {
		return;
	}
	stream_update_watch(self);
}
