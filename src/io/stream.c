/* SPDX-License-Identifier: MIT */
#include "imapwatch/stream.h"

#include "tls-text.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STREAM_DEFAULT_TIMEOUT 30
#define STREAM_READ_SIZE       16384
/* Reads per main-loop pass, so one busy connection cannot starve others. */
#define STREAM_READ_BUDGET 16
/* L3: keepalive probes after 60 s idle, every 10 s, 6 of them. */
#define STREAM_KEEPIDLE  60
#define STREAM_KEEPINTVL 10
#define STREAM_KEEPCNT   6
/* Unacknowledged writes fail after as long as the keepalive probes take, so
 * both mechanisms declare a peer dead at the same time (L3). */
#define STREAM_USER_TIMEOUT_MS ((STREAM_KEEPIDLE + STREAM_KEEPINTVL * STREAM_KEEPCNT) * 1000)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SSL_CTX, SSL_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SSL, SSL_free)

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

static void stream_run(struct stream *self);

static const char *const state_names[] = {
    [STREAM_STATE_NEW] = "new",
    [STREAM_STATE_CONNECTING] = "connecting",
    [STREAM_STATE_HANDSHAKE] = "handshake",
    [STREAM_STATE_OPEN] = "open",
    [STREAM_STATE_CLOSED] = "closed",
};

static void stream_set_state(struct stream *self, enum stream_state state)
{
	g_debug("stream %s:%u: %s -> %s", self->host, self->port, state_names[self->state],
	        state_names[state]);
	self->state = state;
}

static void stream_certificate_info_free(struct stream_certificate_info *info)
{
	if (info == NULL) {
		return;
	}
	g_free(info->subject);
	g_free(info->issuer);
	g_free(info->names);
	g_free(info->not_after);
	g_free(info->verify_reason);
	g_free(info);
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
static bool stream_emit(struct stream *self, enum stream_event event, const char *data, size_t len)
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
static void stream_teardown(struct stream *self)
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
static bool stream_fail(struct stream *self, enum stream_error error, char *message)
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

static void stream_schedule_pass(struct stream *self)
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

/* The OpenSSL error queue as one line, emptied. */
static char *stream_openssl_error(void)
{
	unsigned long code = ERR_peek_last_error();
	char buffer[256];

	if (code == 0) {
		return g_strdup("unknown error");
	}
	ERR_error_string_n(code, buffer, sizeof(buffer));
	ERR_clear_error();
	return g_strdup(buffer);
}

/* Keeps the certificate of the first failure for the error message; the
 * verdict itself is OpenSSL's (T3). */
static int stream_verify_callback(int preverify_ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct stream *self = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	X509 *cert;

	if (self != NULL && self->has_pin) {
		/* Pinned: only the leaf counts, and only its exact bytes. */
		if (X509_STORE_CTX_get_error_depth(store) > 0) {
			return 1;
		}
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int len = 0;
		X509 *leaf = X509_STORE_CTX_get_current_cert(store);

		if (leaf != NULL && X509_digest(leaf, EVP_sha256(), md, &len) == 1 &&
		    len == sizeof(self->pin) && CRYPTO_memcmp(md, self->pin, len) == 0) {
			return 1;
		}
		self->pin_mismatch = true;
		X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (preverify_ok || self == NULL || self->verify_cert != NULL) {
		return preverify_ok;
	}
	cert = X509_STORE_CTX_get_current_cert(store);
	if (cert != NULL && X509_up_ref(cert) == 1) {
		self->verify_cert = cert;
		self->verify_error = X509_STORE_CTX_get_error(store);
	}
	return preverify_ok;
}

/* ---- socket BIO --------------------------------------------------------- */

/* Our own socket BIO: OpenSSL's uses write(), which raises SIGPIPE on a
 * closed connection; send(MSG_NOSIGNAL) does not. It also keeps errno. */
static int stream_bio_write(BIO *bio, const char *data, int len)
{
	struct stream *self = BIO_get_data(bio);
	ssize_t n;

	BIO_clear_retry_flags(bio);
	n = send(self->fd, data, (size_t)len, MSG_NOSIGNAL);
	if (n >= 0) {
		return (int)n;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		BIO_set_retry_write(bio);
	} else {
		self->bio_errno = errno;
	}
	return -1;
}

static int stream_bio_read(BIO *bio, char *data, int len)
{
	struct stream *self = BIO_get_data(bio);
	ssize_t n;

	BIO_clear_retry_flags(bio);
	n = recv(self->fd, data, (size_t)len, 0);
	if (n > 0) {
		return (int)n;
	}
	if (n == 0) {
		self->bio_eof = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		BIO_set_retry_read(bio);
	} else {
		self->bio_errno = errno;
	}
	return -1;
}

static long stream_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	struct stream *self = BIO_get_data(bio);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		/* Lets OpenSSL tell EOF from an error (see SSL_OP_IGNORE_UNEXPECTED_EOF). */
		return self != NULL && self->bio_eof;
	default:
		return 0;
	}
}

static int stream_bio_create(BIO *bio)
{
	BIO_set_init(bio, 1);
	return 1;
}

static BIO_METHOD *stream_bio_method_new(void)
{
	BIO_METHOD *method =
	    BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "imapwatch stream");

	if (method == NULL) {
		return NULL;
	}
	if (BIO_meth_set_write(method, stream_bio_write) != 1 ||
	    BIO_meth_set_read(method, stream_bio_read) != 1 ||
	    BIO_meth_set_ctrl(method, stream_bio_ctrl) != 1 ||
	    BIO_meth_set_create(method, stream_bio_create) != 1) {
		BIO_meth_free(method);
		return NULL;
	}
	return method;
}

/* ---- TLS setup ---------------------------------------------------------- */

/* Protocol floor and verification (T2, T3); false on an OpenSSL failure. */
static bool stream_ssl_ctx_configure(SSL_CTX *ctx)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		return false;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, stream_verify_callback);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		return false;
	}
	/* The output buffer may grow (and move) between a WANT_WRITE and the
	 * retry; partial writes let us drop what went out record by record. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Many servers drop TCP without close_notify. IMAP is self-delimiting,
	 * so truncation cannot forge a response; report it as CLOSED. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return true;
}

/* Contexts by CA file ("" for the system store only). Loading the system
 * bundle costs close to 1 MiB per context, so connections share them; the
 * cache holds one reference per entry. */
static GHashTable *ssl_ctx_cache;

static void ssl_ctx_unref(gpointer ctx)
{
	SSL_CTX_free(ctx);
}

void stream_flush_tls_cache(void)
{
	g_clear_pointer(&ssl_ctx_cache, g_hash_table_unref);
}

static SSL_CTX *stream_ssl_ctx_load(const char *ca_file, enum stream_error *error_out,
                                    char **message_out);

/* Returns a new reference, or NULL and sets *error_out / *message_out. */
static SSL_CTX *stream_ssl_ctx_new(const char *ca_file, enum stream_error *error_out,
                                   char **message_out)
{
	const char *key = ca_file != NULL ? ca_file : "";
	SSL_CTX *ctx;

	if (ssl_ctx_cache == NULL) {
		ssl_ctx_cache =
		    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, ssl_ctx_unref);
	}
	ctx = g_hash_table_lookup(ssl_ctx_cache, key);
	if (ctx == NULL) {
		ctx = stream_ssl_ctx_load(ca_file, error_out, message_out);
		if (ctx == NULL) {
			return NULL;
		}
		g_hash_table_insert(ssl_ctx_cache, g_strdup(key), ctx);
	}
	if (SSL_CTX_up_ref(ctx) != 1) {
		*error_out = STREAM_ERROR_TLS;
		*message_out = g_strdup("cannot set up TLS: out of memory");
		return NULL;
	}
	return ctx;
}

static SSL_CTX *stream_ssl_ctx_load(const char *ca_file, enum stream_error *error_out,
                                    char **message_out)
{
	g_autoptr(SSL_CTX) ctx = NULL;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || !stream_ssl_ctx_configure(ctx)) {
		g_autofree char *reason = stream_openssl_error();
		*error_out = STREAM_ERROR_TLS;
		*message_out = g_strdup_printf("cannot set up TLS: %s", reason);
		return NULL;
	}
	if (ca_file != NULL && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		/* The first error says why ("No such file or directory", "no
		 * certificate or crl found"); later ones only add context. */
		unsigned long code = ERR_peek_error();
		const char *reason = ERR_GET_LIB(code) == ERR_LIB_SYS
		                         ? g_strerror(ERR_GET_REASON(code))
		                         : ERR_reason_error_string(code);
		*error_out = STREAM_ERROR_CERTIFICATE;
		*message_out = g_strdup_printf("cannot load CA file '%s': %s", ca_file,
		                               reason != NULL ? reason : "unknown error");
		ERR_clear_error();
		return NULL;
	}
	return g_steal_pointer(&ctx);
}

/* T4–T6: SNI and the host-name check use the configured name as given; an
 * IP literal is checked against IP SANs and gets no SNI (RFC 6066 §3). */
static SSL *stream_ssl_new(struct stream *self)
{
	g_autoptr(SSL) ssl = SSL_new(self->ssl_ctx);
	BIO *bio;

	if (ssl == NULL) {
		return NULL;
	}
	bio = BIO_new(self->bio_method);
	if (bio == NULL) {
		return NULL;
	}
	BIO_set_data(bio, self);
	SSL_set_bio(ssl, bio, bio);
	if (SSL_set_app_data(ssl, self) != 1) {
		return NULL;
	}
	if (g_hostname_is_ip_address(self->host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), self->host) != 1) {
			return NULL;
		}
	} else {
		if (SSL_set_tlsext_host_name(ssl, self->host) != 1) {
			return NULL;
		}
		if (SSL_set1_host(ssl, self->host) != 1) {
			return NULL;
		}
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	}
	SSL_set_connect_state(ssl);
	return g_steal_pointer(&ssl);
}

/* ---- I/O watch ---------------------------------------------------------- */

static void stream_update_watch(struct stream *self)
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

static void stream_watch_fd(struct stream *self)
{
	GSource *source = g_source_new(&stream_source_funcs, sizeof(struct stream_source));

	self->fd_source = (struct stream_source *)source;
	self->fd_source->owner = self;
	self->fd_source->tag = g_source_add_unix_fd(source, self->fd, 0);
	g_source_set_static_name(source, "imapwatch stream");
	g_source_attach(source, NULL);
}

/* ---- the certificate for diagnostics ------------------------------------ */

static enum stream_verify stream_verify_kind(long result)
{
	switch (result) {
	case X509_V_OK:
		return STREAM_VERIFY_OK;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return STREAM_VERIFY_UNTRUSTED;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return STREAM_VERIFY_NAME_MISMATCH;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return STREAM_VERIFY_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return STREAM_VERIFY_NOT_YET_VALID;
	default:
		return STREAM_VERIFY_OTHER;
	}
}

/* Keeps what doctor shows about the server's certificate, while the SSL
 * object still exists (teardown frees it). A certificate that failed
 * verification is not the session's peer yet, but heads the chain. */
static void stream_capture_certificate(struct stream *self)
{
	X509 *cert = SSL_get0_peer_certificate(self->ssl);
	struct stream_certificate_info *info;
	long result = SSL_get_verify_result(self->ssl);
	struct tm tm;

	if (cert == NULL) {
		STACK_OF(X509) *chain = SSL_get_peer_cert_chain(self->ssl);
		cert = chain != NULL && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) : NULL;
	}
	if (cert == NULL) {
		return;
	}
	info = g_new0(struct stream_certificate_info, 1);
	GString *text = g_string_new(NULL);
	tls_text_append_name(text, X509_get_subject_name(cert));
	info->subject = g_strdup(text->str);
	g_string_truncate(text, 0);
	tls_text_append_name(text, X509_get_issuer_name(cert));
	info->issuer = g_strdup(text->str);
	g_string_truncate(text, 0);
	tls_text_append_cert_names(text, cert);
	info->names = g_strdup(text->str);
	g_string_truncate(text, 0);
	tls_text_append_time(text, X509_get0_notAfter(cert));
	info->not_after = g_string_free(text, FALSE);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) {
		info->not_after_unix = (gint64)timegm(&tm);
	}
	info->verify = stream_verify_kind(result);
	info->verify_reason =
	    g_strdup(result == X509_V_OK ? "ok" : X509_verify_cert_error_string(result));
	stream_certificate_info_free(self->certificate);
	self->certificate = info;
}

/* ---- handshake, write, read --------------------------------------------- */

static char *stream_tls_failure_message(struct stream *self, int ssl_error,
                                        enum stream_error *error_out)
{
	long verify = SSL_get_verify_result(self->ssl);

	if (self->pin_mismatch) {
		/* T7: no offer to trust the new certificate; the user decides. */
		ERR_clear_error();
		*error_out = STREAM_ERROR_CERTIFICATE;
		return g_strdup_printf("certificate of %s does not match tls_fingerprint",
		                       self->host);
	}
	if (verify != X509_V_OK) {
		ERR_clear_error();
		*error_out = STREAM_ERROR_CERTIFICATE;
		return tls_text_describe_verify_error(self->verify_cert, self->host, verify);
	}
	*error_out = STREAM_ERROR_TLS;
	if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_last_error() == 0) {
		if (self->bio_errno != 0) {
			return g_strdup_printf("TLS handshake with %s failed: %s", self->host,
			                       g_strerror(self->bio_errno));
		}
		return g_strdup_printf("TLS handshake with %s failed: connection closed by server",
		                       self->host);
	}
	g_autofree char *reason = stream_openssl_error();
	return g_strdup_printf("TLS handshake with %s failed: %s", self->host, reason);
}

/* Returns false when the stream is gone. */
static bool stream_step_handshake(struct stream *self)
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

static void stream_run(struct stream *self)
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
