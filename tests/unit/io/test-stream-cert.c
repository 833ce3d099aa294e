/* SPDX-License-Identifier: MIT */
/*
 * Certificate verification of streams against an in-process TLS server
 * (stream-harness.h): each certificate made for the test is refused with
 * words that say why, and a CA file that cannot be loaded fails the connect.
 * The system store is found where OpenSSL's environment says: a hashed
 * directory, or a bundle file.
 */
#include "stream-harness.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

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

/* Connects to the server with the test CA's certificate, no CA file of its
 * own: the system store (as the environment names it) must trust it. */
static void expect_system_store_trust(void)
{
	struct server *server = server_start(SERVER_TLS_ECHO, "server");
	struct stream_config config = {
	    .host = "localhost",
	    .port = server->port,
	    .implicit_tls = true,
	};
	struct client *client = client_new(&config, NULL);

	stream_flush_tls_cache();
	client_connect(client);
	client_run(client);
	g_assert_cmpint(g_array_index(client->events, enum stream_event, 0), ==,
	                STREAM_EVENT_CONNECTED);
	g_assert_true(stream_is_tls(client->stream));
	client_free(client);
	server_stop(server);
	stream_flush_tls_cache();
}

/* A directory holding the test CA under its subject hash, as
 * update-ca-certificates lays out /etc/ssl/certs. New string. */
static char *hashed_dir_with_ca(void)
{
	g_autofree char *ca = cert_path("ca.pem");
	char *dir = g_dir_make_tmp("imapwatch-certs-XXXXXX", NULL);
	FILE *file = fopen(ca, "re");
	X509 *cert;
	g_autofree char *link = NULL;

	g_assert_nonnull(dir);
	g_assert_nonnull(file);
	cert = PEM_read_X509(file, NULL, NULL, NULL);
	fclose(file);
	g_assert_nonnull(cert);
	link = g_strdup_printf("%s/%08lx.0", dir,
	                       X509_NAME_hash_ex(X509_get_subject_name(cert), NULL, NULL, NULL));
	X509_free(cert);
	g_assert_cmpint(symlink(ca, link), ==, 0);
	return dir;
}

static void remove_dir(const char *dir)
{
	g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
	const char *name;

	while (listing != NULL && (name = g_dir_read_name(listing)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_assert_cmpint(g_unlink(path), ==, 0);
	}
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_cert_system_hashed_dir(void)
{
	g_autofree char *dir = hashed_dir_with_ca();
	g_autofree char *both = g_strdup_printf("/nonexistent:%s", dir);
	g_autofree char *store = NULL;

	g_unsetenv("SSL_CERT_FILE");
	/* The second of two directories; no bundle anywhere is needed. */
	g_setenv("SSL_CERT_DIR", both, TRUE);
	store = stream_describe_system_store();
	g_assert_cmpstr(store, ==, dir);
	expect_system_store_trust();
	g_unsetenv("SSL_CERT_DIR");
	remove_dir(dir);
}

static void test_cert_system_bundle(void)
{
	g_autofree char *ca = cert_path("ca.pem");
	g_autofree char *dir = g_dir_make_tmp("imapwatch-certs-XXXXXX", NULL);
	g_autofree char *expected = g_strdup_printf("%s, %s", ca, dir);
	g_autofree char *store = NULL;

	/* A directory without hashed names, and the bundle the user named. */
	g_setenv("SSL_CERT_DIR", dir, TRUE);
	g_setenv("SSL_CERT_FILE", ca, TRUE);
	store = stream_describe_system_store();
	g_assert_cmpstr(store, ==, expected);
	expect_system_store_trust();
	g_unsetenv("SSL_CERT_FILE");
	g_unsetenv("SSL_CERT_DIR");
	remove_dir(dir);
}

int main(int argc, char **argv)
{
	int result;

	g_test_init(&argc, &argv, NULL);
	make_certificates();

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
	g_test_add_func("/stream/cert/system-hashed-dir", test_cert_system_hashed_dir);
	g_test_add_func("/stream/cert/system-bundle", test_cert_system_bundle);

	result = g_test_run();
	remove_certificates();
	return result;
}
