/* SPDX-License-Identifier: MIT */
/*
 * Streams that never open: refused, unresolvable, timing out in TCP or in
 * the TLS handshake, or meeting a server that does not speak TLS. No
 * certificates are needed.
 */
#include "stream-harness.h"

#include <gio/gio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/stream/tls/not-tls", test_not_tls);
	g_test_add_func("/stream/tls/timeout", test_handshake_timeout);
	g_test_add_func("/stream/connect/refused", test_connect_refused);
	g_test_add_func("/stream/connect/resolve", test_connect_resolve);
	g_test_add_func("/stream/connect/timeout", test_connect_timeout);
	return g_test_run();
}
