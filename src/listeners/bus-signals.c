/* SPDX-License-Identifier: MIT */
/*
 * The signals of the D-Bus service, batched as bus.h describes. One
 * Messages* signal is filled at a time, so a burst costs no copies: each
 * event is marshalled into it as it comes.
 */
#include "listeners/bus-private.h"

#include "imapwatch/io/bus-loop.h"
#include "listeners/bus-private.h"
#include "imapwatch/listeners/bus.h"

#include <string.h>

#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

/* The unseen count of a folder, to be sent with the next flush. */
struct unseen_entry {
	char *account;
	char *folder;
	uint32_t count;
};

struct bus_signals {
	DBusConnection *conn; /* borrowed; NULL: nothing is sent */
	struct daemon *daemon;
	guint listener;
	guint reload_listener;
	guint quiet_listener;

	/* The Messages* signal being filled, if any. */
	DBusMessage *batch;
	DBusMessageIter batch_args;
	DBusMessageIter batch_array;
	enum watch_event_type batch_type;
	guint batch_count;
	GPtrArray *unseen; /* struct unseen_entry * */
	guint flush_source;

	/* Property values as last announced. */
	uint32_t total_unseen;
	char **accounts;
	gint64 paused_until;
	guint quiet;
};

static DBusMessage *signals_new(const char *interface, const char *name)
{
	DBusMessage *signal = dbus_message_new_signal(BUS_PATH, interface, name);

	bus_message_oom_if(signal == NULL, "creating a D-Bus signal");
	return signal;
}

static void signals_emit_property(struct bus_signals *bus, const char *name, uint32_t total,
                                  const char *const *accounts)
{
	g_autoptr(DBusMessage) signal = signals_new(PROPERTIES_INTERFACE, "PropertiesChanged");
	DBusMessageIter args, changed, entry;
	const char *const no_names[] = {NULL};

	dbus_message_iter_init_append(signal, &args);
	bus_message_append_string(&args, BUS_INTERFACE);
	bus_message_open(&args, DBUS_TYPE_ARRAY, "{sv}", &changed);
	bus_message_open(&changed, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
	bus_message_append_string(&entry, name);
	if (accounts != NULL) {
		bus_marshal_variant_strv(&entry, accounts);
	} else {
		bus_marshal_variant_uint32(&entry, total);
	}
	bus_message_close(&changed, &entry);
	bus_message_close(&args, &changed);
	bus_marshal_strv(&args, no_names);
	bus_message_send(bus->conn, signal);
}

static void signals_publish_total_unseen(struct bus_signals *bus)
{
	uint32_t total = daemon_get_total_unseen(bus->daemon);

	if (total != bus->total_unseen) {
		bus->total_unseen = total;
		signals_emit_property(bus, "TotalUnseen", total, NULL);
	}
}

static void signals_publish_accounts(struct bus_signals *bus)
{
	g_auto(GStrv) names = daemon_get_account_names(bus->daemon);

	if (!g_strv_equal((const char *const *)names, (const char *const *)bus->accounts)) {
		g_strfreev(bus->accounts);
		bus->accounts = g_steal_pointer(&names);
		signals_emit_property(bus, "Accounts", 0, (const char *const *)bus->accounts);
	}
}

static const char *batch_signal_name(enum watch_event_type type)
{
	switch (type) {
	case WATCH_EVENT_NEW:
		return "MessagesAdded";
	case WATCH_EVENT_CHANGED:
		return "MessagesChanged";
	default:
		return "MessagesRemoved";
	}
}

/* Sends the Messages* signal being filled. */
static void batch_close(struct bus_signals *bus)
{
	if (bus->batch == NULL) {
		return;
	}
	bus_message_close(&bus->batch_args, &bus->batch_array);
	bus_message_send(bus->conn, bus->batch);
	g_clear_pointer(&bus->batch, dbus_message_unref);
}

/* Adds a message event to the signal being filled. A new signal starts when
 * the kind changes, so that listeners see events in the order they
 * happened, and when the signal is full. */
static void batch_add(struct bus_signals *bus, const struct watch_event *event)
{
	if (bus->batch != NULL &&
	    (bus->batch_type != event->type || bus->batch_count >= BUS_SIGNAL_MAX_MESSAGES)) {
		batch_close(bus);
	}
	if (bus->batch == NULL) {
		bus->batch = signals_new(BUS_INTERFACE, batch_signal_name(event->type));
		bus->batch_type = event->type;
		bus->batch_count = 0;
		dbus_message_iter_init_append(bus->batch, &bus->batch_args);
		bus_message_open(&bus->batch_args, DBUS_TYPE_ARRAY, "a{sv}", &bus->batch_array);
	}
	bus_marshal_event(&bus->batch_array, event);
	bus->batch_count++;
}

static void unseen_entry_free(gpointer p)
{
	struct unseen_entry *e = p;

	g_free(e->account);
	g_free(e->folder);
	g_free(e);
}

static void unseen_set(struct bus_signals *bus, const char *account, const char *folder,
                       uint32_t count)
{
	for (guint i = 0; i < bus->unseen->len; i++) {
		struct unseen_entry *e = bus->unseen->pdata[i];

		if (strcmp(e->account, account) == 0 && strcmp(e->folder, folder) == 0) {
			e->count = count;
			return;
		}
	}
	struct unseen_entry *e = g_new(struct unseen_entry, 1);
	e->account = g_strdup(account);
	e->folder = g_strdup(folder);
	e->count = count;
	g_ptr_array_add(bus->unseen, e);
}

static void signals_emit_unseen(struct bus_signals *bus, const struct unseen_entry *e)
{
	g_autoptr(DBusMessage) signal = signals_new(BUS_INTERFACE, "UnseenCountChanged");
	DBusMessageIter args;

	dbus_message_iter_init_append(signal, &args);
	bus_message_append_string(&args, e->account);
	bus_message_append_string(&args, e->folder);
	bus_marshal_uint32(&args, e->count);
	bus_message_send(bus->conn, signal);
}

/* Sends everything collected: the message signal being filled, then the
 * latest unseen count of each folder that changed, then TotalUnseen. */
void bus_signals_flush(struct bus_signals *bus)
{
	if (bus == NULL) {
		return;
	}
	g_clear_handle_id(&bus->flush_source, g_source_remove);
	batch_close(bus);
	if (bus->unseen->len == 0) {
		return;
	}
	for (guint i = 0; i < bus->unseen->len; i++) {
		signals_emit_unseen(bus, bus->unseen->pdata[i]);
	}
	g_ptr_array_set_size(bus->unseen, 0);
	signals_publish_total_unseen(bus);
}

static gboolean signals_flush_cb(gpointer user_data)
{
	struct bus_signals *bus = user_data;

	bus->flush_source = 0;
	bus_signals_flush(bus);
	return G_SOURCE_REMOVE;
}

static void signals_emit_state(struct bus_signals *bus, const struct watch_event *event)
{
	g_autoptr(DBusMessage) signal = signals_new(BUS_INTERFACE, "AccountStateChanged");
	DBusMessageIter args;

	dbus_message_iter_init_append(signal, &args);
	bus_message_append_string(&args, event->account);
	bus_message_append_string(&args, event->state);
	bus_message_append_string(&args, event->detail);
	bus_message_send(bus->conn, signal);
}

/* FolderReset: listeners drop the folder's message ids of other
 * UIDVALIDITYs; the messages it holds now are not announced one by one. */
static void signals_emit_reset(struct bus_signals *bus, const struct watch_event *event)
{
	g_autoptr(DBusMessage) signal = signals_new(BUS_INTERFACE, "FolderReset");
	DBusMessageIter args;

	dbus_message_iter_init_append(signal, &args);
	bus_message_append_string(&args, event->account);
	bus_message_append_string(&args, event->folder);
	bus_marshal_uint32(&args, event->uidvalidity);
	bus_marshal_uint32(&args, event->previous_uidvalidity);
	bus_marshal_uint32(&args, event->count);
	bus_marshal_uint32(&args, event->unseen);
	bus_message_send(bus->conn, signal);
}

static void signals_on_event(const struct watch_event *event, void *user_data)
{
	struct bus_signals *bus = user_data;

	if (bus->conn == NULL) {
		return;
	}
	switch (event->type) {
	case WATCH_EVENT_NEW:
	case WATCH_EVENT_CHANGED:
	case WATCH_EVENT_REMOVED:
		batch_add(bus, event);
		break;
	case WATCH_EVENT_UNSEEN:
		unseen_set(bus, event->account, event->folder, event->count);
		break;
	case WATCH_EVENT_STATE:
		/* At once, but after what happened before it. */
		bus_signals_flush(bus);
		signals_emit_state(bus, event);
		return;
	case WATCH_EVENT_RESET:
		/* The same: message signals of the old UIDVALIDITY go first,
		 * the unseen count of the new baseline follows. */
		bus_signals_flush(bus);
		signals_emit_reset(bus, event);
		return;
	}
	if (bus->flush_source == 0) {
		/* Idle priority: a burst read from a socket is collected whole
		 * before it is sent. */
		bus->flush_source =
		    g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, signals_flush_cb, bus, NULL);
	}
}

/* PropertiesChanged for PausedUntil and Quiet, those of the two that
 * changed, at once (after what was collected before). */
static void signals_on_quiet(void *user_data)
{
	struct bus_signals *bus = user_data;
	gint64 paused_until = daemon_get_paused_until(bus->daemon);
	guint quiet = daemon_get_quiet(bus->daemon);
	const char *const no_names[] = {NULL};
	DBusMessageIter args, changed, entry;

	if (bus->conn == NULL || (paused_until == bus->paused_until && quiet == bus->quiet)) {
		return;
	}
	bus_signals_flush(bus);
	g_autoptr(DBusMessage) signal = signals_new(PROPERTIES_INTERFACE, "PropertiesChanged");
	dbus_message_iter_init_append(signal, &args);
	bus_message_append_string(&args, BUS_INTERFACE);
	bus_message_open(&args, DBUS_TYPE_ARRAY, "{sv}", &changed);
	if (paused_until != bus->paused_until) {
		bus_message_open(&changed, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
		bus_message_append_string(&entry, "PausedUntil");
		bus_marshal_variant_int64(&entry, paused_until);
		bus_message_close(&changed, &entry);
	}
	if (quiet != bus->quiet) {
		g_auto(GStrv) names = bus_marshal_quiet_names(quiet);

		bus_message_open(&changed, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
		bus_message_append_string(&entry, "Quiet");
		bus_marshal_variant_strv(&entry, (const char *const *)names);
		bus_message_close(&changed, &entry);
	}
	bus_message_close(&args, &changed);
	bus_marshal_strv(&args, no_names);
	bus_message_send(bus->conn, signal);
	bus->paused_until = paused_until;
	bus->quiet = quiet;
}

static void signals_on_reload(void *user_data)
{
	struct bus_signals *bus = user_data;

	if (bus->conn == NULL) {
		return;
	}
	bus_signals_flush(bus);
	signals_publish_accounts(bus);
	signals_publish_total_unseen(bus);
}

struct bus_signals *bus_signals_create(DBusConnection *conn, struct daemon *daemon)
{
	struct bus_signals *bus = g_new0(struct bus_signals, 1);

	bus->conn = conn;
	bus->daemon = daemon;
	bus->unseen = g_ptr_array_new_with_free_func(unseen_entry_free);
	bus->accounts = daemon_get_account_names(daemon);
	bus->total_unseen = daemon_get_total_unseen(daemon);
	bus->paused_until = daemon_get_paused_until(daemon);
	bus->quiet = daemon_get_quiet(daemon);
	bus->listener = daemon_add_listener(daemon, signals_on_event, bus);
	bus->reload_listener = daemon_add_reload_listener(daemon, signals_on_reload, bus);
	bus->quiet_listener = daemon_add_quiet_listener(daemon, signals_on_quiet, bus);
	return bus;
}

void bus_signals_set_connection(struct bus_signals *bus, DBusConnection *conn)
{
	if (bus == NULL) {
		return;
	}
	if (conn == NULL) {
		g_clear_handle_id(&bus->flush_source, g_source_remove);
		g_clear_pointer(&bus->batch, dbus_message_unref);
		g_ptr_array_set_size(bus->unseen, 0);
	}
	bus->conn = conn;
}

void bus_signals_destroy(struct bus_signals *bus)
{
	if (bus == NULL) {
		return;
	}
	daemon_remove_listener(bus->daemon, bus->listener);
	daemon_remove_listener(bus->daemon, bus->reload_listener);
	daemon_remove_listener(bus->daemon, bus->quiet_listener);
	bus_signals_flush(bus);
	g_ptr_array_unref(bus->unseen);
	g_strfreev(bus->accounts);
	g_free(bus);
}
