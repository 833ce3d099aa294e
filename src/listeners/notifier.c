/* SPDX-License-Identifier: MIT */
/*
 * Desktop notifications: the main-loop half (event listener, model,
 * actions) and the notifier thread (libnotify). The two halves share only
 * the two queues under `lock`: operations to the thread, replies (popup
 * closed, action invoked, server gone) back to the main loop.
 */
#include "imapwatch/listeners/notifier.h"

#include "imapwatch/core/notifier-model.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gdesktopappinfo.h>
#include <gio/gio.h>
#include <libnotify/notify.h>
#include <unistd.h>

#define NOTIFICATIONS_NAME "org.freedesktop.Notifications"
#define APP_NAME           "imapwatch"
/* Must match the .desktop file we ship (data/imapwatchd.desktop). */
#define DESKTOP_ENTRY "imapwatchd"
#define ICON          "mail-unread"
#define SOUND         "message-new-email"
/* A burst is over after this long without new mail in its folder. */
#define BURST_WINDOW (30 * G_USEC_PER_SEC)
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 60000

enum reply_type {
	REPLY_CLOSED, /* a popup went away */
	REPLY_GONE,   /* the server went away with every popup */
	REPLY_OPEN,   /* default action */
	REPLY_MARK_READ,
};

struct reply {
	enum reply_type type;
	guint64 slot;
};

/* Notifier thread only. */
struct popup {
	struct notifier *notifier;
	guint64 slot;
	NotifyNotification *notification;
	gulong closed_handler;
	bool open;
};

/* A mark-as-read request in flight, for its log line. */
struct mark_context {
	struct notifier *notifier;
	char *account;
};

struct notifier {
	/* Main loop only. */
	struct daemon *daemon;
	guint listener;
	struct notifier_model *model;
	GPtrArray *marks; /* struct mark_context * */

	/* Shared, under lock. */
	GMutex lock;
	GCond finished_cond;
	GQueue pending;      /* struct notifier_op *, oldest first */
	GHashTable *by_slot; /* &op->slot → GList * link in pending */
	bool wake_scheduled; /* a drain is queued on the thread's context */
	bool warned_full;
	GQueue replies;        /* struct reply * */
	GSource *reply_source; /* attached to the main context, or NULL */
	bool stopping;
	bool finished;

	GThread *thread;
	GMainContext *context;
	GMainLoop *loop;

	/* Notifier thread only. */
	GHashTable *popups; /* &popup->slot → struct popup * */
	guint watch;
	bool caps_known;
	bool has_actions;
	bool has_markup;
	guint backoff_ms;
	GSource *retry;
	bool failing; /* the current outage has been logged */
};

/* --- thread → main loop -------------------------------------------------- */

static void handle_reply(struct notifier *n, const struct reply *r);

static gboolean replies_cb(gpointer data)
{
	struct notifier *n = data;
	GQueue replies = G_QUEUE_INIT;

	g_mutex_lock(&n->lock);
	replies = n->replies;
	g_queue_init(&n->replies);
	g_clear_pointer(&n->reply_source, g_source_unref);
	g_mutex_unlock(&n->lock);
	for (GList *l = replies.head; l != NULL; l = l->next) {
		handle_reply(n, l->data);
	}
	g_queue_clear_full(&replies, g_free);
	return G_SOURCE_REMOVE;
}

static void reply_push(struct notifier *n, enum reply_type type, guint64 slot)
{
	struct reply *r = g_new0(struct reply, 1);

	r->type = type;
	r->slot = slot;
	g_mutex_lock(&n->lock);
	if (n->stopping) {
		g_mutex_unlock(&n->lock);
		g_free(r);
		return;
	}
	g_queue_push_tail(&n->replies, r);
	/* The source is kept so that notifier_destroy() can remove it: it
	 * must not run after the notifier is freed. */
	if (n->reply_source == NULL) {
		n->reply_source = g_idle_source_new();
		g_source_set_callback(n->reply_source, replies_cb, n, NULL);
		g_source_attach(n->reply_source, NULL);
	}
	g_mutex_unlock(&n->lock);
}

/* --- main loop → thread: the operation queue ----------------------------- */

static gboolean drain_cb(gpointer data);

/* older is replaced by newer for the same popup; what older promised
 * survives: a sound for new mail, a show that is not just an update. */
static void op_merge(const struct notifier_op *older, struct notifier_op *newer)
{
	if (older->type == NOTIFIER_OP_SHOW && newer->type == NOTIFIER_OP_SHOW) {
		newer->sound = newer->sound || older->sound;
		newer->only_if_shown = newer->only_if_shown && older->only_if_shown;
	}
}

/* Under lock. Returns false when op was dropped (queue full). */
static bool queue_add_locked(struct notifier *n, struct notifier_op *op, bool at_head)
{
	GList *link = g_hash_table_lookup(n->by_slot, &op->slot);

	if (link != NULL) {
		struct notifier_op *queued = link->data;

		/* at_head: op is an older one coming back after a failure. */
		if (at_head) {
			op_merge(op, queued);
			notifier_op_free(op);
			return true;
		}
		op_merge(queued, op);
		link->data = op;
		g_hash_table_replace(n->by_slot, &op->slot, link);
		notifier_op_free(queued);
		return true;
	}
	if (n->pending.length >= NOTIFIER_QUEUE_MAX && !at_head) {
		if (!n->warned_full) {
			n->warned_full = true;
			g_warning("the notification server is not keeping up; dropping "
			          "notifications");
		}
		notifier_op_free(op);
		return false;
	}
	if (at_head) {
		g_queue_push_head(&n->pending, op);
		g_hash_table_insert(n->by_slot, &op->slot, n->pending.head);
	} else {
		g_queue_push_tail(&n->pending, op);
		g_hash_table_insert(n->by_slot, &op->slot, n->pending.tail);
	}
	return true;
}

static void queue_push(struct notifier *n, struct notifier_op *op)
{
	g_mutex_lock(&n->lock);
	queue_add_locked(n, op, false);
	if (!n->wake_scheduled) {
		n->wake_scheduled = true;
		/* Adds an idle source to the thread's context; never blocks. */
		g_main_context_invoke(n->context, drain_cb, n);
	}
	g_mutex_unlock(&n->lock);
}

static struct notifier_op *queue_pop(struct notifier *n)
{
	struct notifier_op *op;

	g_mutex_lock(&n->lock);
	op = g_queue_pop_head(&n->pending);
	if (op != NULL) {
		g_hash_table_remove(n->by_slot, &op->slot);
	} else {
		n->warned_full = false;
	}
	g_mutex_unlock(&n->lock);
	return op;
}

/* --- notifier thread: libnotify ------------------------------------------ */

static void popup_free(struct popup *p)
{
	g_clear_signal_handler(&p->closed_handler, p->notification);
	g_object_unref(p->notification);
	g_free(p);
}

static void popup_closed_cb(NotifyNotification *notification, gpointer data)
{
	struct popup *p = data;

	(void)notification;
	p->open = false;
	reply_push(p->notifier, REPLY_CLOSED, p->slot);
}

static void popup_action_cb(NotifyNotification *notification, char *action, gpointer data)
{
	struct popup *p = data;

	(void)notification;
	reply_push(p->notifier, g_str_equal(action, "mark-read") ? REPLY_MARK_READ : REPLY_OPEN,
	           p->slot);
}

/* Blocking: asks the server (once per server) what it can do. */
static bool caps_ensure(struct notifier *n)
{
	GList *caps;

	if (n->caps_known) {
		return true;
	}
	caps = notify_get_server_caps();
	if (caps == NULL) {
		return false;
	}
	n->has_actions = g_list_find_custom(caps, "actions", (GCompareFunc)g_strcmp0) != NULL;
	n->has_markup = g_list_find_custom(caps, "body-markup", (GCompareFunc)g_strcmp0) != NULL;
	n->caps_known = true;
	g_list_free_full(caps, g_free);
	g_debug("notification server: actions %s, body markup %s", n->has_actions ? "yes" : "no",
	        n->has_markup ? "yes" : "no");
	return true;
}

static void popup_set_details(struct notifier *n, struct popup *p, const struct notifier_op *op)
{
	NotifyNotification *notification = p->notification;

	notify_notification_clear_hints(notification);
	notify_notification_set_category(notification, op->category);
	notify_notification_set_hint_string(notification, "desktop-entry", DESKTOP_ENTRY);
	if (op->sound) {
		notify_notification_set_hint_string(notification, "sound-name", SOUND);
	} else {
		/* An update after a message was read elsewhere is not news. */
		notify_notification_set_hint(notification, "suppress-sound",
		                             g_variant_new_boolean(TRUE));
	}
	notify_notification_clear_actions(notification);
	if (n->has_actions && op->count > 0) {
		notify_notification_add_action(notification, "default", "Open", popup_action_cb, p,
		                               NULL);
		notify_notification_add_action(notification, "mark-read",
		                               op->count > 1 ? "Mark all as read" : "Mark as read",
		                               popup_action_cb, p, NULL);
	}
}

/* Blocking. False with error when the server could not be reached. */
static bool popup_show(struct notifier *n, const struct notifier_op *op, GError **error)
{
	struct popup *p = g_hash_table_lookup(n->popups, &op->slot);
	g_autofree char *body = NULL;

	if (op->only_if_shown && (p == NULL || !p->open)) {
		return true;
	}
	if (!caps_ensure(n)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
		                    "no answer to GetCapabilities");
		return false;
	}
	/* The summary is plain text by the specification; the body is
	 * markup only where the server says it renders markup. */
	body = n->has_markup ? g_markup_escape_text(op->body, -1) : g_strdup(op->body);
	if (p == NULL) {
		p = g_new0(struct popup, 1);
		p->notifier = n;
		p->slot = op->slot;
		p->notification = notify_notification_new(op->summary, body, ICON);
		p->closed_handler =
		    g_signal_connect(p->notification, "closed", G_CALLBACK(popup_closed_cb), p);
		g_hash_table_insert(n->popups, &p->slot, p);
	} else {
		notify_notification_update(p->notification, op->summary, body, ICON);
	}
	popup_set_details(n, p, op);
	if (!notify_notification_show(p->notification, error)) {
		return false;
	}
	p->open = true;
	return true;
}

static void popup_close(struct notifier *n, guint64 slot)
{
	struct popup *p = g_hash_table_lookup(n->popups, &slot);
	g_autoptr(GError) error = NULL;

	if (p == NULL) {
		return;
	}
	if (p->open && !notify_notification_close(p->notification, &error)) {
		/* Not retried: a server that lost it has closed it anyway. */
		g_debug("closing a notification failed: %s", error->message);
	}
	g_hash_table_remove(n->popups, &slot);
}

static void retry_schedule(struct notifier *n);

static void run_pending(struct notifier *n)
{
	struct notifier_op *op;

	while ((op = queue_pop(n)) != NULL) {
		g_autoptr(GError) error = NULL;
		bool ok = true;

		if (op->type == NOTIFIER_OP_SHOW) {
			ok = popup_show(n, op, &error);
		} else {
			popup_close(n, op->slot);
		}
		if (!ok) {
			if (!n->failing) {
				n->failing = true;
				g_message("notification not shown, retrying: %s", error->message);
			}
			/* A server that hangs or is restarting: try again
			 * later, keeping this and every later notification. */
			n->caps_known = false;
			g_mutex_lock(&n->lock);
			queue_add_locked(n, op, true);
			g_mutex_unlock(&n->lock);
			retry_schedule(n);
			return;
		}
		if (n->failing) {
			n->failing = false;
			g_message("notifications are shown again");
		}
		n->backoff_ms = 0;
		notifier_op_free(op);
	}
}

static gboolean retry_cb(gpointer data)
{
	struct notifier *n = data;

	g_clear_pointer(&n->retry, g_source_unref);
	run_pending(n);
	return G_SOURCE_REMOVE;
}

static void retry_schedule(struct notifier *n)
{
	n->backoff_ms = n->backoff_ms == 0 ? RETRY_MIN_MS : MIN(n->backoff_ms * 2, RETRY_MAX_MS);
	n->retry = g_timeout_source_new(n->backoff_ms);
	g_source_set_callback(n->retry, retry_cb, n, NULL);
	g_source_attach(n->retry, n->context);
}

static gboolean drain_cb(gpointer data)
{
	struct notifier *n = data;

	g_mutex_lock(&n->lock);
	n->wake_scheduled = false;
	g_mutex_unlock(&n->lock);
	/* While waiting to retry, new operations only queue (and merge). */
	if (n->retry == NULL) {
		run_pending(n);
	}
	return G_SOURCE_REMOVE;
}

static void server_appeared(GDBusConnection *connection, const char *name, const char *owner,
                            gpointer data)
{
	struct notifier *n = data;

	(void)connection, (void)name;
	g_debug("notification server %s appeared", owner);
	/* A new server may be another program: ask again. */
	n->caps_known = false;
	if (n->retry != NULL) {
		g_source_destroy(n->retry);
		g_clear_pointer(&n->retry, g_source_unref);
		n->backoff_ms = 0;
		run_pending(n);
	}
}

static void server_vanished(GDBusConnection *connection, const char *name, gpointer data)
{
	struct notifier *n = data;

	(void)connection, (void)name;
	n->caps_known = false;
	if (g_hash_table_size(n->popups) == 0) {
		return;
	}
	g_debug("notification server went away with our notifications");
	g_hash_table_remove_all(n->popups);
	reply_push(n, REPLY_GONE, 0);
}

static gboolean quit_cb(gpointer data)
{
	struct notifier *n = data;

	g_main_loop_quit(n->loop);
	return G_SOURCE_REMOVE;
}

static gpointer notifier_thread(gpointer data)
{
	struct notifier *n = data;
	GHashTableIter iter;
	struct popup *p;

	/* Everything libnotify and GDBus set up from here on (the proxy, its
	 * signals: closed, actions) is dispatched in this thread's context. */
	g_main_context_push_thread_default(n->context);
	notify_init(APP_NAME);
	n->watch =
	    g_bus_watch_name(G_BUS_TYPE_SESSION, NOTIFICATIONS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
	                     server_appeared, server_vanished, n, NULL);
	g_main_loop_run(n->loop);

	g_hash_table_iter_init(&iter, n->popups);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&p)) {
		if (p->open) {
			notify_notification_close(p->notification, NULL);
		}
	}
	g_hash_table_remove_all(n->popups);
	g_bus_unwatch_name(n->watch);
	if (n->retry != NULL) {
		g_source_destroy(n->retry);
		g_clear_pointer(&n->retry, g_source_unref);
	}
	notify_uninit();
	while (g_main_context_iteration(n->context, FALSE)) {
	}
	g_main_context_pop_thread_default(n->context);

	g_mutex_lock(&n->lock);
	n->finished = true;
	g_cond_signal(&n->finished_cond);
	g_mutex_unlock(&n->lock);
	return NULL;
}

/* --- main loop: events and actions --------------------------------------- */

static void options_from_config(const struct config *cfg, struct notifier_model_options *o)
{
	guint folders = 0;

	for (guint i = 0; i < cfg->accounts->len; i++) {
		const struct config_account *a = cfg->accounts->pdata[i];

		folders += g_strv_length(a->folders);
	}
	*o = (struct notifier_model_options){
	    .max = cfg->notify_max,
	    .window = BURST_WINDOW,
	    .startup = cfg->startup,
	    .content = cfg->notification_content,
	    .show_location = folders > 1,
	    .sound = cfg->notification_sound,
	};
}

/* Junk, trash, sent and drafts never notify unless notify_folders names
 * them (their special use comes from the server's LIST, RFC 6154). */
static bool quiet_special_use(struct notifier *n, const struct config_account *a,
                              const char *folder)
{
	static const char *const quiet[] = {"\\Junk", "\\Trash", "\\Sent", "\\Drafts", NULL};
	const char *use = daemon_get_folder_special_use(n->daemon, a->name, folder);

	return use != NULL && g_strv_contains(quiet, use) &&
	       !(a->notify_folders != NULL &&
	         g_strv_contains((const char *const *)a->notify_folders, folder));
}

/* Whether news of the event's folder (new mail, a reset) may show a popup. */
static bool folder_notifies(struct notifier *n, const struct config *cfg,
                            const struct watch_event *event)
{
	const struct config_account *a = config_find_account(cfg, event->account);

	return a != NULL && config_account_notifies(a, event->folder) &&
	       !quiet_special_use(n, a, event->folder);
}

static void on_event(const struct watch_event *event, void *user_data)
{
	struct notifier *n = user_data;
	const struct config *cfg = daemon_get_config(n->daemon);
	struct notifier_model_options options;
	g_autoptr(GPtrArray) ops = NULL;

	if (!cfg->notifications || event->type == WATCH_EVENT_UNSEEN) {
		return;
	}
	if (event->type == WATCH_EVENT_NEW && !folder_notifies(n, cfg, event)) {
		return;
	}
	/* Cheap, and a reload changes them. */
	options_from_config(cfg, &options);
	notifier_model_set_options(n->model, &options);
	ops = g_ptr_array_new();
	if (event->type == WATCH_EVENT_RESET) {
		/* The old popups go in any folder; the summary only where new
		 * mail would show. */
		notifier_model_reset(n->model, event, folder_notifies(n, cfg, event), ops);
	} else {
		notifier_model_feed(n->model, event, g_get_monotonic_time(), ops);
	}
	for (guint i = 0; i < ops->len; i++) {
		queue_push(n, ops->pdata[i]);
	}
}

static void mark_done(const GError *error, void *user_data)
{
	struct mark_context *c = user_data;

	if (error != NULL) {
		g_warning("marking as read failed for account '%s': %s", c->account,
		          error->message);
	}
	g_ptr_array_remove(c->notifier->marks, c);
}

static void mark_context_free(struct mark_context *c)
{
	g_free(c->account);
	g_free(c);
}

static void mark_read(struct notifier *n, GPtrArray *messages)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	const struct notifier_message *newest = messages->pdata[0];
	struct mark_context *c = g_new0(struct mark_context, 1);

	for (guint i = 0; i < messages->len; i++) {
		const struct notifier_message *m = messages->pdata[i];

		g_ptr_array_add(ids, m->id);
	}
	g_ptr_array_add(ids, NULL);
	c->notifier = n;
	c->account = g_strdup(newest->account);
	g_ptr_array_add(n->marks, c);
	daemon_mark_read(n->daemon, (const char *const *)ids->pdata, mark_done, c);
}

static void launched_cb(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autofree char *account = data;
	g_autoptr(GError) error = NULL;

	if (!g_app_info_launch_uris_finish(G_APP_INFO(source), result, &error)) {
		g_warning("starting the mail client failed for account '%s': %s", account,
		          error->message);
	}
}

static void default_app_cb(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autofree char *account = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GAppInfo) app = g_app_info_get_default_for_uri_scheme_finish(result, &error);
	int null_fd;

	(void)source;
	if (app == NULL) {
		g_message("no default mail client for account '%s'; set open_command", account);
		return;
	}
	if (!G_IS_DESKTOP_APP_INFO(app)) {
		g_app_info_launch_uris_async(app, NULL, NULL, NULL, launched_cb,
		                             g_steal_pointer(&account));
		return;
	}
	/* The client's output must not mix with --print-events on stdout. */
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!g_desktop_app_info_launch_uris_as_manager_with_fds(
	        G_DESKTOP_APP_INFO(app), NULL, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
	        -1, null_fd, -1, &error)) {
		g_warning("starting the mail client failed for account '%s': %s", account,
		          error->message);
	}
	if (null_fd >= 0) {
		close(null_fd);
	}
}

static void open_message(struct notifier *n, const struct notifier_message *m)
{
	const struct config *cfg = daemon_get_config(n->daemon);
	const struct config_account *a = config_find_account(cfg, m->account);
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) argv = NULL;

	if (a == NULL) {
		return;
	}
	if (a->open_command == NULL) {
		g_app_info_get_default_for_uri_scheme_async("mailto", NULL, default_app_cb,
		                                            g_strdup(a->name));
		return;
	}
	argv = config_expand_open_command(a->open_command, m->account, m->folder, m->uid,
	                                  m->message_id, &error);
	/* Placeholders were checked when the config was read; the values
	 * come from the server, so the command line is never parsed again
	 * and no shell ever sees them. The child's output must not mix with
	 * --print-events on stdout. */
	if (argv == NULL || !g_spawn_async(NULL, argv, NULL,
	                                   G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL |
	                                       G_SPAWN_STDOUT_TO_DEV_NULL,
	                                   NULL, NULL, NULL, &error)) {
		g_warning("running open_command failed for account '%s': %s", a->name,
		          error->message);
	}
}

static void handle_reply(struct notifier *n, const struct reply *r)
{
	g_autoptr(GPtrArray) messages = NULL;

	switch (r->type) {
	case REPLY_CLOSED:
		notifier_model_forget(n->model, r->slot);
		return;
	case REPLY_GONE:
		notifier_model_forget_all(n->model);
		return;
	case REPLY_OPEN:
	case REPLY_MARK_READ:
		break;
	}
	messages = notifier_model_get_messages(n->model, r->slot);
	if (messages == NULL || messages->len == 0) {
		g_debug("action on a notification that is no longer tracked");
		return;
	}
	if (r->type == REPLY_MARK_READ) {
		mark_read(n, messages);
	} else {
		open_message(n, messages->pdata[0]);
	}
}

/* --- lifecycle ----------------------------------------------------------- */

struct notifier *notifier_create(struct daemon *daemon)
{
	const struct config *cfg = daemon_get_config(daemon);
	struct notifier_model_options options;
	struct notifier *n;

	if (!cfg->notifications) {
		return NULL;
	}
	n = g_new0(struct notifier, 1);
	n->daemon = daemon;
	options_from_config(cfg, &options);
	n->model = notifier_model_create(&options);
	n->marks = g_ptr_array_new_with_free_func((GDestroyNotify)mark_context_free);
	g_mutex_init(&n->lock);
	g_cond_init(&n->finished_cond);
	g_queue_init(&n->pending);
	n->by_slot = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_queue_init(&n->replies);
	n->context = g_main_context_new();
	n->loop = g_main_loop_new(n->context, FALSE);
	n->popups =
	    g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)popup_free);
	n->thread = g_thread_new("notifier", notifier_thread, n);
	n->listener = daemon_add_listener(daemon, on_event, n);
	return n;
}

void notifier_destroy(struct notifier *n)
{
	gint64 deadline;
	bool finished;

	if (n == NULL) {
		return;
	}
	daemon_remove_listener(n->daemon, n->listener);
	g_mutex_lock(&n->lock);
	n->stopping = true;
	if (n->reply_source != NULL) {
		g_source_destroy(n->reply_source);
		g_clear_pointer(&n->reply_source, g_source_unref);
	}
	g_mutex_unlock(&n->lock);
	g_main_context_invoke(n->context, quit_cb, n);

	deadline = g_get_monotonic_time() + NOTIFIER_STOP_WAIT_MS * G_TIME_SPAN_MILLISECOND;
	g_mutex_lock(&n->lock);
	while (!n->finished) {
		if (!g_cond_wait_until(&n->finished_cond, &n->lock, deadline)) {
			break;
		}
	}
	finished = n->finished;
	g_mutex_unlock(&n->lock);
	if (!finished) {
		/* The thread is stuck in a D-Bus call that libnotify gives no
		 * way to cancel; it still uses n, so n stays. */
		g_message("the notification server does not answer; leaving its notifications");
		g_thread_unref(n->thread);
		return;
	}
	g_thread_join(n->thread);
	g_queue_clear_full(&n->pending, (GDestroyNotify)notifier_op_free);
	g_hash_table_unref(n->by_slot);
	g_queue_clear_full(&n->replies, g_free);
	g_hash_table_unref(n->popups);
	g_main_loop_unref(n->loop);
	g_main_context_unref(n->context);
	g_mutex_clear(&n->lock);
	g_cond_clear(&n->finished_cond);
	g_ptr_array_unref(n->marks);
	notifier_model_destroy(n->model);
	g_free(n);
}

char **notifier_get_shown_ids(struct notifier *n)
{
	return notifier_model_get_shown_ids(n->model);
}
