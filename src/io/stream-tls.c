/* SPDX-License-Identifier: MIT */
/*
 * The OpenSSL side of a stream: contexts (shared per CA file), the SSL
 * object with SNI and the host-name check, certificate pinning, our socket
 * BIO, and the words for what a handshake or a certificate did. No state
 * changes and no events here: stream-io.c and stream.c drive the stream.
 */
#include "io/stream-private.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <time.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SSL_CTX, SSL_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SSL, SSL_free)

void stream_certificate_info_free(struct stream_certificate_info *info)
{
	if (info == NULL) {
		return;
	}
	g_free(info->subject);
	g_free(info->issuer);
	g_free(info->names);
	g_free(info->not_after);
	g_free(info->verify_reason);
	g_free(info->sha256);
	g_free(info);
}

/* The OpenSSL error queue as one line, emptied. */
char *stream_openssl_error(void)
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

BIO_METHOD *stream_bio_method_new(void)
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

/* Whether a directory holds certificates under their subject hash
 * ("5ad8a5d6.0", as c_rehash and update-ca-certificates name them). */
static bool stream_dir_is_hashed(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		size_t n = strspn(name, "0123456789abcdef");

		if (n == 8 && name[8] == '.' && g_ascii_isdigit(name[9])) {
			return true;
		}
	}
	return false;
}

/* The system trust store (T3). A hashed directory is read lazily, one
 * issuer when a chain needs it; the bundle file would be parsed whole, some
 * 800 KiB of heap for a distribution's 140 roots. The file serves where no
 * directory has hashed names, or where the user named one with
 * SSL_CERT_FILE. SSL_CERT_DIR may list several directories. Returns the
 * first hashed directory (new string), or NULL for the file. */
static char *stream_system_store_hashed_dir(void)
{
	const char *dirs = g_getenv(X509_get_default_cert_dir_env());
	g_auto(GStrv) paths = NULL;

	if (g_getenv(X509_get_default_cert_file_env()) != NULL) {
		return NULL;
	}
	paths = g_strsplit(dirs != NULL ? dirs : X509_get_default_cert_dir(),
	                   G_SEARCHPATH_SEPARATOR_S, -1);
	for (char **path = paths; *path != NULL; path++) {
		if (stream_dir_is_hashed(*path)) {
			return g_strdup(*path);
		}
	}
	return NULL;
}

static bool stream_system_store_load(SSL_CTX *ctx)
{
	g_autofree char *dir = stream_system_store_hashed_dir();

	return (dir != NULL ? SSL_CTX_set_default_verify_dir(ctx)
	                    : SSL_CTX_set_default_verify_paths(ctx)) == 1;
}

char *stream_describe_system_store(void)
{
	g_autofree char *dir = stream_system_store_hashed_dir();
	const char *file = g_getenv(X509_get_default_cert_file_env());
	const char *dirs = g_getenv(X509_get_default_cert_dir_env());

	if (dir != NULL) {
		return g_strdup(dir);
	}
	return g_strdup_printf("%s, %s", file != NULL ? file : X509_get_default_cert_file(),
	                       dirs != NULL ? dirs : X509_get_default_cert_dir());
}

/* Protocol floor and verification (T2, T3); false on an OpenSSL failure. */
static bool stream_ssl_ctx_configure(SSL_CTX *ctx)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		return false;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, stream_verify_callback);
	if (!stream_system_store_load(ctx)) {
		return false;
	}
	/* The output buffer may grow (and move) between a WANT_WRITE and the
	 * retry; partial writes let us drop what went out record by record. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                          SSL_MODE_RELEASE_BUFFERS);
	/* Many servers drop TCP without close_notify. IMAP is self-delimiting,
	 * so truncation cannot forge a response; report it as CLOSED. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return true;
}

/* Contexts by CA file ("" for the system store only). A loaded store is
 * not small, so connections share them; the cache holds one reference per
 * entry. */
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
SSL_CTX *stream_ssl_ctx_new(const char *ca_file, enum stream_error *error_out, char **message_out)
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
SSL *stream_ssl_new(struct stream *self)
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
void stream_capture_certificate(struct stream *self)
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
	stream_text_append_name(text, X509_get_subject_name(cert));
	info->subject = g_strdup(text->str);
	g_string_truncate(text, 0);
	stream_text_append_name(text, X509_get_issuer_name(cert));
	info->issuer = g_strdup(text->str);
	g_string_truncate(text, 0);
	stream_text_append_cert_names(text, cert);
	info->names = g_strdup(text->str);
	g_string_truncate(text, 0);
	stream_text_append_time(text, X509_get0_notAfter(cert));
	info->not_after = g_string_free(text, FALSE);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) {
		info->not_after_unix = (gint64)timegm(&tm);
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (X509_digest(cert, EVP_sha256(), md, &md_len) == 1) {
		GString *hex = g_string_new("sha256:");

		for (unsigned int i = 0; i < md_len; i++) {
			g_string_append_printf(hex, "%s%02X", i > 0 ? ":" : "", md[i]);
		}
		info->sha256 = g_string_free(hex, FALSE);
	}
	info->verify = stream_verify_kind(result);
	info->verify_reason =
	    g_strdup(result == X509_V_OK ? "ok" : X509_verify_cert_error_string(result));
	stream_certificate_info_free(self->certificate);
	self->certificate = info;
}

char *stream_tls_failure_message(struct stream *self, int ssl_error, enum stream_error *error_out)
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
		return stream_text_describe_verify_error(self->verify_cert, self->host, verify);
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
