/* SPDX-License-Identifier: MIT */
/*
 * The mark-read driver against a scripted plaintext server on loopback (the
 * protocol itself is covered by test-imap-action, TLS by the integration
 * test): done() comes exactly once and always from the main loop, cancel is
 * safe at any point, a dropped connection is reported.
 */
#include "imapwatch/io/mark-read.h"

#include <gio/gio.h>
#include <string.h>

enum server_mode {
	SERVER_OK,
	SERVER_CLOSE_ON_STORE,
};

struct server {
	GSocketService *service;
	uint16_t port;
	enum server_mode mode;
	GString *received;
	unsigned connections;
	GIOStream *connection;
	GDataInputStream *in;
	GCancellable *cancellable;
};

struct outcome {
	unsigned calls;
	bool in_start;
	bool cancel_in_done;
	struct mark_read_request *request;
	GError *error;
};

static void server_reply(struct server *s, const char *text)
{
	GOutputStream *out = g_io_stream_get_output_stream(s->connection);

	g_assert_true(g_output_stream_write_all(out, text, strlen(text), NULL, NULL, NULL));
}

static void server_close(struct server *s)
{
	g_cancellable_cancel(s->cancellable);
	g_io_stream_close(s->connection, NULL, NULL);
}

static void server_read_line(struct server *s);

static void server_line_cb(GObject *source, GAsyncResult *result, gpointer data)
{
	struct server *s = data;
	g_autofree char *line =
	    g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), result, NULL, NULL);

	if (line == NULL) {
		return; /* closed or cancelled */
	}
	g_strchomp(line);
	g_string_append_printf(s->received, "%s\n", line);
	g_auto(GStrv) words = g_strsplit(line, " ", 3);
	if (words[0] == NULL || words[1] == NULL) {
		server_close(s);
		return;
	}
	g_autofree char *ok = g_strdup_printf("%s OK done\r\n", words[0]);
	if (strcmp(words[1], "AUTHENTICATE") == 0) {
		g_free(ok);
		ok = g_strdup_printf("%s OK [CAPABILITY IMAP4rev1 UNSELECT] in\r\n", words[0]);
	} else if (strcmp(words[1], "SELECT") == 0) {
		server_reply(s, "* OK [UIDVALIDITY 5] x\r\n");
	} else if (strcmp(words[1], "UID") == 0 && s->mode == SERVER_CLOSE_ON_STORE) {
		server_close(s);
		return;
	} else if (strcmp(words[1], "LOGOUT") == 0) {
		server_reply(s, "* BYE bye\r\n");
		server_reply(s, ok);
		server_close(s);
		return;
	}
	server_reply(s, ok);
	server_read_line(s);
}

static void server_read_line(struct server *s)
{
	g_data_input_stream_read_line_async(s->in, G_PRIORITY_DEFAULT, s->cancellable,
	                                    server_line_cb, s);
}

static gboolean server_incoming(GSocketService *service, GSocketConnection *connection,
                                GObject *source, gpointer data)
{
	struct server *s = data;

	(void)service;
	(void)source;
	s->connections++;
	/* A cancelled request may have connected all the same: keep only the
	 * newest connection; reads pending on an older one just fail. */
	g_clear_object(&s->in);
	if (s->connection != NULL) {
		g_io_stream_close(s->connection, NULL, NULL);
		g_clear_object(&s->connection);
	}
	s->connection = g_object_ref(G_IO_STREAM(connection));
	s->in = g_data_input_stream_new(g_io_stream_get_input_stream(s->connection));
	server_reply(s, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR UNSELECT] hi\r\n");
	server_read_line(s);
	return TRUE;
}

static void server_start(struct server *s, enum server_mode mode)
{
	*s = (struct server){
	    .service = g_socket_service_new(),
	    .mode = mode,
	    .received = g_string_new(NULL),
	    .cancellable = g_cancellable_new(),
	};
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) bound = NULL;

	g_assert_true(g_socket_listener_add_address(G_SOCKET_LISTENER(s->service), address,
	                                            G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
	                                            NULL, &bound, NULL));
	s->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
	g_signal_connect(s->service, "incoming", G_CALLBACK(server_incoming), s);
	g_socket_service_start(s->service);
}

static void server_stop(struct server *s)
{
	g_cancellable_cancel(s->cancellable);
	g_socket_service_stop(s->service);
	g_socket_listener_close(G_SOCKET_LISTENER(s->service));
	g_clear_object(&s->in);
	if (s->connection != NULL) {
		g_io_stream_close(s->connection, NULL, NULL);
		g_clear_object(&s->connection);
	}
	/* Let cancelled reads finish while s is still alive. */
	while (g_main_context_iteration(NULL, FALSE)) {
	}
	g_clear_object(&s->service);
	g_clear_object(&s->cancellable);
	g_string_free(s->received, TRUE);
}

static void done_cb(const GError *error, void *user_data)
{
	struct outcome *o = user_data;

	/* Never from inside mark_read_start(). */
	g_assert_false(o->in_start);
	o->calls++;
	g_clear_error(&o->error);
	o->error = error != NULL ? g_error_copy(error) : NULL;
	if (o->cancel_in_done) {
		mark_read_cancel(o->request); /* does nothing: freed after done() */
	}
}

static struct config_account account_for(uint16_t port)
{
	return (struct config_account){
	    .name = (char *)"test",
	    .host = (char *)"127.0.0.1",
	    .port = port,
	    .security = CONFIG_SECURITY_NONE,
	    .allow_plaintext = true,
	    .username = (char *)"alice",
	};
}

static void start(struct outcome *o, const struct config_account *account, const uint32_t *uids,
                  size_t n_uids, uint32_t uidvalidity)
{
	o->in_start = true;
	g_autoptr(secret) password = secret_new("s3cret");

	o->request = mark_read_start(account, password, "INBOX", uidvalidity, uids, n_uids, false,
	                             done_cb, o);
	o->in_start = false;
	g_assert_nonnull(o->request);
}

/* Runs the loop until done() came, and a little after to catch a second
 * call. */
static void wait_done(struct outcome *o)
{
	while (o->calls == 0) {
		g_main_context_iteration(NULL, TRUE);
	}
	while (g_main_context_iteration(NULL, FALSE)) {
	}
	g_assert_cmpuint(o->calls, ==, 1);
}

static void test_success(void)
{
	static const uint32_t uids[] = {3, 1, 2, 9};
	struct server s;
	struct outcome o = {0};

	server_start(&s, SERVER_OK);
	struct config_account account = account_for(s.port);
	o.cancel_in_done = true;
	start(&o, &account, uids, G_N_ELEMENTS(uids), 5);
	wait_done(&o);
	g_assert_no_error(o.error);
	g_assert_cmpstr(s.received->str, ==,
	                "A1 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA==\n"
	                "A2 SELECT INBOX\n"
	                "A3 UID STORE 1:3,9 +FLAGS.SILENT (\\Seen)\n"
	                "A4 UNSELECT\n"
	                "A5 LOGOUT\n");
	server_stop(&s);
}

/* Marks UID 4 in a folder whose UIDVALIDITY is 5, expecting a failure whose
 * message holds expected; returns whether a STORE reached the server. */
static bool run_failing(enum server_mode mode, uint32_t uidvalidity, const char *expected)
{
	static const uint32_t uids[] = {4};
	struct server s;
	struct outcome o = {0};

	server_start(&s, mode);
	struct config_account account = account_for(s.port);
	start(&o, &account, uids, G_N_ELEMENTS(uids), uidvalidity);
	wait_done(&o);
	g_assert_error(o.error, G_IO_ERROR, G_IO_ERROR_FAILED);
	g_assert_nonnull(strstr(o.error->message, "folder 'INBOX' of account 'test'"));
	g_assert_nonnull(strstr(o.error->message, expected));
	g_clear_error(&o.error);
	bool stored = strstr(s.received->str, "STORE") != NULL;
	server_stop(&s);
	return stored;
}

static void test_closed_during_store(void)
{
	g_assert_true(
	    run_failing(SERVER_CLOSE_ON_STORE, 5, "some messages may have been marked as read"));
}

static void test_wrong_uidvalidity(void)
{
	g_assert_false(run_failing(SERVER_OK, 6, "nothing was changed"));
}

/* Nothing to do, or nothing valid: no connection, done() all the same. */
static void test_without_connection(void)
{
	static const uint32_t zero[] = {5, 0};
	struct server s;
	struct outcome o = {0};

	server_start(&s, SERVER_OK);
	struct config_account account = account_for(s.port);

	start(&o, &account, NULL, 0, 5);
	wait_done(&o);
	g_assert_no_error(o.error);

	o.calls = 0;
	start(&o, &account, zero, G_N_ELEMENTS(zero), 5);
	wait_done(&o);
	g_assert_error(o.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_clear_error(&o.error);

	o.calls = 0;
	start(&o, &account, &zero[0], 1, 0);
	wait_done(&o);
	g_assert_error(o.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_clear_error(&o.error);

	g_assert_cmpuint(s.connections, ==, 0);
	server_stop(&s);
}

static void test_refused(void)
{
	static const uint32_t uids[] = {4};
	struct server s;
	struct outcome o = {0};

	/* A port that was just free and is closed again. */
	server_start(&s, SERVER_OK);
	struct config_account account = account_for(s.port);
	server_stop(&s);
	start(&o, &account, uids, G_N_ELEMENTS(uids), 5);
	wait_done(&o);
	g_assert_error(o.error, G_IO_ERROR, G_IO_ERROR_FAILED);
	g_assert_nonnull(strstr(o.error->message, "nothing was changed"));
	g_clear_error(&o.error);
}

/* Cancel at once, after the server saw the connection, and after done() was
 * queued but before it ran: done() never comes. */
static void test_cancel(void)
{
	static const uint32_t uids[] = {4};
	struct server s;
	struct outcome o = {0};

	server_start(&s, SERVER_OK);
	struct config_account account = account_for(s.port);

	start(&o, &account, uids, G_N_ELEMENTS(uids), 5);
	mark_read_cancel(o.request);

	start(&o, &account, uids, G_N_ELEMENTS(uids), 5);
	while (strstr(s.received->str, "SELECT") == NULL) {
		g_main_context_iteration(NULL, TRUE);
	}
	mark_read_cancel(o.request);

	start(&o, &account, NULL, 0, 5); /* done() is queued at once */
	mark_read_cancel(o.request);
	mark_read_cancel(NULL);

	while (g_main_context_iteration(NULL, FALSE)) {
	}
	g_assert_cmpuint(o.calls, ==, 0);
	server_stop(&s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mark-read/success", test_success);
	g_test_add_func("/mark-read/closed-during-store", test_closed_during_store);
	g_test_add_func("/mark-read/wrong-uidvalidity", test_wrong_uidvalidity);
	g_test_add_func("/mark-read/without-connection", test_without_connection);
	g_test_add_func("/mark-read/refused", test_refused);
	g_test_add_func("/mark-read/cancel", test_cancel);
	return g_test_run();
}
