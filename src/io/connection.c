/* SPDX-License-Identifier: MIT */
#include "imapwatch/io/connection.h"

#include "imapwatch/io/password.h"
#include "imapwatch/io/stream.h"

#include <string.h>

#define DEFAULT_RESPONSE_TIMEOUT 30

struct connection {
	const struct config_account *account;
	char *password;
	struct mailbox *mailbox;
	guint idle_refresh;
	guint poll_interval;
	guint response_timeout;
	bool trace;

	const struct connection_ops *ops;
	void *user_data;

	struct stream *stream;
	struct imap_session *session;
	enum imap_session_phase phase;

	guint response_timer;
	guint refresh_timer;
	guint liveness_timer;
	guint probe_timeout; /* seconds for the next wait after a probe, 0 = normal */

	/* L1: servers that send keepalives while idling (Dovecot: "* OK Still
	 * here" every 2 min) let a dead connection be found sooner. */
	gint64 last_idle_rx;  /* monotonic µs of the last byte while idling */
	gint64 keepalive_gap; /* smallest regular gap seen while idling, µs */

	/* The outcome waits here until it is reported from the main loop. */
	bool over;
	bool report_failure;
	enum imap_failure failure;
	char *failure_message;
	guint report_source;
};

static void update_timers(struct connection *c);

static void schedule_report(struct connection *c);

static void conn_send(const char *data, size_t len, void *user_data)
{
	struct connection *c = user_data;

	if (c->stream != NULL) {
		stream_write(c->stream, data, len);
	}
}

static void conn_start_tls(void *user_data)
{
	struct connection *c = user_data;

	if (stream_start_tls(c->stream) < 0) {
		imap_session_transport_closed(c->session, "cannot start TLS on this connection");
	}
}

static void conn_trace(bool outgoing, const char *line, void *user_data)
{
	struct connection *c = user_data;

	g_message("[%s/%s] %s %s", c->account->name, mailbox_get_folder(c->mailbox),
	          outgoing ? "C:" : "S:", line);
}

static void conn_phase_changed(enum imap_session_phase phase, void *user_data)
{
	struct connection *c = user_data;

	c->phase = phase;
	if (c->ops->phase_changed != NULL && !c->over) {
		c->ops->phase_changed(c, phase, c->user_data);
	}
}

static void finish(struct connection *c, bool failed, enum imap_failure failure,
                   const char *message)
{
	if (c->over) {
		return;
	}
	c->over = true;
	c->report_failure = failed;
	c->failure = failure;
	c->failure_message = g_strdup(message);
	if (c->stream != NULL) {
		stream_close(c->stream);
	}
	g_clear_handle_id(&c->response_timer, g_source_remove);
	g_clear_handle_id(&c->refresh_timer, g_source_remove);
	g_clear_handle_id(&c->liveness_timer, g_source_remove);
	schedule_report(c);
}

static void conn_failed(enum imap_failure failure, const char *message, void *user_data)
{
	finish(user_data, true, failure, message);
}

static void conn_finished(void *user_data)
{
	finish(user_data, false, IMAP_FAILURE_TRANSIENT, NULL);
}

static const struct imap_session_ops session_ops = {
    .send = conn_send,
    .start_tls = conn_start_tls,
    .trace = conn_trace,
    .phase_changed = conn_phase_changed,
    .failed = conn_failed,
    .finished = conn_finished,
};

static gboolean report_cb(gpointer data)
{
	struct connection *c = data;

	c->report_source = 0;
	if (c->report_failure) {
		c->ops->failed(c, c->failure, c->failure_message, c->user_data);
	} else {
		c->ops->finished(c, c->user_data);
	}
	return G_SOURCE_REMOVE;
}

static void schedule_report(struct connection *c)
{
	if (c->report_source == 0) {
		c->report_source = g_idle_add(report_cb, c);
	}
}

static gboolean response_timeout_cb(gpointer data)
{
	struct connection *c = data;

	c->response_timer = 0;
	g_autofree char *message =
	    g_strdup_printf("no response from the server within %u s", c->response_timeout);
	imap_session_transport_closed(c->session, message);
	return G_SOURCE_REMOVE;
}

static gboolean refresh_cb(gpointer data)
{
	struct connection *c = data;

	c->refresh_timer = 0;
	imap_session_refresh(c->session);
	update_timers(c);
	return G_SOURCE_REMOVE;
}

/* How long an idling connection may stay silent before it is probed: the
 * IDLE refresh interval, or 2.5 keepalive gaps when the server sends
 * keepalives (at least a minute). */
static guint liveness_seconds(const struct connection *c)
{
	if (c->keepalive_gap <= 0) {
		return c->idle_refresh;
	}
	gint64 s = c->keepalive_gap * 5 / 2 / G_USEC_PER_SEC;
	return (guint)CLAMP(s, 60, (gint64)c->idle_refresh);
}

static gboolean liveness_cb(gpointer data)
{
	struct connection *c = data;

	c->liveness_timer = 0;
	g_debug("no data for %u s from the server of account '%s' folder '%s'; probing",
	        liveness_seconds(c), c->account->name, mailbox_get_folder(c->mailbox));
	imap_session_refresh(c->session);
	update_timers(c);
	return G_SOURCE_REMOVE;
}

static void update_timers(struct connection *c)
{
	if (c->over) {
		return;
	}
	if (imap_session_is_waiting(c->session)) {
		g_clear_handle_id(&c->refresh_timer, g_source_remove);
		g_clear_handle_id(&c->liveness_timer, g_source_remove);
		c->last_idle_rx = 0;
		if (c->response_timer == 0) {
			guint timeout =
			    c->probe_timeout > 0 ? c->probe_timeout : c->response_timeout;
			/* Millisecond timers, not g_timeout_add_seconds(): a dead
			 * connection must be found within idle_refresh + 30 s, and
			 * second timers may fire up to a second late. */
			c->response_timer = g_timeout_add(timeout * 1000, response_timeout_cb, c);
		}
		return;
	}
	g_clear_handle_id(&c->response_timer, g_source_remove);
	c->probe_timeout = 0;
	if (c->phase == IMAP_SESSION_PHASE_IDLE && c->liveness_timer == 0 &&
	    liveness_seconds(c) < c->idle_refresh) {
		c->liveness_timer = g_timeout_add_seconds(liveness_seconds(c), liveness_cb, c);
	}
	if (c->refresh_timer == 0) {
		guint interval =
		    c->phase == IMAP_SESSION_PHASE_POLLING ? c->poll_interval : c->idle_refresh;
		c->refresh_timer = g_timeout_add(interval * 1000, refresh_cb, c);
	}
}

static void stream_cb(struct stream *stream, enum stream_event event, const char *data, size_t len,
                      void *user_data)
{
	struct connection *c = user_data;

	(void)stream;
	if (c->over) {
		return;
	}
	switch (event) {
	case STREAM_EVENT_CONNECTED:
		g_debug("connected to %s:%u for account '%s' folder '%s'%s%s", c->account->host,
		        c->account->port, c->account->name, mailbox_get_folder(c->mailbox),
		        stream_is_tls(c->stream) ? " with " : "",
		        stream_is_tls(c->stream) ? stream_get_tls_description(c->stream) : "");
		break;
	case STREAM_EVENT_TLS_READY:
		g_debug("TLS established for account '%s': %s", c->account->name,
		        stream_get_tls_description(c->stream));
		imap_session_tls_ready(c->session);
		break;
	case STREAM_EVENT_DATA:
		/* Any byte shows the server is alive: restart the wait. */
		g_clear_handle_id(&c->response_timer, g_source_remove);
		if (!imap_session_is_waiting(c->session)) {
			gint64 now = g_get_monotonic_time();

			/* Bursts do not count as keepalives; gaps of 30 s and
			 * more do. */
			if (c->last_idle_rx > 0 && now - c->last_idle_rx >= 30 * G_USEC_PER_SEC &&
			    (c->keepalive_gap == 0 || now - c->last_idle_rx < c->keepalive_gap)) {
				c->keepalive_gap = now - c->last_idle_rx;
			}
			c->last_idle_rx = now;
			g_clear_handle_id(&c->liveness_timer, g_source_remove);
		}
		imap_session_feed(c->session, data, len);
		break;
	case STREAM_EVENT_CLOSED:
		imap_session_transport_closed(c->session, "server closed the connection");
		break;
	case STREAM_EVENT_ERROR: {
		enum stream_error error = stream_get_error(c->stream);
		const char *message = stream_get_error_message(c->stream);

		/* A certificate that does not verify will not verify on the
		 * next attempt either: wait for the user (T3, T7). */
		finish(c, true,
		       error == STREAM_ERROR_CERTIFICATE ? IMAP_FAILURE_PERMANENT
		                                         : IMAP_FAILURE_TRANSIENT,
		       message != NULL ? message : "connection failed");
		return;
	}
	}
	update_timers(c);
}

struct connection *connection_create(const struct connection_params *params,
                                     const struct connection_ops *ops, void *user_data)
{
	struct connection *c = g_new0(struct connection, 1);
	const struct config_account *a = params->account;

	c->account = a;
	c->password = g_strdup(params->password);
	c->mailbox = params->mailbox;
	c->idle_refresh = params->idle_refresh > 0 ? params->idle_refresh : 540;
	c->poll_interval = params->poll_interval > 0 ? params->poll_interval : 120;
	c->response_timeout =
	    params->response_timeout > 0 ? params->response_timeout : DEFAULT_RESPONSE_TIMEOUT;
	c->trace = params->trace;
	c->ops = ops;
	c->user_data = user_data;
	c->phase = IMAP_SESSION_PHASE_CONNECTING;

	struct imap_session_config session_config = {
	    .account = a->name,
	    .security = a->security,
	    .auth = a->auth,
	    .username = a->username,
	    .password = c->password,
	    .trace = c->trace,
	};
	c->session = imap_session_create(&session_config, c->mailbox, &session_ops, c);

	struct stream_config stream_config;
	stream_config_for_account(&stream_config, a, c->response_timeout);
	c->stream = stream_create(&stream_config, stream_cb, c);
	return c;
}

void connection_start(struct connection *c)
{
	g_debug("connecting to %s:%u (%s) for account '%s' folder '%s'", c->account->host,
	        c->account->port, config_security_name(c->account->security), c->account->name,
	        mailbox_get_folder(c->mailbox));
	stream_connect(c->stream);
	update_timers(c);
}

void connection_resync(struct connection *c)
{
	if (c->over) {
		return;
	}
	imap_session_resync(c->session);
	update_timers(c);
}

void connection_probe(struct connection *c, guint timeout)
{
	if (c->over) {
		return;
	}
	if (!imap_session_is_waiting(c->session)) {
		/* A round trip: DONE (or NOOP when polling) must be answered
		 * within timeout, else the connection is dead. */
		c->probe_timeout = timeout;
		imap_session_refresh(c->session);
		update_timers(c);
	}
}

void connection_logout(struct connection *c)
{
	if (c->over) {
		return;
	}
	imap_session_logout(c->session);
	update_timers(c);
}

void connection_destroy(struct connection *c)
{
	if (c == NULL) {
		return;
	}
	g_clear_handle_id(&c->response_timer, g_source_remove);
	g_clear_handle_id(&c->refresh_timer, g_source_remove);
	g_clear_handle_id(&c->liveness_timer, g_source_remove);
	g_clear_handle_id(&c->report_source, g_source_remove);
	stream_destroy(c->stream);
	imap_session_destroy(c->session);
	password_free(c->password);
	g_free(c->failure_message);
	g_free(c);
}

enum imap_session_phase connection_get_phase(const struct connection *c)
{
	return c->phase;
}
