/* SPDX-License-Identifier: MIT */
/*
 * Desktop notifications, the main-loop half: event listener, rules, model,
 * quiet time, actions, the replies coming back, start and stop. The
 * notifier thread (libnotify) is in notifier-thread.c and
 * notifier-desktop.c. The two halves share only the two
 * queues under `lock`: operations to the thread, replies (popup closed,
 * action invoked, server gone) back to the main loop.
 */
#include "listeners/notifier-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gdesktopappinfo.h>
#include <gio/gio.h>
#include <unistd.h>

/* A burst is over after this long without new mail in its folder. */
#define BURST_WINDOW (30 * G_USEC_PER_SEC)

/* A mark-as-read request in flight, for its log line. */
struct mark_context {
	struct notifier *notifier;
	char *account;
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

void notifier_reply_push(struct notifier *n, enum reply_type type, guint64 slot, bool on)
{
	struct reply *r = g_new0(struct reply, 1);

	r->type = type;
	r->slot = slot;
	r->on = on;
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

/* --- main loop: events and actions --------------------------------------- */

static void options_from_config(const struct config *cfg, struct notifier_model_options *o)
{
	guint folders = 0;

	/* A pattern may match any number of folders: popups say where. */
	for (guint i = 0; i < cfg->accounts->len; i++) {
		const struct config_account *a = cfg->accounts->pdata[i];

		for (guint j = 0; !a->disabled && a->folders[j] != NULL; j++) {
			folders += config_folder_is_pattern(a->folders[j]) ? 2 : 1;
		}
	}
	*o = (struct notifier_model_options){
	    .max = cfg->notify_max,
	    .window = BURST_WINDOW,
	    .startup = cfg->startup,
	    .show_location = folders > 1,
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

/* What the rules, the account and [daemon] say of a popup about the
 * event's message (from_name and from_addr NULL: of the folder, for a
 * reset); notice->notify false when it must not show. */
static void notice_for(struct notifier *n, const struct config *cfg,
                       const struct watch_event *event, const char *from_name,
                       const char *from_addr, struct config_notice *notice)
{
	const struct config_account *a = config_find_account(cfg, event->account);

	if (a == NULL || quiet_special_use(n, a, event->folder)) {
		*notice = (struct config_notice){.notify = false};
		return;
	}
	config_notice_for(cfg, a, event->folder, from_name, from_addr, notice);
}

static void push_ops(struct notifier *n, GPtrArray *ops)
{
	for (guint i = 0; i < ops->len; i++) {
		notifier_queue_push(n, ops->pdata[i]);
	}
}

/* --- main loop: quiet time ----------------------------------------------- */

static void quiet_update(struct notifier *n);

static gboolean quiet_timer_cb(gpointer data)
{
	struct notifier *n = data;

	n->quiet_timer = 0;
	quiet_update(n);
	return G_SOURCE_REMOVE;
}

/* Looks at the wall clock, the pause and the server's do-not-disturb:
 * enters or leaves quiet time (the model shows what was held when it
 * ends), tells the daemon why for status, and arms a timer for the next
 * start or end of quiet_hours. Cheap; called on every change and event. */
static void quiet_update(struct notifier *n)
{
	const struct config *cfg = daemon_get_config(n->daemon);
	g_autoptr(GTimeZone) tz = g_time_zone_new_local();
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	gint64 next = 0;
	guint quiet;

	/* daemon_set_quiet() calls the quiet listeners, this one too. */
	if (n->quiet_updating) {
		return;
	}
	n->quiet_updating = true;
	quiet = notifier_model_quiet_at(cfg, daemon_get_paused_until(n->daemon), n->dnd, now, tz,
	                                &next);
	g_clear_handle_id(&n->quiet_timer, g_source_remove);
	if (next > 0) {
		n->quiet_timer = g_timeout_add_seconds((guint)CLAMP(next - now, 1, G_MAXUINT),
		                                       quiet_timer_cb, n);
	}
	if (quiet != n->quiet) {
		g_autoptr(GPtrArray) ops = g_ptr_array_new();

		if (quiet != 0) {
			g_message("notifications held back:%s%s%s",
			          quiet & NOTIFIER_QUIET_PAUSED ? " paused" : "",
			          quiet & NOTIFIER_QUIET_HOURS ? " quiet-hours" : "",
			          quiet & NOTIFIER_QUIET_DND ? " do-not-disturb" : "");
		} else {
			g_message("notifications shown again");
		}
		n->quiet = quiet;
		notifier_model_set_quiet(n->model, quiet, ops);
		push_ops(n, ops);
	}
	daemon_set_quiet(n->daemon, quiet);
	n->quiet_updating = false;
}

static void on_quiet(void *user_data)
{
	quiet_update(user_data);
}

/* The accounts this reload starts anew, as daemon_reload() decides: added,
 * or changed in a setting that matters to their connections. Their
 * catch-up is mail from while a folder was not watched, not from while
 * imapwatch was not running. */
static void find_restarted(struct notifier *n, const struct config *old, const struct config *cfg)
{
	for (guint i = 0; i < cfg->accounts->len; i++) {
		const struct config_account *a = cfg->accounts->pdata[i];
		const struct config_account *before = config_find_account(old, a->name);

		if (before == NULL || old->password_timeout != cfg->password_timeout ||
		    !config_account_equal(before, a)) {
			notifier_model_account_restarted(n->model, a->name);
		}
	}
}

static void on_reload(void *user_data)
{
	struct notifier *n = user_data;
	const struct config *cfg = daemon_get_config(n->daemon);

	/* The daemon keeps the configuration it replaced while accounts of
	 * it may run: n->config is still valid here, and only here. */
	find_restarted(n, n->config, cfg);
	n->config = cfg;
	/* quiet_hours may have changed. */
	quiet_update(n);
}

/* --- main loop: events --------------------------------------------------- */

static void on_event(const struct watch_event *event, void *user_data)
{
	struct notifier *n = user_data;
	const struct config *cfg = daemon_get_config(n->daemon);
	struct notifier_model_options options;
	struct config_notice notice = {.notify = false};
	g_autoptr(GPtrArray) ops = NULL;

	if (!cfg->notifications || event->type == WATCH_EVENT_UNSEEN) {
		return;
	}
	if (event->type == WATCH_EVENT_NEW) {
		notice_for(n, cfg, event, event->from_name, event->from_addr, &notice);
		if (!notice.notify) {
			return;
		}
		if (notice.rule != NULL) {
			g_debug("new message in account '%s': rule '%s', urgency %s, sound %s",
			        event->account, notice.rule, config_urgency_name(notice.urgency),
			        notice.sound != NULL ? notice.sound : "none");
		}
		/* The clock decides, whatever the timer did meanwhile. */
		quiet_update(n);
	}
	/* Cheap, and a reload changes them. */
	options_from_config(cfg, &options);
	notifier_model_set_options(n->model, &options);
	ops = g_ptr_array_new();
	if (event->type == WATCH_EVENT_RESET) {
		/* The old popups go in any folder; the summary only where new
		 * mail would show. */
		notice_for(n, cfg, event, NULL, NULL, &notice);
		notifier_model_reset(n->model, event, notice.notify, ops);
	} else {
		notifier_model_feed(n->model, event, &notice, g_get_monotonic_time(), ops);
	}
	push_ops(n, ops);
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

/* "Try again" on an account's error popup: the account tries at once, as
 * `imapwatch check ACCOUNT` would. */
static void retry_account(struct notifier *n, guint64 slot)
{
	g_autofree char *account = notifier_model_retry(n->model, slot);
	g_autoptr(GError) error = NULL;

	if (account == NULL) {
		g_debug("action on a notification that is no longer tracked");
		return;
	}
	g_message("account '%s': trying again, as asked from its notification", account);
	if (!daemon_check(n->daemon, account, &error)) {
		g_warning("trying again failed for account '%s': %s", account, error->message);
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
	case REPLY_DND:
		n->dnd = r->on;
		quiet_update(n);
		return;
	case REPLY_RETRY:
		retry_account(n, r->slot);
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
	n->config = cfg;
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
	n->popups = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
	                                  (GDestroyNotify)notifier_popup_free);
	n->thread = g_thread_new("notifier", notifier_thread, n);
	n->listener = daemon_add_listener(daemon, on_event, n);
	n->reload_listener = daemon_add_reload_listener(daemon, on_reload, n);
	n->quiet_listener = daemon_add_quiet_listener(daemon, on_quiet, n);
	quiet_update(n);
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
	daemon_remove_listener(n->daemon, n->reload_listener);
	daemon_remove_listener(n->daemon, n->quiet_listener);
	g_clear_handle_id(&n->quiet_timer, g_source_remove);
	g_mutex_lock(&n->lock);
	n->stopping = true;
	if (n->reply_source != NULL) {
		g_source_destroy(n->reply_source);
		g_clear_pointer(&n->reply_source, g_source_unref);
	}
	g_mutex_unlock(&n->lock);
	g_main_context_invoke(n->context, notifier_quit_cb, n);

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
