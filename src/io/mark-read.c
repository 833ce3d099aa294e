/* SPDX-License-Identifier: MIT */
#include "imapwatch/io/mark-read.h"

#include "imapwatch/core/imap-action.h"
#include "imapwatch/io/link.h"

#include <gio/gio.h>

/* The whole job, connect to LOGOUT: a user is waiting for it. */
#define DEADLINE 60

struct mark_read_request {
	const struct config_account *account;
	struct secret *password; /* a reference: the request may outlive the account's use */
	char *folder;
	mark_read_done done;
	void *user_data;

	struct link *link;
	struct imap_action *action;

	guint report_source; /* only for a request that ends before connecting */
	bool in_callback;
	GError *error;
};

static void request_free(struct mark_read_request *r)
{
	g_clear_handle_id(&r->report_source, g_source_remove);
	imap_action_destroy(r->action);
	link_destroy(r->link);
	secret_unref(r->password);
	g_clear_error(&r->error);
	g_free(r->folder);
	g_free(r);
}

static void report(struct mark_read_request *r)
{
	r->in_callback = true;
	r->done(r->error, r->user_data);
	request_free(r);
}

static void action_failed(enum imap_failure failure, const char *message, void *user_data)
{
	struct mark_read_request *r = user_data;

	link_close(r->link, true, failure, message);
}

static void action_finished(void *user_data)
{
	struct mark_read_request *r = user_data;

	link_close(r->link, false, IMAP_FAILURE_TRANSIENT, NULL);
}

static const struct imap_action_ops action_ops = {
    .failed = action_failed,
    .finished = action_finished,
};

static void link_closed(struct link *link, bool failed, enum imap_failure failure,
                        const char *message, void *user_data)
{
	struct mark_read_request *r = user_data;

	(void)failure;
	if (failed) {
		r->error = g_error_new(
		    G_IO_ERROR, link_timed_out(link) ? G_IO_ERROR_TIMED_OUT : G_IO_ERROR_FAILED,
		    "cannot mark messages as read in folder '%s' of account '%s': %s", r->folder,
		    r->account->name, message);
	}
	report(r);
}

static const struct link_ops link_ops = {
    .closed = link_closed,
};

static gboolean report_cb(gpointer data)
{
	struct mark_read_request *r = data;

	r->report_source = 0;
	report(r);
	return G_SOURCE_REMOVE;
}

/* Ends a request that never connects: reported from the main loop. */
static struct mark_read_request *end_early(struct mark_read_request *r, GError *error)
{
	r->error = error;
	r->report_source = g_idle_add(report_cb, r);
	return r;
}

struct mark_read_request *mark_read_start(const struct config_account *account,
                                          struct secret *password, const char *folder,
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
		return end_early(r, NULL);
	}
	/* Neither can be 0 (nz-number, RFC 9051 §9): refuse before any
	 * connection rather than send something the server may misread. */
	if (uidvalidity == 0) {
		return end_early(r, g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		                                "cannot mark messages as read: UIDVALIDITY 0 is "
		                                "not valid"));
	}
	for (size_t i = 0; i < n_uids; i++) {
		if (uids[i] == 0) {
			return end_early(r, g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			                                "cannot mark messages as read: UID 0 is "
			                                "not valid"));
		}
	}

	r->password = secret_ref(password);
	struct imap_action_config config = {
	    .account = account,
	    .password = secret_get(r->password),
	    .folder = folder,
	    .uidvalidity = uidvalidity,
	    .uids = uids,
	    .n_uids = n_uids,
	};
	g_autofree char *label = g_strdup_printf("%s/%s mark-read", account->name, folder);

	r->link = link_create(account, label, trace, 0, &link_ops, r);
	r->action = imap_action_create(link_get_client(r->link), &config, &action_ops, r);
	link_set_deadline(r->link, DEADLINE);
	link_start(r->link);
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
