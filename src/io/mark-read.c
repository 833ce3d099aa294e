/* SPDX-License-Identifier: MIT */
#include "imapwatch/io/mark-read.h"

#include "imapwatch/core/imap-action.h"
#include "imapwatch/io/stream.h"

#include <gio/gio.h>

/* L4: no byte from the server for this long while a reply is due. */
#define RESPONSE_TIMEOUT 30
/* The whole job, connect to LOGOUT: a user is waiting for it. */
#define DEADLINE 60

struct mark_read_request {
	const struct config_account *account;
	char *folder;
	mark_read_done done;
	void *user_data;

	struct imap_login_io io;
	struct imap_action *action;
	struct stream *stream;

	guint response_timer;
	guint deadline_timer;
	guint report_source;

	/* The outcome waits here until it is reported from the main loop. */
	bool over;
	bool in_callback;
	bool timed_out;
	GError *error;
};

static void request_free(struct mark_read_request *r)
{
	g_clear_handle_id(&r->response_timer, g_source_remove);
	g_clear_handle_id(&r->deadline_timer, g_source_remove);
	g_clear_handle_id(&r->report_source, g_source_remove);
	stream_destroy(r->stream);
	imap_action_destroy(r->action); /* wipes the password */
	g_clear_error(&r->error);
	g_free(r->folder);
	g_free(r);
}

static gboolean report_cb(gpointer data)
{
	struct mark_read_request *r = data;

	r->report_source = 0;
	r->in_callback = true;
	r->done(r->error, r->user_data);
	request_free(r);
	return G_SOURCE_REMOVE;
}

/* Ends the request: closes at once and reports from the main loop (error
 * NULL for success). */
static void finish(struct mark_read_request *r, GError *error)
{
	if (r->over) {
		g_clear_error(&error);
		return;
	}
	r->over = true;
	r->error = error;
	if (r->stream != NULL) {
		stream_close(r->stream);
	}
	g_clear_handle_id(&r->response_timer, g_source_remove);
	g_clear_handle_id(&r->deadline_timer, g_source_remove);
	r->report_source = g_idle_add(report_cb, r);
}

static void action_failed(enum imap_failure failure, const char *message, void *user_data)
{
	struct mark_read_request *r = user_data;

	(void)failure;
	finish(r, g_error_new(G_IO_ERROR, r->timed_out ? G_IO_ERROR_TIMED_OUT : G_IO_ERROR_FAILED,
	                      "cannot mark messages as read in folder '%s' of account '%s': %s",
	                      r->folder, r->account->name, message));
}

static void action_finished(void *user_data)
{
	finish(user_data, NULL);
}

static const struct imap_action_ops action_ops = {
    .failed = action_failed,
    .finished = action_finished,
};

static void io_send(const char *data, size_t len, void *user_data)
{
	struct mark_read_request *r = user_data;

	stream_write(r->stream, data, len);
}

static void io_start_tls(void *user_data)
{
	struct mark_read_request *r = user_data;

	if (stream_start_tls(r->stream) < 0) {
		imap_action_transport_closed(r->action, "cannot start TLS on this connection");
	}
}

static void io_trace(bool outgoing, const char *line, void *user_data)
{
	struct mark_read_request *r = user_data;

	g_message("[%s/%s mark-read] %s %s", r->account->name, r->folder,
	          outgoing ? "C:" : "S:", line);
}

/* A timer ends the wait as if the connection had dropped: the action then
 * says what that means (after the last STORE, nothing is lost). */
static void time_out(struct mark_read_request *r, const char *message)
{
	r->timed_out = true;
	imap_action_transport_closed(r->action, message);
}

static gboolean response_timeout_cb(gpointer data)
{
	struct mark_read_request *r = data;

	r->response_timer = 0;
	time_out(r, "no response from the server within " G_STRINGIFY(RESPONSE_TIMEOUT) " s");
	return G_SOURCE_REMOVE;
}

static gboolean deadline_cb(gpointer data)
{
	struct mark_read_request *r = data;

	r->deadline_timer = 0;
	time_out(r, "not done within " G_STRINGIFY(DEADLINE) " s");
	return G_SOURCE_REMOVE;
}

static void stream_cb(struct stream *stream, enum stream_event event, const char *data, size_t len,
                      void *user_data)
{
	struct mark_read_request *r = user_data;

	(void)stream;
	if (r->over) {
		return;
	}
	switch (event) {
	case STREAM_EVENT_CONNECTED:
		break;
	case STREAM_EVENT_TLS_READY:
		imap_action_tls_ready(r->action);
		break;
	case STREAM_EVENT_DATA:
		/* Any byte shows the server is alive: restart the wait. */
		g_clear_handle_id(&r->response_timer, g_source_remove);
		imap_action_feed(r->action, data, len);
		break;
	case STREAM_EVENT_CLOSED:
		imap_action_transport_closed(r->action, "server closed the connection");
		break;
	case STREAM_EVENT_ERROR: {
		const char *message = stream_get_error_message(r->stream);

		imap_action_transport_closed(r->action,
		                             message != NULL ? message : "connection failed");
		break;
	}
	}
	/* The action always awaits a reply while it runs. */
	if (!r->over && r->response_timer == 0) {
		r->response_timer = g_timeout_add_seconds(RESPONSE_TIMEOUT, response_timeout_cb, r);
	}
}

struct mark_read_request *mark_read_start(const struct config_account *account,
                                          const char *password, const char *folder,
                                          uint32_t uidvalidity, const uint32_t *uids, size_t n_uids,
                                          bool trace, mark_read_done done, void *user_data)
{
	struct mark_read_request *r = g_new0(struct mark_read_request, 1);

	r->account = account;
	r->folder = g_strdup(folder);
	r->done = done;
	r->user_data = user_data;

	if (n_uids == 0) {
		/* Nothing to do: no connection at all. */
		finish(r, NULL);
		return r;
	}
	/* Neither can be 0 (nz-number, RFC 9051 §9): refuse before any
	 * connection rather than send something the server may misread. */
	if (uidvalidity == 0) {
		finish(r, g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		                      "cannot mark messages as read: UIDVALIDITY 0 is not valid"));
		return r;
	}
	for (size_t i = 0; i < n_uids; i++) {
		if (uids[i] == 0) {
			finish(r, g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			                      "cannot mark messages as read: UID 0 is not valid"));
			return r;
		}
	}

	struct imap_action_config config = {
	    .login =
	        {
	            .account = account->name,
	            .security = account->security,
	            .auth = account->auth,
	            .username = account->username,
	            .password = password,
	            .trace = trace,
	        },
	    .folder = folder,
	    .uidvalidity = uidvalidity,
	    .uids = uids,
	    .n_uids = n_uids,
	};
	r->io = (struct imap_login_io){
	    .send = io_send,
	    .start_tls = io_start_tls,
	    .trace = io_trace,
	    .user_data = r,
	};
	r->action = imap_action_create(&config, &r->io, &action_ops, r);

	struct stream_config stream_config;
	stream_config_for_account(&stream_config, account, RESPONSE_TIMEOUT);
	r->stream = stream_create(&stream_config, stream_cb, r);
	stream_connect(r->stream);
	r->response_timer = g_timeout_add_seconds(RESPONSE_TIMEOUT, response_timeout_cb, r);
	r->deadline_timer = g_timeout_add_seconds(DEADLINE, deadline_cb, r);
	return r;
}

void mark_read_cancel(struct mark_read_request *r)
{
	/* From inside done() the request is about to be freed anyway. */
	if (r == NULL || r->in_callback) {
		return;
	}
	request_free(r);
}
