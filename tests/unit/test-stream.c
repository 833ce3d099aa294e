/* SPDX-License-Identifier: MIT */
/*
 * Stream tests against an in-process server on 127.0.0.1. Certificates are
 * made at run time with the openssl command-line tool in a temporary
 * directory. The server runs in a thread with blocking OpenSSL; the client
 * side runs on the main loop and every test waits for stream events, never
 * for time to pass.
 */
#include "imapwatch/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Guard against a hang only; no test waits for it. */
#define TEST_GUARD_SECONDS 60
#define TEST_LARGE_SIZE    (1024 * 1024)

static char *cert_dir;

/* ---- certificates ------------------------------------------------------- */

static char *cert_path(const char *name)
{
	return g_build_filename(cert_dir, name, NULL);
}

static void run_openssl(const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int status = 0;

	g_ptr_array_add(argv, (char *)"openssl");
	for (const char *const *arg = args; *arg != NULL; arg++) {
		g_ptr_array_add(argv, (char *)*arg);
	}
	g_ptr_array_add(argv, NULL);
	if (!g_spawn_sync(cert_dir, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
	                  &out, &err, &status, &error) ||
	    !g_spawn_check_wait_status(status, &error)) {
		g_error("openssl %s failed: %s\n%s", args[0], error->message, err ? err : "");
	}
}

static void write_cert_file(const char *name, const char *contents)
{
	g_autofree char *path = cert_path(name);
	g_autoptr(GError) error = NULL;

	if (!g_file_set_contents(path, contents, -1, &error)) {
		g_error("cannot write %s: %s", path, error->message);
	}
}

static void make_key_and_request(const char *name, const char *cn)
{
	g_autofree char *key = g_strconcat(name, ".key", NULL);
	g_autofree char *csr = g_strconcat(name, ".csr", NULL);
	g_autofree char *subject = g_strconcat("/CN=", cn, NULL);

	run_openssl((const char *const[]){"req", "-new", "-newkey", "ec", "-pkeyopt",
	                                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
	                                  "-out", csr, "-subj", subject, NULL});
}

static void write_extensions(const char *name, const char *san)
{
	g_autofree char *file = g_strconcat(name, ".ext", NULL);
	g_autofree char *text = g_strdup_printf("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
	                                        "extendedKeyUsage=serverAuth\n",
	                                        san);
	write_cert_file(file, text);
}

/* A leaf signed by the test CA, valid now. */
static void make_leaf(const char *name, const char *cn, const char *san, const char *serial)
{
	g_autofree char *csr = g_strconcat(name, ".csr", NULL);
	g_autofree char *ext = g_strconcat(name, ".ext", NULL);
	g_autofree char *pem = g_strconcat(name, ".pem", NULL);

	make_key_and_request(name, cn);
	write_extensions(name, san);
	run_openssl((const char *const[]){"x509", "-req", "-in", csr, "-CA", "ca.pem", "-CAkey",
	                                  "ca.key", "-set_serial", serial, "-days", "30",
	                                  "-extfile", ext, "-out", pem, NULL});
}

/* `openssl x509` cannot set dates in the past or future; `openssl ca` can. */
static void make_leaf_dated(const char *name, const char *start, const char *end)
{
	g_autofree char *csr = g_strconcat(name, ".csr", NULL);
	g_autofree char *ext = g_strconcat(name, ".ext", NULL);
	g_autofree char *pem = g_strconcat(name, ".pem", NULL);

	make_key_and_request(name, "localhost");
	write_extensions(name, "DNS:localhost");
	run_openssl((const char *const[]){"ca",       "-batch",   "-config", "ca.cnf",     "-cert",
	                                  "ca.pem",   "-keyfile", "ca.key",  "-startdate", start,
	                                  "-enddate", end,        "-in",     csr,          "-out",
	                                  pem,        "-extfile", ext,       "-notext",    NULL});
}

static void make_certificates(void)
{
	g_autofree char *openssl = g_find_program_in_path("openssl");
	g_autoptr(GError) error = NULL;
	g_autofree char *server = NULL;
	g_autofree char *ca = NULL;
	g_autofree char *chain = NULL;

	if (openssl == NULL) {
		g_error("the openssl command is needed to make test certificates");
	}
	cert_dir = g_dir_make_tmp("imapwatch-test-stream-XXXXXX", &error);
	g_assert_no_error(error);

	run_openssl((const char *const[]){"req",
	                                  "-x509",
	                                  "-newkey",
	                                  "ec",
	                                  "-pkeyopt",
	                                  "ec_paramgen_curve:prime256v1",
	                                  "-nodes",
	                                  "-keyout",
	                                  "ca.key",
	                                  "-out",
	                                  "ca.pem",
	                                  "-days",
	                                  "30",
	                                  "-subj",
	                                  "/CN=imapwatch test CA",
	                                  "-addext",
	                                  "basicConstraints=critical,CA:TRUE",
	                                  "-addext",
	                                  "keyUsage=critical,keyCertSign,cRLSign",
	                                  NULL});
	make_leaf("server", "localhost", "DNS:localhost,IP:127.0.0.1", "2");
	make_leaf("other", "other.example", "DNS:mail.other.example,DNS:other.example", "3");
	make_leaf("wildcard", "wildcard", "DNS:f*.test.localhost", "4");

	write_cert_file("ca.cnf", "[ca]\ndefault_ca = test\n"
	                          "[test]\ndatabase = index.txt\nnew_certs_dir = .\n"
	                          "serial = serial\ndefault_md = sha256\npolicy = any\n"
	                          "unique_subject = no\n[any]\ncommonName = supplied\n");
	write_cert_file("index.txt", "");
	write_cert_file("serial", "1000\n");
	make_leaf_dated("expired", "20200101000000Z", "20200102000000Z");
	make_leaf_dated("future", "20990101000000Z", "20991231000000Z");

	run_openssl((const char *const[]){
	    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
	    "-keyout", "self.key", "-out", "self.pem", "-days", "30", "-subj", "/CN=localhost",
	    "-addext", "subjectAltName=DNS:localhost", NULL});

	/* The server's certificate followed by the root, as some servers send. */
	g_autofree char *server_path = cert_path("server.pem");
	g_autofree char *ca_path = cert_path("ca.pem");
	g_file_get_contents(server_path, &server, NULL, &error);
	g_assert_no_error(error);
	g_file_get_contents(ca_path, &ca, NULL, &error);
	g_assert_no_error(error);
	chain = g_strconcat(server, ca, NULL);
	write_cert_file("chain.pem", chain);
	g_autofree char *server_key = cert_path("server.key");
	g_autofree char *key = NULL;
	g_file_get_contents(server_key, &key, NULL, &error);
	g_assert_no_error(error);
	write_cert_file("chain.key", key);
}

static void remove_certificates(void)
{
	g_autoptr(GDir) dir = g_dir_open(cert_dir, 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = cert_path(name);
		g_unlink(path);
	}
	g_rmdir(cert_dir);
	g_clear_pointer(&cert_dir, g_free);
}

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

static void server_write_all(int fd, const char *data)
{
	size_t len = strlen(data);

	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n <= 0) {
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

static void server_wait_eof(int fd)
{
	char buffer[4096];

	while (recv(fd, buffer, sizeof(buffer), 0) > 0) {
	}
}

static void server_tls_write(SSL *ssl, const char *data, size_t len)
{
	size_t written;

	while (len > 0 && SSL_write_ex(ssl, data, len, &written) == 1) {
		data += written;
		len -= written;
	}
}

static void server_tls_session(struct server *server, int fd)
{
	SSL *ssl = SSL_new(server->ctx);
	char buffer[16384];
	size_t n;

	g_assert_nonnull(ssl);
	g_assert_cmpint(SSL_set_fd(ssl, fd), ==, 1);
	if (SSL_accept(ssl) != 1) {
		/* expected in the certificate tests: the client refused us */
		ERR_clear_error();
		SSL_free(ssl);
		return;
	}
	server->handshake_done = true;
	switch (server->mode) {
	case SERVER_TLS_BYE:
		server_tls_write(ssl, "* BYE\r\n", 7);
		(void)SSL_shutdown(ssl);
		break;
	case SERVER_TLS_FLOOD:
		memset(buffer, 'x', sizeof(buffer));
		for (;;) {
			size_t written;
			if (SSL_write_ex(ssl, buffer, sizeof(buffer), &written) != 1) {
				break;
			}
		}
		break;
	default:
		server_tls_write(ssl, "* OK hello\r\n", 12);
		while (SSL_read_ex(ssl, buffer, sizeof(buffer), &n) == 1) {
			server_tls_write(ssl, buffer, n);
		}
		(void)SSL_shutdown(ssl);
		break;
	}
	ERR_clear_error();
	SSL_free(ssl);
}

static bool server_read_line(int fd, GString *line)
{
	char c;

	g_string_truncate(line, 0);
	while (recv(fd, &c, 1, 0) == 1) {
		g_string_append_c(line, c);
		if (c == '\n') {
			return true;
		}
	}
	return false;
}

static gpointer server_thread(gpointer data)
{
	struct server *server = data;
	sigset_t pipe_set;
	int fd;

	/* The server uses OpenSSL's socket BIO, which can raise SIGPIPE; keep
	 * it to this thread so the client under test keeps the default. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);

	fd = accept4(server->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	switch (server->mode) {
	case SERVER_SILENT:
		server_wait_eof(fd);
		break;
	case SERVER_PLAIN_GREETING:
		server_write_all(fd, "* OK plain\r\n");
		server_wait_eof(fd);
		break;
	case SERVER_PLAIN_ABORT: {
		struct linger linger = {.l_onoff = 1, .l_linger = 0};
		char c;
		server_write_all(fd, "* OK plain\r\n");
		/* Abort only once the client is writing, not during its connect. */
		g_assert_cmpint(recv(fd, &c, 1, 0), ==, 1);
		g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger)), ==,
		                0);
		break;
	}
	case SERVER_STARTTLS: {
		g_autoptr(GString) line = g_string_new(NULL);
		server_write_all(fd, "* OK [CAPABILITY IMAP4rev1 STARTTLS] plain\r\n");
		if (server_read_line(fd, line) && g_str_equal(line->str, "a STARTTLS\r\n")) {
			server_write_all(fd, "a OK begin TLS\r\n");
			server_tls_session(server, fd);
		}
		break;
	}
	default:
		server_tls_session(server, fd);
		break;
	}
	close(fd);
	return NULL;
}

/* cert: base name of .pem/.key in cert_dir, or NULL for plaintext modes. */
static struct server *server_start(enum server_mode mode, const char *cert)
{
	struct server *server = g_new0(struct server, 1);
	struct sockaddr_in address = {
	    .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(address);

	server->mode = mode;
	if (cert != NULL) {
		g_autofree char *pem_name = g_strconcat(cert, ".pem", NULL);
		g_autofree char *key_name = g_strconcat(cert, ".key", NULL);
		g_autofree char *pem = cert_path(pem_name);
		g_autofree char *key = cert_path(key_name);
		server->ctx = SSL_CTX_new(TLS_server_method());
		g_assert_nonnull(server->ctx);
		g_assert_cmpint(SSL_CTX_use_certificate_chain_file(server->ctx, pem), ==, 1);
		g_assert_cmpint(SSL_CTX_use_PrivateKey_file(server->ctx, key, SSL_FILETYPE_PEM), ==,
		                1);
	}
	server->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(server->listen_fd, >=, 0);
	g_assert_cmpint(bind(server->listen_fd, (struct sockaddr *)&address, sizeof(address)), ==,
	                0);
	g_assert_cmpint(listen(server->listen_fd, 4), ==, 0);
	g_assert_cmpint(getsockname(server->listen_fd, (struct sockaddr *)&address, &len), ==, 0);
	server->port = ntohs(address.sin_port);
	server->thread = g_thread_new("test-server", server_thread, server);
	return server;
}

/* Waits for the server's one session to end. Returns whether its TLS
 * handshake succeeded. */
static bool server_stop(struct server *server)
{
	bool handshake_done;

	g_thread_join(server->thread);
	handshake_done = server->handshake_done;
	close(server->listen_fd);
	SSL_CTX_free(server->ctx);
	g_free(server);
	return handshake_done;
}

/* A port on 127.0.0.1 that nothing listens on. */
static uint16_t closed_port(void)
{
	struct sockaddr_in address = {
	    .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(address);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&address, sizeof(address)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&address, &len), ==, 0);
	close(fd);
	return ntohs(address.sin_port);
}

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

static void client_on_event(struct stream *source, enum stream_event event, const char *data,
                            size_t len, void *user_data)
{
	struct client *client = user_data;

	g_assert_false(client->in_call);
	g_assert_false(client->destroyed);
	g_assert_true(source == client->stream);
	g_array_append_val(client->events, event);
	switch (event) {
	case STREAM_EVENT_DATA:
		g_assert_cmpuint(len, >, 0);
		g_string_append_len(client->data, data, (gssize)len);
		break;
	case STREAM_EVENT_ERROR:
		client->error = stream_get_error(source);
		client->error_message = g_strdup(stream_get_error_message(source));
		g_test_message("error %d: %s", client->error, client->error_message);
		break;
	case STREAM_EVENT_CONNECTED:
	case STREAM_EVENT_TLS_READY:
		if (stream_is_tls(source)) {
			client->tls_at_connect = true;
			client->tls_description = g_strdup(stream_get_tls_description(source));
		}
		break;
	default:
		break;
	}
	if (client->hook != NULL) {
		client->hook(client, event);
	} else if (event == STREAM_EVENT_ERROR || event == STREAM_EVENT_CLOSED ||
	           event == STREAM_EVENT_CONNECTED) {
		g_main_loop_quit(client->loop);
	}
}

static gboolean client_guard(gpointer user_data)
{
	(void)user_data;
	g_error("test timed out waiting for stream events");
	return G_SOURCE_REMOVE;
}

static struct client *client_new(const struct stream_config *config, client_hook hook)
{
	struct client *client = g_new0(struct client, 1);

	client->loop = g_main_loop_new(NULL, FALSE);
	client->data = g_string_new(NULL);
	client->events = g_array_new(FALSE, FALSE, sizeof(enum stream_event));
	client->hook = hook;
	client->stream = stream_create(config, client_on_event, client);
	g_assert_nonnull(client->stream);
	return client;
}

static void client_run(struct client *client)
{
	guint guard = g_timeout_add_seconds(TEST_GUARD_SECONDS, client_guard, NULL);

	g_main_loop_run(client->loop);
	g_source_remove(guard);
}

static void client_connect(struct client *client)
{
	client->in_call = true;
	stream_connect(client->stream);
	client->in_call = false;
	g_assert_cmpuint(client->events->len, ==, 0);
}

static void client_write(struct client *client, const char *data, size_t len)
{
	client->in_call = true;
	stream_write(client->stream, data, len);
	client->in_call = false;
}

/* Runs whatever is ready, e.g. the completion of a cancelled connect. */
static void drain_main_context(void)
{
	while (g_main_context_iteration(NULL, FALSE)) {
	}
}

static void client_free(struct client *client)
{
	if (!client->destroyed) {
		stream_destroy(client->stream);
	}
	drain_main_context();
	g_main_loop_unref(client->loop);
	g_string_free(client->data, TRUE);
	g_array_unref(client->events);
	g_free(client->error_message);
	g_free(client->tls_description);
	g_free(client);
}

static enum stream_event client_last_event(struct client *client)
{
	g_assert_cmpuint(client->events->len, >, 0);
	return g_array_index(client->events, enum stream_event, client->events->len - 1);
}

static void client_destroy_stream(struct client *client)
{
	stream_destroy(client->stream);
	client->destroyed = true;
}

/* ---- tests -------------------------------------------------------------- */

static void expect_cert_error(const char *cert, const char *host, bool with_ca,
                              const char *const *words)
{
	struct server *server = server_start(SERVER_TLS_ECHO, cert);
	g_autofree char *ca = cert_path("ca.pem");
	struct stream_config config = {
	    .host = host,
	    .port = server->port,
	    .implicit_tls = true,
	    .ca_file = with_ca ? ca : NULL,
	};
	struct client *client = client_new(&config, NULL);

	client_connect(client);
	client_run(client);
	g_assert_cmpint(client_last_event(client), ==, STREAM_EVENT_ERROR);
	g_assert_cmpint(client->error, ==, STREAM_ERROR_CERTIFICATE);
	for (const char *const *word = words; *word != NULL; word++) {
		if (strstr(client->error_message, *word) == NULL) {
			g_error("'%s' not in '%s'", *word, client->error_message);
		}
	}
	g_assert_false(stream_is_tls(client->stream));
	g_assert_null(stream_get_tls_description(client->stream));
	client_free(client);
	g_assert_false(server_stop(server));
}

/* The client's end of the connection to port: the socket in this process
 * whose peer is that port and that is not the server's accepted end. */
static int find_client_socket(uint16_t port)
{
	for (int fd = 3; fd < 1024; fd++) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0 &&
		    peer.sin_family == AF_INET && ntohs(peer.sin_port) == port) {
			return fd;
		}
	}
	return -1;
}

static int socket_option(int fd, int level, int name)
{
	int value = -1;
	socklen_t len = sizeof(value);

	g_assert_cmpint(getsockopt(fd, level, name, &value, &len), ==, 0);
	return value;
}

/* L3 and the fd flags, on the socket the stream uses. */
static void check_client_socket(uint16_t port)
{
	int fd = find_client_socket(port);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(socket_option(fd, SOL_SOCKET, SO_KEEPALIVE), ==, 1);
	g_assert_cmpint(socket_option(fd, IPPROTO_TCP, TCP_KEEPIDLE), ==, 60);
	g_assert_cmpint(socket_option(fd, IPPROTO_TCP, TCP_KEEPINTVL), ==, 10);
	g_assert_cmpint(socket_option(fd, IPPROTO_TCP, TCP_KEEPCNT), ==, 6);
	g_assert_cmpint(socket_option(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), >, 0);
	g_assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	g_assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
}

static void echo_hook(struct client *client, enum stream_event event)
{
	if (event != STREAM_EVENT_DATA) {
		if (event != STREAM_EVENT_CONNECTED) {
			g_main_loop_quit(client->loop);
		}
		return;
	}
	if (g_str_equal(client->data->str, "* OK hello\r\n")) {
		client_write(client, "ping\r\n", 6);
	} else if (g_str_has_suffix(client->data->str, "ping\r\n")) {
		g_main_loop_quit(client->loop);
	}
}

static void run_echo(const char *host)
{
	struct server *server = server_start(SERVER_TLS_ECHO, "server");
	g_autofree char *ca = cert_path("ca.pem");
	struct stream_config config = {
	    .host = host,
	    .port = server->port,
	    .implicit_tls = true,
	    .ca_file = ca,
	};
	struct client *client = client_new(&config, echo_hook);
	size_t events;

	client_connect(client);
	client_run(client);
	check_client_socket(server->port);
	g_assert_cmpstr(client->data->str, ==, "* OK hello\r\nping\r\n");
	g_assert_cmpint(g_array_index(client->events, enum stream_event, 0), ==,
	                STREAM_EVENT_CONNECTED);
	g_assert_true(client->tls_at_connect);
	g_assert_true(g_str_has_prefix(client->tls_description, "TLSv1."));
	g_assert_nonnull(strstr(client->tls_description, ", "));
	g_test_message("negotiated %s", client->tls_description);
	g_assert_cmpint(stream_get_error(client->stream), ==, STREAM_ERROR_NONE);
	g_assert_null(stream_get_error_message(client->stream));

	events = client->events->len;
	stream_close(client->stream);
	stream_write(client->stream, "dropped\r\n", 9);
	g_assert_cmpuint(stream_get_pending_output(client->stream), ==, 0);
	drain_main_context();
	g_assert_cmpuint(client->events->len, ==, events);
	client_free(client);
	server_stop(server);
}

static void test_tls_connect(void)
{
	run_echo("localhost");
}

static void test_tls_connect_ip(void)
{
	run_echo("127.0.0.1");
}

static void test_cert_unknown_issuer(void)
{
	expect_cert_error("server", "localhost", false,
	                  (const char *const[]){"certificate verify failed for localhost",
	                                        "unknown issuer", "CN=imapwatch test CA", NULL});
}

static void test_cert_self_signed(void)
{
	expect_cert_error("self", "localhost", false,
	                  (const char *const[]){"certificate verify failed for localhost",
	                                        "self-signed certificate 'CN=localhost'",
	                                        "not trusted", NULL});
}

static void test_cert_self_signed_in_chain(void)
{
	expect_cert_error("chain", "localhost", false,
	                  (const char *const[]){"self-signed certificate in certificate chain",
	                                        "CN=imapwatch test CA", NULL});
}

static void test_cert_expired(void)
{
	expect_cert_error("expired", "localhost", true,
	                  (const char *const[]){"certificate verify failed for localhost",
	                                        "'CN=localhost' expired on 2020-01-02 00:00:00 UTC",
	                                        NULL});
}

static void test_cert_not_yet_valid(void)
{
	expect_cert_error("future", "localhost", true,
	                  (const char *const[]){"not valid before 2099-01-01 00:00:00 UTC",
	                                        "system clock", NULL});
}

static void test_cert_wrong_host(void)
{
	expect_cert_error("other", "localhost", true,
	                  (const char *const[]){"host name mismatch: certificate is for "
	                                        "mail.other.example, other.example, not localhost",
	                                        NULL});
}

static void test_cert_wrong_ip(void)
{
	expect_cert_error("other", "127.0.0.1", true,
	                  (const char *const[]){"IP address mismatch: certificate is for "
	                                        "mail.other.example, other.example, not 127.0.0.1",
	                                        NULL});
}

static void test_cert_partial_wildcard(void)
{
	g_autofree char *path = cert_path("wildcard.pem");
	FILE *file = fopen(path, "re");
	X509 *cert;

	/* The certificate would match without the T5 flag. */
	g_assert_nonnull(file);
	cert = PEM_read_X509(file, NULL, NULL, NULL);
	fclose(file);
	g_assert_nonnull(cert);
	g_assert_cmpint(X509_check_host(cert, "foo.test.localhost", 0, 0, NULL), ==, 1);
	g_assert_cmpint(X509_check_host(cert, "foo.test.localhost", 0,
	                                X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL),
	                ==, 0);
	X509_free(cert);

	/* *.localhost resolves to loopback inside GLib (RFC 6761). */
	expect_cert_error("wildcard", "foo.test.localhost", true,
	                  (const char *const[]){"host name mismatch: certificate is for "
	                                        "f*.test.localhost, not foo.test.localhost",
	                                        NULL});
}

static void test_cert_bad_ca_file(void)
{
	g_autofree char *missing = cert_path("missing-ca.pem");
	struct stream_config config = {
	    .host = "localhost",
	    .port = closed_port(),
	    .implicit_tls = true,
	    .ca_file = missing,
	};
	struct client *client = client_new(&config, NULL);

	client_connect(client);
	client_run(client);
	g_assert_cmpuint(client->events->len, ==, 1);
	g_assert_cmpint(client_last_event(client), ==, STREAM_EVENT_ERROR);
	g_assert_cmpint(client->error, ==, STREAM_ERROR_CERTIFICATE);
	g_assert_true(g_str_has_prefix(client->error_message, "cannot load CA file '"));
	g_assert_true(
	    g_str_has_suffix(client->error_message, "missing-ca.pem': No such file or directory"));
	client_free(client);
}

/* The ERROR is queued on the main loop; destroying first must drop it. */
static void test_destroy_before_error(void)
{
	g_autofree char *missing = cert_path("missing-ca.pem");
	struct stream_config config = {
	    .host = "localhost",
	    .port = closed_port(),
	    .implicit_tls = true,
	    .ca_file = missing,
	};
	struct client *client = client_new(&config, NULL);

	client_connect(client);
	client_destroy_stream(client);
	client_free(client);
}

static void test_cert_garbage_ca_file(void)
{
	g_autofree char *garbage = cert_path("server.csr");
	struct stream_config config = {
	    .host = "localhost",
	    .port = closed_port(),
	    .implicit_tls = true,
	    .ca_file = garbage,
	};
	struct client *client = client_new(&config, NULL);

	client_connect(client);
	client_run(client);
	g_assert_cmpuint(client->events->len, ==, 1);
	g_assert_cmpint(client->error, ==, STREAM_ERROR_CERTIFICATE);
	g_assert_true(g_str_has_prefix(client->error_message, "cannot load CA file '"));
	client_free(client);
}

static void large_hook(struct client *client, enum stream_event event)
{
	if (event == STREAM_EVENT_CONNECTED) {
		g_autofree char *block = g_malloc(TEST_LARGE_SIZE);
		for (size_t i = 0; i < TEST_LARGE_SIZE; i++) {
			block[i] = (char)('a' + i % 26);
		}
		client_write(client, block, TEST_LARGE_SIZE);
		g_assert_cmpuint(stream_get_pending_output(client->stream), ==, TEST_LARGE_SIZE);
		return;
	}
	if (event != STREAM_EVENT_DATA || client->data->len >= 12 + TEST_LARGE_SIZE) {
		g_main_loop_quit(client->loop);
	}
}

static void test_large_round_trip(void)
{
	struct server *server = server_start(SERVER_TLS_ECHO, "server");
	g_autofree char *ca = cert_path("ca.pem");
	struct stream_config config = {
	    .host = "localhost",
	    .port = server->port,
	    .implicit_tls = true,
	    .ca_file = ca,
	};
	struct client *client = client_new(&config, large_hook);

	client_connect(client);
	client_run(client);
	g_assert_cmpuint(client->data->len, ==, 12 + TEST_LARGE_SIZE);
	g_assert_true(g_str_has_prefix(client->data->str, "* OK hello\r\n"));
	for (size_t i = 0; i < TEST_LARGE_SIZE; i++) {
		if (client->data->str[12 + i] != (char)('a' + i % 26)) {
			g_error("byte %zu differs", i);
		}
	}
	g_assert_cmpuint(stream_get_pending_output(client->stream), ==, 0);
	client_free(client);
	server_stop(server);
}

static void starttls_hook(struct client *client, enum stream_event event)
{
	switch (event) {
	case STREAM_EVENT_CONNECTED:
		g_assert_false(stream_is_tls(client->stream));
		g_assert_null(stream_get_tls_description(client->stream));
		break;
	case STREAM_EVENT_DATA:
		if (g_str_has_suffix(client->data->str, "STARTTLS] plain\r\n")) {
			client_write(client, "a STARTTLS\r\n", 12);
		} else if (g_str_has_suffix(client->data->str, "a OK begin TLS\r\n")) {
			g_string_truncate(client->data, 0);
			client->in_call = true;
			g_assert_cmpint(stream_start_tls(client->stream), ==, 0);
			client->in_call = false;
			g_assert_cmpint(stream_start_tls(client->stream), ==, -EINVAL);
		} else if (g_str_has_suffix(client->data->str, "ping\r\n")) {
			g_main_loop_quit(client->loop);
		}
		break;
	case STREAM_EVENT_TLS_READY:
		g_assert_true(stream_is_tls(client->stream));
		g_assert_cmpuint(client->data->len, ==, 0);
		g_assert_cmpint(stream_start_tls(client->stream), ==, -EINVAL);
		client_write(client, "ping\r\n", 6);
		break;
	default:
		g_main_loop_quit(client->loop);
		break;
	}
}

static void test_starttls(void)
{
	struct server *server = server_start(SERVER_STARTTLS, "server");
	g_autofree char *ca = cert_path("ca.pem");
	struct stream_config config = {
	    .host = "localhost",
	    .port = server->port,
	    .ca_file = ca,
	};
	struct client *client = client_new(&config, starttls_hook);
	static const enum stream_event expected[] = {
	    STREAM_EVENT_CONNECTED,
	    STREAM_EVENT_DATA,
	    STREAM_EVENT_DATA,
	    STREAM_EVENT_TLS_READY,
	};

	g_assert_cmpint(stream_start_tls(client->stream), ==, -EINVAL);
	client_connect(client);
	client_run(client);
	g_assert_cmpstr(client->data->str, ==, "* OK hello\r\nping\r\n");
	g_assert_cmpuint(client->events->len, >=, G_N_ELEMENTS(expected));
	for (size_t i = 0; i < G_N_ELEMENTS(expected); i++) {
		g_assert_cmpint(g_array_index(client->events, enum stream_event, i), ==,
		                expected[i]);
	}
	g_assert_true(g_str_has_prefix(client->tls_description, "TLSv1."));
	client_free(client);
	g_assert_true(server_stop(server));
}

static void test_starttls_rejected_cert(void)
{
	struct server *server = server_start(SERVER_STARTTLS, "self");
	struct stream_config config = {
	    .host = "localhost",
	    .port = server->port,
	};
	struct client *client = client_new(&config, starttls_hook);

	client_connect(client);
	client_run(client);
	g_assert_cmpint(client_last_event(client), ==, STREAM_EVENT_ERROR);
	g_assert_cmpint(client->error, ==, STREAM_ERROR_CERTIFICATE);
	g_assert_false(stream_is_tls(client->stream));
	client_free(client);
	server_stop(server);
}

static void test_connect_refused(void)
{
	struct stream_config config = {
	    .host = "127.0.0.1",
	    .port = closed_port(),
	    .implicit_tls = true,
	};
	struct client *client = client_new(&config, NULL);

	client_connect(client);
	client_run(client);
	g_assert_cmpuint(client->events->len, ==, 1);
	g_assert_cmpint(client->error, ==, STREAM_ERROR_CONNECT);
	g_assert_nonnull(strstr(client->error_message, "refused"));
	client_free(client);
}

/* A resolver that knows no names, so the test needs no DNS. */
typedef struct {
	GResolver parent;
} TestResolver;
typedef struct {
	GResolverClass parent_class;
} TestResolverClass;
static GType test_resolver_get_type(void);
G_DEFINE_TYPE(TestResolver, test_resolver, G_TYPE_RESOLVER)

static GList *test_resolver_lookup(GResolver *resolver, const char *hostname,
                                   GCancellable *cancellable, GError **error)
{
	(void)resolver;
	(void)cancellable;
	g_set_error(error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "no such host: %s",
	            hostname);
	return NULL;
}

static GList *test_resolver_lookup_flags(GResolver *resolver, const char *hostname,
                                         GResolverNameLookupFlags flags, GCancellable *cancellable,
                                         GError **error)
{
	(void)flags;
	return test_resolver_lookup(resolver, hostname, cancellable, error);
}

static void test_resolver_lookup_flags_async(GResolver *resolver, const char *hostname,
                                             GResolverNameLookupFlags flags,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(resolver, cancellable, callback, user_data);

	(void)flags;
	g_task_return_new_error(task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
	                        "no such host: %s", hostname);
}

static void test_resolver_lookup_async(GResolver *resolver, const char *hostname,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data)
{
	test_resolver_lookup_flags_async(resolver, hostname, G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT,
	                                 cancellable, callback, user_data);
}

static GList *test_resolver_lookup_finish(GResolver *resolver, GAsyncResult *result, GError **error)
{
	(void)resolver;
	return g_task_propagate_pointer(G_TASK(result), error);
}

static void test_resolver_class_init(TestResolverClass *klass)
{
	GResolverClass *resolver_class = G_RESOLVER_CLASS(klass);

	resolver_class->lookup_by_name = test_resolver_lookup;
	resolver_class->lookup_by_name_async = test_resolver_lookup_async;
	resolver_class->lookup_by_name_finish = test_resolver_lookup_finish;
	resolver_class->lookup_by_name_with_flags = test_resolver_lookup_flags;
	resolver_class->lookup_by_name_with_flags_async = test_resolver_lookup_flags_async;
	resolver_class->lookup_by_name_with_flags_finish = test_resolver_lookup_finish;
}

static void test_resolver_init(TestResolver *resolver)
{
	(void)resolver;
}

static void test_connect_resolve(void)
{
	g_autoptr(GResolver) saved = g_resolver_get_default();
	g_autoptr(GResolver) fake = g_object_new(test_resolver_get_type(), NULL);
	struct stream_config config = {
	    .host = "imapwatch-test.invalid",
	    .port = 993,
	    .implicit_tls = true,
	};
	struct client *client = client_new(&config, NULL);

	g_resolver_set_default(fake);
	client_connect(client);
	client_run(client);
	g_resolver_set_default(saved);
	g_assert_cmpuint(client->events->len, ==, 1);
	g_assert_cmpint(client->error, ==, STREAM_ERROR_RESOLVE);
	g_assert_nonnull(strstr(client->error_message, "imapwatch-test.invalid"));
	client_free(client);
}

static void test_handshake_timeout(void)
{
	struct server *server = server_start(SERVER_SILENT, NULL);
	struct stream_config config = {
	    .host = "localhost",
	    .port = server->port,
	    .implicit_tls = true,
	    .connect_timeout = 1,
	};
	struct client *client = client_new(&config, NULL);
	gint64 start = g_get_monotonic_time();
	g_autofree char *expected =
	    g_strdup_printf("TLS handshake with localhost:%u timed out after 1 s", server->port);
	gint64 elapsed;

	client_connect(client);
	client_run(client);
	elapsed = g_get_monotonic_time() - start;
	g_assert_cmpint(client->error, ==, STREAM_ERROR_TIMEOUT);
	g_assert_cmpstr(client->error_message, ==, expected);
	g_assert_cmpint(elapsed, >=, 900 * 1000);
	g_assert_cmpint(elapsed, <, 5 * 1000 * 1000);
	client_free(client);
	server_stop(server);
}

/* A listener whose accept queue is full drops further SYNs, so a connect
 * to it neither succeeds nor fails. */
static void test_connect_timeout(void)
{
	struct sockaddr_in address = {
	    .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(address);
	int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int fillers[4];

	g_assert_cmpint(listener, >=, 0);
	g_assert_cmpint(bind(listener, (struct sockaddr *)&address, sizeof(address)), ==, 0);
	g_assert_cmpint(listen(listener, 0), ==, 0);
	g_assert_cmpint(getsockname(listener, (struct sockaddr *)&address, &len), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(fillers); i++) {
		fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		g_assert_cmpint(fillers[i], >=, 0);
		(void)connect(fillers[i], (struct sockaddr *)&address, sizeof(address));
	}

	struct stream_config config = {
	    .host = "127.0.0.1",
	    .port = ntohs(address.sin_port),
	    .implicit_tls = true,
	    .connect_timeout = 1,
	};
	struct client *client = client_new(&config, NULL);
	g_autofree char *expected =
	    g_strdup_printf("connection to 127.0.0.1:%u timed out after 1 s", config.port);

	client_connect(client);
	client_run(client);
	g_assert_cmpint(client->error, ==, STREAM_ERROR_TIMEOUT);
	g_assert_cmpstr(client->error_message, ==, expected);
	client_free(client);
	for (size_t i = 0; i < G_N_ELEMENTS(fillers); i++) {
		close(fillers[i]);
	}
	close(listener);
}

static void test_not_tls(void)
{
	struct server *server = server_start(SERVER_PLAIN_GREETING, NULL);
	struct stream_config config = {
	    .host = "localhost",
	    .port = server->port,
	    .implicit_tls = true,
	};
	struct client *client = client_new(&config, NULL);

	client_connect(client);
	client_run(client);
	g_assert_cmpint(client->error, ==, STREAM_ERROR_TLS);
	g_assert_true(g_str_has_prefix(client->error_message,
	                               "TLS handshake with localhost failed: "
	                               "error:"));
	client_free(client);
	server_stop(server);
}

static void closed_hook(struct client *client, enum stream_event event)
{
	if (event == STREAM_EVENT_CLOSED || event == STREAM_EVENT_ERROR) {
		g_main_loop_quit(client->loop);
	}
}

static void test_peer_close(void)
{
	struct server *server = server_start(SERVER_TLS_BYE, "server");
	g_autofree char *ca = cert_path("ca.pem");
	struct stream_config config = {
	    .host = "localhost",
	    .port = server->port,
	    .implicit_tls = true,
	    .ca_file = ca,
	};
	struct client *client = client_new(&config, closed_hook);

	client_connect(client);
	client_run(client);
	g_assert_cmpint(client_last_event(client), ==, STREAM_EVENT_CLOSED);
	g_assert_cmpstr(client->data->str, ==, "* BYE\r\n");
	g_assert_cmpint(stream_get_error(client->stream), ==, STREAM_ERROR_NONE);
	client_free(client);
	server_stop(server);
}

static void test_peer_close_plain(void)
{
	struct server *server = server_start(SERVER_PLAIN_GREETING, NULL);
	struct stream_config config = {
	    .host = "127.0.0.1",
	    .port = server->port,
	};
	struct client *client = client_new(&config, NULL);

	client_connect(client);
	client_run(client);
	g_assert_cmpint(client_last_event(client), ==, STREAM_EVENT_CONNECTED);
	/* Server waits for EOF; after our close it finishes. */
	client->hook = closed_hook;
	stream_close(client->stream);
	client_free(client);
	server_stop(server);
}

static void abort_hook(struct client *client, enum stream_event event)
{
	if (event == STREAM_EVENT_CONNECTED) {
		return;
	}
	if (event == STREAM_EVENT_DATA) {
		g_autofree char *block = g_malloc0(TEST_LARGE_SIZE);
		client_write(client, block, TEST_LARGE_SIZE);
		return;
	}
	g_main_loop_quit(client->loop);
}

/* Writing into a reset connection must not raise SIGPIPE. */
static void test_write_after_reset(void)
{
	struct server *server = server_start(SERVER_PLAIN_ABORT, NULL);
	struct stream_config config = {
	    .host = "127.0.0.1",
	    .port = server->port,
	};
	struct client *client = client_new(&config, abort_hook);

	client_connect(client);
	client_run(client);
	if (client_last_event(client) == STREAM_EVENT_ERROR) {
		g_assert_cmpint(client->error, ==, STREAM_ERROR_IO);
	} else {
		g_assert_cmpint(client_last_event(client), ==, STREAM_EVENT_CLOSED);
	}
	client_free(client);
	server_stop(server);
}

static void destroy_hook(struct client *client, enum stream_event event)
{
	(void)event;
	client_destroy_stream(client);
	g_main_loop_quit(client->loop);
}

static void run_destroy_in_callback(enum server_mode mode, const char *cert,
                                    enum stream_event destroy_on)
{
	struct server *server = server_start(mode, cert);
	g_autofree char *ca = cert_path("ca.pem");
	struct stream_config config = {
	    .host = "localhost",
	    .port = server->port,
	    .implicit_tls = true,
	    .ca_file = ca,
	};
	struct client *client = client_new(&config, destroy_hook);

	client_connect(client);
	client_run(client);
	g_assert_true(client->destroyed);
	g_assert_cmpint(client_last_event(client), ==, destroy_on);
	/* Nothing may arrive after the destroy (client_on_event asserts). */
	client_free(client);
	server_stop(server);
}

static void test_destroy_on_connected(void)
{
	run_destroy_in_callback(SERVER_TLS_ECHO, "server", STREAM_EVENT_CONNECTED);
}

static void flood_hook(struct client *client, enum stream_event event)
{
	if (event == STREAM_EVENT_DATA) {
		client_destroy_stream(client);
		g_main_loop_quit(client->loop);
	}
}

static void test_destroy_on_data(void)
{
	struct server *server = server_start(SERVER_TLS_FLOOD, "server");
	g_autofree char *ca = cert_path("ca.pem");
	struct stream_config config = {
	    .host = "localhost",
	    .port = server->port,
	    .implicit_tls = true,
	    .ca_file = ca,
	};
	struct client *client = client_new(&config, flood_hook);

	client_connect(client);
	client_run(client);
	g_assert_true(client->destroyed);
	g_assert_cmpint(client_last_event(client), ==, STREAM_EVENT_DATA);
	client_free(client);
	server_stop(server);
}

static void test_destroy_on_error(void)
{
	run_destroy_in_callback(SERVER_TLS_ECHO, "self", STREAM_EVENT_ERROR);
}

static void test_destroy_while_connecting(void)
{
	/* A listening socket nobody accepts on: the kernel completes the
	 * connect, or the stream gives up first. */
	struct sockaddr_in address = {
	    .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(address);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&address, sizeof(address)), ==, 0);
	g_assert_cmpint(listen(fd, 4), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&address, &len), ==, 0);

	struct stream_config config = {
	    .host = "127.0.0.1",
	    .port = ntohs(address.sin_port),
	    .implicit_tls = true,
	};
	struct client *client = client_new(&config, NULL);

	client_connect(client);
	client_destroy_stream(client);
	client_free(client);
	close(fd);
}

int main(int argc, char **argv)
{
	int result;

	g_test_init(&argc, &argv, NULL);
	make_certificates();

	g_test_add_func("/stream/tls/connect", test_tls_connect);
	g_test_add_func("/stream/tls/connect-ip", test_tls_connect_ip);
	g_test_add_func("/stream/tls/not-tls", test_not_tls);
	g_test_add_func("/stream/tls/timeout", test_handshake_timeout);
	g_test_add_func("/stream/cert/unknown-issuer", test_cert_unknown_issuer);
	g_test_add_func("/stream/cert/self-signed", test_cert_self_signed);
	g_test_add_func("/stream/cert/self-signed-in-chain", test_cert_self_signed_in_chain);
	g_test_add_func("/stream/cert/expired", test_cert_expired);
	g_test_add_func("/stream/cert/not-yet-valid", test_cert_not_yet_valid);
	g_test_add_func("/stream/cert/wrong-host", test_cert_wrong_host);
	g_test_add_func("/stream/cert/wrong-ip", test_cert_wrong_ip);
	g_test_add_func("/stream/cert/partial-wildcard", test_cert_partial_wildcard);
	g_test_add_func("/stream/cert/missing-ca-file", test_cert_bad_ca_file);
	g_test_add_func("/stream/cert/garbage-ca-file", test_cert_garbage_ca_file);
	g_test_add_func("/stream/data/large", test_large_round_trip);
	g_test_add_func("/stream/starttls/ok", test_starttls);
	g_test_add_func("/stream/starttls/bad-cert", test_starttls_rejected_cert);
	g_test_add_func("/stream/connect/refused", test_connect_refused);
	g_test_add_func("/stream/connect/resolve", test_connect_resolve);
	g_test_add_func("/stream/connect/timeout", test_connect_timeout);
	g_test_add_func("/stream/close/peer", test_peer_close);
	g_test_add_func("/stream/close/plain", test_peer_close_plain);
	g_test_add_func("/stream/close/reset", test_write_after_reset);
	g_test_add_func("/stream/destroy/on-connected", test_destroy_on_connected);
	g_test_add_func("/stream/destroy/on-data", test_destroy_on_data);
	g_test_add_func("/stream/destroy/on-error", test_destroy_on_error);
	g_test_add_func("/stream/destroy/connecting", test_destroy_while_connecting);
	g_test_add_func("/stream/destroy/before-error", test_destroy_before_error);

	result = g_test_run();
	remove_certificates();
	return result;
}
