/* SPDX-License-Identifier: MIT */
#include "imapwatch/io/link.h"

struct link {
	const struct config_account *account;
	char *label;
	const struct link_ops *ops;
	void *user_data;

	struct imap_client_io io;
	struct imap_client *client;
	struct stream *stream;

	guint response_timer;
	guint timeout;      /* seconds for the wait the timer bounds */
	guint next_timeout; /* link_expect_reply_within(), 0 = none */
	guint deadline_timer;
	guint deadline;
	bool timed_out;

	/* The outcome waits here until it is reported from the main loop. */
	bool closing;
	bool failed;
	enum imap_failure failure;
	char *message;
	guint report_source;
};

static gboolean response_timeout_cb(gpointer data)
{
	struct link *l = data;

	l->response_timer = 0;
	l->timed_out = true;
	g_autofree char *message =
	    g_strdup_printf("no response from the server within %u s", l->timeout);
	imap_client_transport_closed(l->client, IMAP_FAILURE_TRANSIENT, message);
	return G_SOURCE_REMOVE;
}

/* L4: a wait for the server runs the timer; anything else stops it. Called
 * after everything that can start or end a wait. */
static void update_timer(struct link *l)
{
	if (l->closing) {
		return;
	}
	if (!imap_client_is_waiting(l->client)) {
		g_clear_handle_id(&l->response_timer, g_source_remove);
		l->next_timeout = 0;
		return;
	}
	if (l->response_timer == 0) {
		l->timeout = l->next_timeout > 0 ? l->next_timeout : IMAP_RESPONSE_TIMEOUT;
		/* Millisecond timers, not g_timeout_add_seconds(): a dead
		 * connection must be found within idle_refresh + 30 s, and
		 * second timers may fire up to a second late. */
		l->response_timer = g_timeout_add(l->timeout * 1000, response_timeout_cb, l);
	}
}

static void io_send(const char *data, size_t len, void *user_data)
{
	struct link *l = user_data;

	stream_write(l->stream, data, len);
	update_timer(l);
}

static void io_start_tls(void *user_data)
{
	struct link *l = user_data;

	if (stream_start_tls(l->stream) < 0) {
		imap_client_transport_closed(l->client, IMAP_FAILURE_TRANSIENT,
		                             "cannot start TLS on this connection");
	}
}

static void io_trace(bool outgoing, const char *line, void *user_data)
{
	struct link *l = user_data;

	g_message("[%s] %s %s", l->label, outgoing ? "C:" : "S:", line);
}

static void stream_cb(struct stream *stream, enum stream_event event, const char *data, size_t len,
                      void *user_data)
{
	struct link *l = user_data;

	(void)stream;
	if (l->closing) {
		return;
	}
	bool was_waiting = imap_client_is_waiting(l->client);

	switch (event) {
	case STREAM_EVENT_CONNECTED:
		g_debug("connected to %s:%u for %s%s%s", l->account->host, l->account->port,
		        l->label, stream_is_tls(l->stream) ? " with " : "",
		        stream_is_tls(l->stream) ? stream_get_tls_description(l->stream) : "");
		break;
	case STREAM_EVENT_TLS_READY:
		g_debug("TLS established for %s: %s", l->label,
		        stream_get_tls_description(l->stream));
		imap_client_tls_ready(l->client);
		break;
	case STREAM_EVENT_DATA:
		/* Any byte shows the server is alive: restart the wait. */
		g_clear_handle_id(&l->response_timer, g_source_remove);
		imap_client_feed(l->client, data, len);
		break;
	case STREAM_EVENT_CLOSED:
		imap_client_transport_closed(l->client, IMAP_FAILURE_TRANSIENT,
		                             "server closed the connection");
		break;
	case STREAM_EVENT_ERROR: {
		const char *message = stream_get_error_message(l->stream);

		/* A certificate that does not verify will not verify on the
		 * next attempt either: wait for the user (T3, T7). */
		imap_client_transport_closed(l->client,
		                             stream_get_error(l->stream) == STREAM_ERROR_CERTIFICATE
		                                 ? IMAP_FAILURE_PERMANENT
		                                 : IMAP_FAILURE_TRANSIENT,
		                             message != NULL ? message : "connection failed");
		break;
	}
	}
	update_timer(l);
	if (!l->closing && l->ops->stream_event != NULL) {
		l->ops->stream_event(l, event, was_waiting, l->user_data);
	}
}

static gboolean deadline_cb(gpointer data)
{
	struct link *l = data;

	l->deadline_timer = 0;
	l->timed_out = true;
	g_autofree char *message = g_strdup_printf("not done within %u s", l->deadline);
	imap_client_transport_closed(l->client, IMAP_FAILURE_TRANSIENT, message);
	return G_SOURCE_REMOVE;
}

static gboolean report_cb(gpointer data)
{
	struct link *l = data;

	l->report_source = 0;
	l->ops->closed(l, l->failed, l->failure, l->message, l->user_data);
	return G_SOURCE_REMOVE;
}

/* An [ALERT] is for the user, once: a server that repeats it on every
 * login (after each retry) fills the log with the same line. The same text
 * of the same account is logged again only after ALERT_REPEAT_US; the
 * memory is bounded (ALERT_MEMORY texts; then it starts afresh). */
#define ALERT_REPEAT_US ((gint64)60 * 60 * G_USEC_PER_SEC)
#define ALERT_MEMORY    64

static void io_alert(const char *text, void *user_data)
{
	static GHashTable *logged; /* "account\ntext" → gint64 * when */
	struct link *l = user_data;
	g_autofree char *key = g_strconcat(l->account->name, "\n", text, NULL);
	gint64 now = g_get_monotonic_time();
	gint64 *when;

	if (logged == NULL || g_hash_table_size(logged) >= ALERT_MEMORY) {
		g_clear_pointer(&logged, g_hash_table_unref);
		logged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	}
	when = g_hash_table_lookup(logged, key);
	if (when != NULL && now - *when < ALERT_REPEAT_US) {
		g_debug("server alert for account '%s' (logged before): %s", l->account->name,
		        text);
		return;
	}
	g_warning("server alert for account '%s': %s", l->account->name, text);
	when = g_new(gint64, 1);
	*when = now;
	g_hash_table_replace(logged, g_steal_pointer(&key), when);
}

struct link *link_create(const struct config_account *account, const char *label, bool trace,
                         guint connect_timeout, const struct link_ops *ops, void *user_data)
{
	struct link *l = g_new0(struct link, 1);
	struct stream_config config;

	l->account = account;
	l->label = g_strdup(label);
	l->ops = ops;
	l->user_data = user_data;
	l->io = (struct imap_client_io){
	    .send = io_send,
	    .start_tls = io_start_tls,
	    .trace = io_trace,
	    .alert = io_alert,
	    .user_data = l,
	};
	l->client = imap_client_create(account->name, trace, &l->io);
	stream_config_for_account(&config, account,
	                          connect_timeout > 0 ? connect_timeout : IMAP_RESPONSE_TIMEOUT);
	l->stream = stream_create(&config, stream_cb, l);
	return l;
}

void link_destroy(struct link *l)
{
	if (l == NULL) {
		return;
	}
	g_clear_handle_id(&l->response_timer, g_source_remove);
	g_clear_handle_id(&l->deadline_timer, g_source_remove);
	g_clear_handle_id(&l->report_source, g_source_remove);
	stream_destroy(l->stream);
	imap_client_destroy(l->client);
	g_free(l->message);
	g_free(l->label);
	g_free(l);
}

struct imap_client *link_get_client(struct link *l)
{
	return l->client;
}

const struct stream *link_get_stream(const struct link *l)
{
	return l->stream;
}

void link_start(struct link *l)
{
	g_debug("connecting to %s:%u (%s) for %s", l->account->host, l->account->port,
	        config_security_name(l->account->security), l->label);
	stream_connect(l->stream);
	update_timer(l);
}

void link_expect_reply_within(struct link *l, guint seconds)
{
	l->next_timeout = seconds;
	if (l->response_timer != 0 && seconds < l->timeout) {
		/* A wait under way: bound it anew from now. */
		g_clear_handle_id(&l->response_timer, g_source_remove);
		update_timer(l);
	}
}

void link_set_deadline(struct link *l, guint seconds)
{
	g_clear_handle_id(&l->deadline_timer, g_source_remove);
	l->deadline = seconds;
	l->deadline_timer = g_timeout_add_seconds(seconds, deadline_cb, l);
}

bool link_timed_out(const struct link *l)
{
	return l->timed_out;
}

void link_close(struct link *l, bool failed, enum imap_failure failure, const char *message)
{
	if (l->closing) {
		return;
	}
	l->closing = true;
	l->failed = failed;
	l->failure = failure;
	l->message = g_strdup(message);
	imap_client_stop(l->client);
	stream_close(l->stream);
	g_clear_handle_id(&l->response_timer, g_source_remove);
	g_clear_handle_id(&l->deadline_timer, g_source_remove);
	l->report_source = g_idle_add(report_cb, l);
}
