/* SPDX-License-Identifier: MIT */
/*
 * Desktop notifications, the notifier thread: the queue of operations it
 * drains, libnotify (blocking D-Bus calls, never on the main loop), retries
 * with backoff, and the notification server coming and going. Replies go
 * back to the main loop through notifier_reply_push(). Sounds we play
 * ourselves and the server's do-not-disturb are in notifier-desktop.c.
 */
#include "listeners/notifier-private.h"

#include <gio/gio.h>
#include <libnotify/notify.h>

#define NOTIFICATIONS_NAME "org.freedesktop.Notifications"
#define APP_NAME           "imapwatch"
/* Must match the .desktop file we ship (data/imapwatchd.desktop). */
#define DESKTOP_ENTRY "imapwatchd"
#define RETRY_MIN_MS  1000
#define RETRY_MAX_MS  60000

/* The urgency hint of each urgency a rule may give. */
static const NotifyUrgency urgencies[] = {
    [CONFIG_URGENCY_LOW] = NOTIFY_URGENCY_LOW,
    [CONFIG_URGENCY_NORMAL] = NOTIFY_URGENCY_NORMAL,
    [CONFIG_URGENCY_CRITICAL] = NOTIFY_URGENCY_CRITICAL,
};

/* Notifier thread only. */
struct popup {
	struct notifier *notifier;
	guint64 slot;
	NotifyNotification *notification;
	gulong closed_handler;
	bool open;
};

/* --- main loop → thread: the operation queue ----------------------------- */

static gboolean drain_cb(gpointer data);

/* older is replaced by newer for the same popup; what older promised
 * survives: a sound for new mail, a show that is not just an update. */
static void op_merge(struct notifier_op *older, struct notifier_op *newer)
{
	if (older->type == NOTIFIER_OP_SHOW && newer->type == NOTIFIER_OP_SHOW) {
		if (newer->sound == NULL) {
			newer->sound = g_steal_pointer(&older->sound);
		}
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

void notifier_queue_push(struct notifier *n, struct notifier_op *op)
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

void notifier_popup_free(struct popup *p)
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
	notifier_reply_push(p->notifier, REPLY_CLOSED, p->slot, false);
}

static void popup_action_cb(NotifyNotification *notification, char *action, gpointer data)
{
	struct popup *p = data;
	enum reply_type type = REPLY_OPEN;

	(void)notification;
	if (g_str_equal(action, "mark-read")) {
		type = REPLY_MARK_READ;
	} else if (g_str_equal(action, "retry")) {
		type = REPLY_RETRY;
	}
	notifier_reply_push(p->notifier, type, p->slot, false);
}

/* Blocking. GNOME's notification-daemon 3 says "sound" but has no code
 * that plays one: with it, new mail would be silent. */
static bool server_plays_no_sound(void)
{
	g_autofree char *name = NULL;
	g_autofree char *vendor = NULL;
	g_autofree char *version = NULL;
	g_autofree char *spec_version = NULL;

	if (!notify_get_server_info(&name, &vendor, &version, &spec_version)) {
		return false;
	}
	return g_strcmp0(name, "Notification Daemon") == 0 && g_strcmp0(vendor, "GNOME") == 0 &&
	       version != NULL && g_str_has_prefix(version, "3.");
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
	n->has_sound = g_list_find_custom(caps, "sound", (GCompareFunc)g_strcmp0) != NULL;
	n->caps_known = true;
	g_list_free_full(caps, g_free);
	if (n->has_sound && server_plays_no_sound()) {
		g_debug("the notification server says it plays sounds and plays none");
		n->has_sound = false;
	}
	g_debug("notification server: actions %s, body markup %s, sound %s",
	        n->has_actions ? "yes" : "no", n->has_markup ? "yes" : "no",
	        n->has_sound ? "yes" : "no");
	return true;
}

static void popup_set_details(struct notifier *n, struct popup *p, const struct notifier_op *op)
{
	NotifyNotification *notification = p->notification;

	notify_notification_clear_hints(notification);
	notify_notification_set_category(notification, op->category);
	notify_notification_set_urgency(notification, urgencies[op->urgency]);
	notify_notification_set_hint_string(notification, "desktop-entry", DESKTOP_ENTRY);
	if (op->sound != NULL) {
		/* A theme name, or a file (an absolute path). A server
		 * without the "sound" capability ignores both: then
		 * popup_show() plays it. */
		notify_notification_set_hint_string(
		    notification, op->sound[0] == '/' ? "sound-file" : "sound-name", op->sound);
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
	if (n->has_actions && op->retry) {
		notify_notification_add_action(notification, "retry", "Try again", popup_action_cb,
		                               p, NULL);
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
		p->notification = notify_notification_new(op->summary, body, op->icon);
		p->closed_handler =
		    g_signal_connect(p->notification, "closed", G_CALLBACK(popup_closed_cb), p);
		g_hash_table_insert(n->popups, &p->slot, p);
	} else {
		notify_notification_update(p->notification, op->summary, body, op->icon);
	}
	popup_set_details(n, p, op);
	if (!notify_notification_show(p->notification, error)) {
		return false;
	}
	p->open = true;
	if (op->sound != NULL && !n->has_sound) {
		notifier_sound_play(n, op->sound);
	}
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

/* An error the server answered itself, not one of the bus's about reaching
 * it: asked again, it would refuse again (notification-daemon holds 20
 * notifications and answers MaxNotificationsExceeded to the next). */
static bool server_refused(const GError *error)
{
	g_autofree char *name = NULL;

	if (!g_dbus_error_is_remote_error(error)) {
		return false;
	}
	name = g_dbus_error_get_remote_error(error);
	return name != NULL && !g_str_has_prefix(name, "org.freedesktop.DBus.Error.");
}

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
		if (!ok && server_refused(error)) {
			/* Dropped: retrying would hold up every later
			 * notification, closes too, behind this one. */
			g_dbus_error_strip_remote_error(error);
			g_message("the notification server refused a notification: %s",
			          error->message);
			ok = true;
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

	(void)name;
	g_debug("notification server %s appeared", owner);
	/* A new server may be another program: ask again. */
	n->caps_known = false;
	notifier_dnd_watch(n, connection, owner);
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
	notifier_dnd_watch(n, NULL, NULL);
	if (g_hash_table_size(n->popups) == 0) {
		return;
	}
	g_debug("notification server went away with our notifications");
	g_hash_table_remove_all(n->popups);
	notifier_reply_push(n, REPLY_GONE, 0, false);
}

gboolean notifier_quit_cb(gpointer data)
{
	struct notifier *n = data;

	g_main_loop_quit(n->loop);
	return G_SOURCE_REMOVE;
}

gpointer notifier_thread(gpointer data)
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
	notifier_dnd_watch(n, NULL, NULL);
	if (n->retry != NULL) {
		g_source_destroy(n->retry);
		g_clear_pointer(&n->retry, g_source_unref);
	}
	notify_uninit();
	/* Cancelled calls (do-not-disturb) finish here. */
	while (g_main_context_iteration(n->context, FALSE)) {
	}
	notifier_sound_finish(n);
	g_main_context_pop_thread_default(n->context);

	g_mutex_lock(&n->lock);
	n->finished = true;
	g_cond_signal(&n->finished_cond);
	g_mutex_unlock(&n->lock);
	return NULL;
}
