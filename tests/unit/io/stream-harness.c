/* SPDX-License-Identifier: MIT */
#include "stream-harness.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Guard against a hang only; no test waits for it. */
#define TEST_GUARD_SECONDS 60

static char *cert_dir;

/* ---- certificates ------------------------------------------------------- */

char *cert_path(const char *name)
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

void make_certificates(void)
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

void remove_certificates(void)
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

struct server *server_start(enum server_mode mode, const char *cert)
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

bool server_stop(struct server *server)
{
	bool handshake_done;

	g_thread_join(server->thread);
	handshake_done = server->handshake_done;
	close(server->listen_fd);
	SSL_CTX_free(server->ctx);
	g_free(server);
	return handshake_done;
}

uint16_t closed_port(void)
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

struct client *client_new(const struct stream_config *config, client_hook hook)
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

void client_run(struct client *client)
{
	guint guard = g_timeout_add_seconds(TEST_GUARD_SECONDS, client_guard, NULL);

	g_main_loop_run(client->loop);
	g_source_remove(guard);
}

void client_connect(struct client *client)
{
	client->in_call = true;
	stream_connect(client->stream);
	client->in_call = false;
	g_assert_cmpuint(client->events->len, ==, 0);
}

void client_write(struct client *client, const char *data, size_t len)
{
	client->in_call = true;
	stream_write(client->stream, data, len);
	client->in_call = false;
}

void drain_main_context(void)
{
	while (g_main_context_iteration(NULL, FALSE)) {
	}
}

void client_free(struct client *client)
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

enum stream_event client_last_event(struct client *client)
{
	g_assert_cmpuint(client->events->len, >, 0);
	return g_array_index(client->events, enum stream_event, client->events->len - 1);
}

void client_destroy_stream(struct client *client)
{
	stream_destroy(client->stream);
	client->destroyed = true;
}
