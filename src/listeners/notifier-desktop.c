/* SPDX-License-Identifier: MIT */
/*
 * Desktop notifications, the notifier thread's other dealings with the
 * desktop: the sound of new mail played by ourselves (libcanberra) where
 * the notification server plays none, and the server's do-not-disturb
 * (dunst's pause, the Inhibited property of spec 1.3), followed through
 * PropertiesChanged — never polled.
 */
#include "listeners/notifier-private.h"

#define NOTIFICATIONS_PATH   "/org/freedesktop/Notifications"
#define NOTIFICATIONS_IFACE  "org.freedesktop.Notifications"
#define DUNST_IFACE          "org.dunstproject.cmd0"
#define PROPERTIES_IFACE     "org.freedesktop.DBus.Properties"
#define SOUND_DESCRIPTION    "New mail"
#define CANBERRA_APPLICATION "imapwatch"

/* --- sounds -------------------------------------------------------------- */

/* A sound is a name of the freedesktop sound theme or an absolute path. */
static bool sound_is_file(const char *sound)
{
	return sound[0] == '/';
}

/* On one of libcanberra's threads: only logs, which is thread-safe. */
static void sound_done_cb(ca_context *context, uint32_t id, int result, void *data)
{
	const char *sound = data;

	(void)context, (void)id;
	if (result == CA_SUCCESS) {
		g_debug("sound %s played", sound);
	} else if (result != CA_ERROR_CANCELED) {
		g_debug("sound %s not played: %s", sound, ca_strerror(result));
	}
}

static void sound_failed(struct notifier *n, const char *sound, const char *why)
{
	/* Once at notice level (no sound device is a normal setup); the
	 * rest where -v shows it. */
	if (!n->sound_failed) {
		n->sound_failed = true;
		g_message("cannot play the new-mail sound %s: %s", sound, why);
	} else {
		g_debug("sound %s not played: %s", sound, why);
	}
}

void notifier_sound_play(struct notifier *n, const char *sound)
{
	ca_proplist *props = NULL;
	int r;

	if (n->canberra == NULL) {
		r = ca_context_create(&n->canberra);
		if (r != CA_SUCCESS) {
			n->canberra = NULL;
			sound_failed(n, sound, ca_strerror(r));
			return;
		}
		ca_context_change_props(n->canberra, CA_PROP_APPLICATION_NAME, CANBERRA_APPLICATION,
		                        CA_PROP_APPLICATION_ID, "imapwatchd", NULL);
	}
	r = ca_proplist_create(&props);
	if (r != CA_SUCCESS) {
		sound_failed(n, sound, ca_strerror(r));
		return;
	}
	ca_proplist_sets(props, sound_is_file(sound) ? CA_PROP_MEDIA_FILENAME : CA_PROP_EVENT_ID,
	                 sound);
	ca_proplist_sets(props, CA_PROP_EVENT_DESCRIPTION, SOUND_DESCRIPTION);
	g_debug("playing sound %s (the notification server plays none)", sound);
	/* Returns once the sound is found and handed to the backend, which
	 * plays it on a thread of its own. The callback gets an interned
	 * copy: whether a failed start calls back is the backend's affair,
	 * and a config names a handful of sounds. */
	r = ca_context_play_full(n->canberra, 0, props, sound_done_cb,
	                         (void *)g_intern_string(sound));
	ca_proplist_destroy(props);
	if (r != CA_SUCCESS) {
		sound_failed(n, sound, ca_strerror(r));
	}
}

void notifier_sound_finish(struct notifier *n)
{
	if (n->canberra != NULL) {
		ca_context_destroy(n->canberra);
		n->canberra = NULL;
	}
}

/* --- do-not-disturb ------------------------------------------------------ */

static void dnd_tell(struct notifier *n)
{
	bool on = n->dunst_paused || n->inhibited;

	if (on == n->dnd_told) {
		return;
	}
	n->dnd_told = on;
	g_debug("the notification server's do-not-disturb is %s", on ? "on" : "off");
	notifier_reply_push(n, REPLY_DND, 0, on);
}

/* Takes the value of a boolean property of interface iface, if it is one
 * of ours. */
static void dnd_property(struct notifier *n, const char *iface, const char *name, GVariant *value)
{
	bool on;

	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
		return;
	}
	on = g_variant_get_boolean(value);
	if (g_str_equal(iface, DUNST_IFACE) && g_str_equal(name, "paused")) {
		n->dunst_paused = on;
	} else if (g_str_equal(iface, NOTIFICATIONS_IFACE) && g_str_equal(name, "Inhibited")) {
		n->inhibited = on;
	}
}

static void dnd_changed_cb(GDBusConnection *connection, const char *sender, const char *path,
                           const char *iface, const char *signal, GVariant *params, gpointer data)
{
	struct notifier *n = data;
	const char *changed_iface = NULL;
	g_autoptr(GVariantIter) changed = NULL;
	const char *name;
	GVariant *value;

	(void)connection, (void)sender, (void)path, (void)iface, (void)signal;
	if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv}as)"))) {
		return;
	}
	g_variant_get(params, "(&sa{sv}@as)", &changed_iface, &changed, NULL);
	while (g_variant_iter_next(changed, "{&sv}", &name, &value)) {
		dnd_property(n, changed_iface, name, value);
		g_variant_unref(value);
	}
	dnd_tell(n);
}

/* One Get in flight. */
struct dnd_get {
	struct notifier *notifier;
	guint generation; /* of the server it asked */
	char *iface;
	char *name;
};

/* The answer to one Get; a server without the property (most of them)
 * answers with an error, which means "off". */
static void dnd_get_cb(GObject *source, GAsyncResult *result, gpointer data)
{
	struct dnd_get *get = data;
	struct notifier *n = get->notifier;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

	/* n outlives every call: the thread cancels them and runs its
	 * context dry before it ends. */
	if (get->generation != n->dnd_generation) {
		/* An answer of a server gone since. */
	} else if (reply == NULL) {
		g_debug("no %s %s from the notification server: %s", get->iface, get->name,
		        error->message);
	} else {
		g_autoptr(GVariant) value = NULL;

		g_variant_get(reply, "(v)", &value);
		dnd_property(n, get->iface, get->name, value);
		dnd_tell(n);
	}
	g_free(get->iface);
	g_free(get->name);
	g_free(get);
}

static void dnd_get(struct notifier *n, const char *owner, const char *iface, const char *name)
{
	struct dnd_get *get = g_new0(struct dnd_get, 1);

	get->notifier = n;
	get->generation = n->dnd_generation;
	get->iface = g_strdup(iface);
	get->name = g_strdup(name);
	g_dbus_connection_call(n->dnd_connection, owner, NOTIFICATIONS_PATH, PROPERTIES_IFACE,
	                       "Get", g_variant_new("(ss)", iface, name), G_VARIANT_TYPE("(v)"),
	                       G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, n->dnd_cancel, dnd_get_cb, get);
}

void notifier_dnd_watch(struct notifier *n, GDBusConnection *connection, const char *owner)
{
	if (n->dnd_connection != NULL) {
		g_cancellable_cancel(n->dnd_cancel);
		g_clear_object(&n->dnd_cancel);
		g_dbus_connection_signal_unsubscribe(n->dnd_connection, n->dnd_subscription);
		n->dnd_subscription = 0;
		g_clear_object(&n->dnd_connection);
	}
	n->dnd_generation++;
	n->dunst_paused = false;
	n->inhibited = false;
	if (connection == NULL) {
		dnd_tell(n);
		return;
	}
	n->dnd_connection = g_object_ref(connection);
	n->dnd_cancel = g_cancellable_new();
	/* Subscribed first, so that no change between the reads and the
	 * subscription is missed; only this server's signals. */
	n->dnd_subscription = g_dbus_connection_signal_subscribe(
	    connection, owner, PROPERTIES_IFACE, "PropertiesChanged", NOTIFICATIONS_PATH, NULL,
	    G_DBUS_SIGNAL_FLAGS_NONE, dnd_changed_cb, n, NULL);
	dnd_get(n, owner, DUNST_IFACE, "paused");
	dnd_get(n, owner, NOTIFICATIONS_IFACE, "Inhibited");
	dnd_tell(n);
}
