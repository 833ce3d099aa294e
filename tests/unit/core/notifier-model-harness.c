/* SPDX-License-Identifier: MIT */
/* The fixture and events shared by the notifier model tests. */
#include "notifier-model-harness.h"

const struct notifier_model_options default_options = {
    .max = 3,
    .window = WINDOW,
    .startup = CONFIG_STARTUP_SUMMARY,
    .show_location = false,
};

const struct config_notice default_notice = {
    .notify = true,
    .urgency = CONFIG_URGENCY_NORMAL,
    .content = CONFIG_CONTENT_FULL,
    .sound = "message-new-email",
};

void fixture_init(struct fixture *f, const struct notifier_model_options *options)
{
	f->model = notifier_model_create(options ? options : &default_options);
	f->ops = g_ptr_array_new_with_free_func((GDestroyNotify)notifier_op_free);
	f->notice = default_notice;
}

void fixture_clear(struct fixture *f)
{
	notifier_model_destroy(f->model);
	g_ptr_array_unref(f->ops);
}

/* Feeds one event and returns the ops it produced (reset per call). */
GPtrArray *feed(struct fixture *f, const struct watch_event *ev, gint64 now)
{
	g_ptr_array_set_size(f->ops, 0);
	notifier_model_feed(f->model, ev, &f->notice, now, f->ops);
	return f->ops;
}

GPtrArray *set_quiet(struct fixture *f, guint quiet)
{
	g_ptr_array_set_size(f->ops, 0);
	notifier_model_set_quiet(f->model, quiet, f->ops);
	return f->ops;
}

GPtrArray *feed_new(struct fixture *f, const char *folder, uint32_t uid, const char *subject,
                    gint64 now)
{
	/* Every message its own Message-ID: the same one in two folders is
	 * one message (N5). */
	g_autofree char *message_id = g_strdup_printf("<%u.%s@x>", uid, folder);
	struct watch_event ev = {
	    .type = WATCH_EVENT_NEW,
	    .account = "work",
	    .folder = folder,
	    .uidvalidity = 7,
	    .uid = uid,
	    .message_id = message_id,
	    .from_name = "Alice Example",
	    .from_addr = "alice@example.com",
	    .subject = subject,
	};

	return feed(f, &ev, now);
}

GPtrArray *feed_seen(struct fixture *f, const char *folder, uint32_t uid,
                     enum watch_event_type type)
{
	struct watch_event ev = {
	    .type = type,
	    .account = "work",
	    .folder = folder,
	    .uidvalidity = 7,
	    .uid = uid,
	    .seen = true,
	};

	return feed(f, &ev, 0);
}

const struct notifier_op *op_at(GPtrArray *ops, guint i)
{
	g_assert_cmpuint(i, <, ops->len);
	return ops->pdata[i];
}
