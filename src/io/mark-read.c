/* SPDX-License-Identifier: MIT */
/* Placeholder until the action session lands: refuses every request. */
#include "imapwatch/mark-read.h"

#include <gio/gio.h>

struct mark_read_request {
	mark_read_done done;
	void *user_data;
	guint source;
};

static gboolean fail_cb(gpointer data)
{
	struct mark_read_request *r = data;
	g_autoptr(GError) error =
	    g_error_new_literal(G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "not implemented yet");

	r->source = 0;
	r->done(error, r->user_data);
	g_free(r);
	return G_SOURCE_REMOVE;
}

struct mark_read_request *mark_read_start(const struct config_account *account,
                                          const char *password, const char *folder,
                                          uint32_t uidvalidity, const uint32_t *uids, size_t n_uids,
                                          bool trace, mark_read_done done, void *user_data)
{
	struct mark_read_request *r = g_new0(struct mark_read_request, 1);

	(void)account, (void)password, (void)folder, (void)uidvalidity, (void)uids, (void)n_uids,
	    (void)trace;
	r->done = done;
	r->user_data = user_data;
	r->source = g_idle_add(fail_cb, r);
	return r;
}

void mark_read_cancel(struct mark_read_request *r)
{
	if (r == NULL) {
		return;
	}
	g_clear_handle_id(&r->source, g_source_remove);
	g_free(r);
}
