/* SPDX-License-Identifier: MIT */
/*
 * Stream tests against an in-process server on 127.0.0.1 (stream-harness.h):
 * TLS and STARTTLS round trips, large writes, closing and destroying the
 * stream from its own callbacks. Certificate verification is tested in
 * test-stream-cert.c, failures to connect in test-stream-connect.c.
 */
#include "stream-harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TEST_LARGE_SIZE (1024 * 1024)

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
	g_test_add_func("/stream/data/large", test_large_round_trip);
	g_test_add_func("/stream/starttls/ok", test_starttls);
	g_test_add_func("/stream/starttls/bad-cert", test_starttls_rejected_cert);
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
