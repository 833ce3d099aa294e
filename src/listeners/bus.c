/* SPDX-License-Identifier: MIT */
/*
 * The D-Bus service of imapwatchd. One private libdbus connection to the
 * session bus, driven by the GLib main loop through bus_loop; one object
 * path whose handler dispatches on a table of methods.
 */
#include "imapwatch/listeners/bus.h"

#include "imapwatch/io/bus-loop.h"
#include "listeners/bus-private.h"
#include "listeners/bus-private.h"
#include "listeners/bus-private.h"

#include <errno.h>
#include <string.h>

#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"
#define INTROSPECT_INTERFACE "org.freedesktop.DBus.Introspectable"
#define ERROR_INVALID_ARGS   "org.freedesktop.DBus.Error.InvalidArgs"
#define ERROR_UNKNOWN_METHOD "org.freedesktop.DBus.Error.UnknownMethod"
#define ERROR_UNKNOWN_IFACE  "org.freedesktop.DBus.Error.UnknownInterface"
#define ERROR_UNKNOWN_PROP   "org.freedesktop.DBus.Error.UnknownProperty"
#define ERROR_READ_ONLY      "org.freedesktop.DBus.Error.PropertyReadOnly"

/* The standard interfaces the object also implements (Peer is answered by
 * libdbus itself), appended to the interface XML for Introspect. */
static const char standard_interfaces[] =
    "  <interface name=\"" INTROSPECT_INTERFACE "\">\n"
    "    <method name=\"Introspect\">\n"
    "      <arg name=\"xml_data\" type=\"s\" direction=\"out\"/>\n"
    "    </method>\n"
    "  </interface>\n"
    "  <interface name=\"" PROPERTIES_INTERFACE "\">\n"
    "    <method name=\"Get\">\n"
    "      <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
    "      <arg name=\"property_name\" type=\"s\" direction=\"in\"/>\n"
    "      <arg name=\"value\" type=\"v\" direction=\"out\"/>\n"
    "    </method>\n"
    "    <method name=\"GetAll\">\n"
    "      <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
    "      <arg name=\"properties\" type=\"a{sv}\" direction=\"out\"/>\n"
    "    </method>\n"
    "    <method name=\"Set\">\n"
    "      <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
    "      <arg name=\"property_name\" type=\"s\" direction=\"in\"/>\n"
    "      <arg name=\"value\" type=\"v\" direction=\"in\"/>\n"
    "    </method>\n"
    "    <signal name=\"PropertiesChanged\">\n"
    "      <arg name=\"interface_name\" type=\"s\"/>\n"
    "      <arg name=\"changed_properties\" type=\"a{sv}\"/>\n"
    "      <arg name=\"invalidated_properties\" type=\"as\"/>\n"
    "    </signal>\n"
    "  </interface>\n"
    "  <interface name=\"org.freedesktop.DBus.Peer\">\n"
    "    <method name=\"Ping\"/>\n"
    "    <method name=\"GetMachineId\">\n"
    "      <arg name=\"machine_uuid\" type=\"s\" direction=\"out\"/>\n"
    "    </method>\n"
    "  </interface>\n";

/* A MarkRead / MarkAllRead waiting for the servers. */
struct bus_call {
	struct bus_service *bus;
	DBusMessage *call;
};

struct bus_service {
	DBusConnection *conn; /* NULL: running without D-Bus */
	struct daemon *daemon;
	char *introspect_xml;
	struct bus_signals *signals;
	GPtrArray *calls; /* struct bus_call * */
	guint drop_source;
};

static void bus_send(struct bus_service *bus, DBusMessage *message)
{
	bus_marshal_send(bus->conn, message);
}

static DBusMessage *bus_new_return(DBusMessage *call)
{
	DBusMessage *reply = dbus_message_new_method_return(call);

	bus_marshal_oom_if(reply == NULL, "creating a D-Bus reply");
	return reply;
}

static DBusMessage *bus_new_error(DBusMessage *call, const char *name, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

static DBusMessage *bus_new_error(DBusMessage *call, const char *name, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	g_autofree char *text = g_strdup_vprintf(format, args);
	va_end(args);
	DBusMessage *reply = dbus_message_new_error(call, name, text);
	bus_marshal_oom_if(reply == NULL, "creating a D-Bus error");
	return reply;
}

static const char *bus_error_name(const GError *error)
{
	if (error->domain == DAEMON_ERROR) {
		switch ((enum daemon_error)error->code) {
		case DAEMON_ERROR_NO_SUCH_ACCOUNT:
			return BUS_ERROR_NO_SUCH_ACCOUNT;
		case DAEMON_ERROR_NO_SUCH_MESSAGE:
			return BUS_ERROR_NO_SUCH_MESSAGE;
		case DAEMON_ERROR_FAILED:
			break;
		}
	}
	return BUS_ERROR_FAILED;
}

static DBusMessage *bus_new_gerror(DBusMessage *call, const GError *error)
{
	return bus_new_error(call, bus_error_name(error), "%s", error->message);
}

/* --- methods ------------------------------------------------------------- */

static DBusMessage *bus_get_status(struct bus_service *bus, DBusMessage *call)
{
	struct daemon_status *status = daemon_get_status(bus->daemon);
	DBusMessage *reply = bus_new_return(call);
	DBusMessageIter args;

	dbus_message_iter_init_append(reply, &args);
	bus_marshal_status(&args, status);
	daemon_status_free(status);
	return reply;
}

struct ranked_message {
	guint rank; /* of the account and folder, in config order */
	const struct daemon_message *message;
};

static gint ranked_cmp(gconstpointer a, gconstpointer b)
{
	const struct ranked_message *x = a;
	const struct ranked_message *y = b;

	if (x->rank != y->rank) {
		return x->rank < y->rank ? -1 : 1;
	}
	return (x->message->uid > y->message->uid) - (x->message->uid < y->message->uid);
}

/* The daemon lists newest first; the interface promises config order,
 * then UID, which is what a client can page through stably. */
static GArray *bus_rank_messages(struct bus_service *bus, GPtrArray *messages)
{
	struct daemon_status *status = daemon_get_status(bus->daemon);
	g_autoptr(GHashTable) ranks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GArray *ranked =
	    g_array_sized_new(FALSE, FALSE, sizeof(struct ranked_message), messages->len);
	guint rank = 0;

	for (guint i = 0; i < status->accounts->len; i++) {
		const struct daemon_account_status *a = status->accounts->pdata[i];

		for (guint j = 0; j < a->folders->len; j++) {
			const struct daemon_folder_status *f = a->folders->pdata[j];

			/* Account names cannot contain '/': the key is unique. */
			g_hash_table_insert(ranks, g_strconcat(a->name, "/", f->name, NULL),
			                    GUINT_TO_POINTER(rank++));
		}
	}
	daemon_status_free(status);
	for (guint i = 0; i < messages->len; i++) {
		const struct daemon_message *m = messages->pdata[i];
		g_autofree char *key = g_strconcat(m->account, "/", m->folder, NULL);
		struct ranked_message r = {
		    .rank = GPOINTER_TO_UINT(g_hash_table_lookup(ranks, key)),
		    .message = m,
		};

		g_array_append_val(ranked, r);
	}
	g_array_sort(ranked, ranked_cmp);
	return ranked;
}

static DBusMessage *bus_list_messages(struct bus_service *bus, DBusMessage *call)
{
	const char *account = NULL;
	const char *folder = NULL;
	dbus_bool_t unseen_only = FALSE;
	g_autoptr(GError) error = NULL;

	/* The signature was checked: this cannot fail but for memory. */
	bus_marshal_oom_if(!dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &account,
	                                          DBUS_TYPE_STRING, &folder, DBUS_TYPE_BOOLEAN,
	                                          &unseen_only, DBUS_TYPE_INVALID),
	                   "reading D-Bus arguments");
	g_autoptr(GPtrArray) messages =
	    daemon_list_messages(bus->daemon, account, folder, unseen_only, &error);
	if (messages == NULL) {
		return bus_new_gerror(call, error);
	}
	g_autoptr(GArray) ranked = bus_rank_messages(bus, messages);
	DBusMessage *reply = bus_new_return(call);
	DBusMessageIter args, array;

	dbus_message_iter_init_append(reply, &args);
	bus_marshal_open(&args, DBUS_TYPE_ARRAY, "a{sv}", &array);
	for (guint i = 0; i < ranked->len; i++) {
		bus_marshal_message(&array,
		                    g_array_index(ranked, struct ranked_message, i).message);
	}
	bus_marshal_close(&args, &array);
	return reply;
}

static const char *bus_string_arg(DBusMessage *call)
{
	const char *value = NULL;

	bus_marshal_oom_if(
	    !dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &value, DBUS_TYPE_INVALID),
	    "reading D-Bus arguments");
	return value;
}

/* The two string arguments of a call whose signature was checked. */
static void bus_string_pair(DBusMessage *call, const char **first, const char **second)
{
	bus_marshal_oom_if(!dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, first,
	                                          DBUS_TYPE_STRING, second, DBUS_TYPE_INVALID),
	                   "reading D-Bus arguments");
}

static DBusMessage *bus_check(struct bus_service *bus, DBusMessage *call)
{
	g_autoptr(GError) error = NULL;

	if (!daemon_check(bus->daemon, bus_string_arg(call), &error)) {
		return bus_new_gerror(call, error);
	}
	return bus_new_return(call);
}

static void bus_call_free(gpointer p)
{
	struct bus_call *c = p;

	dbus_message_unref(c->call);
	g_free(c);
}

static void bus_call_reply(struct bus_call *c, DBusMessage *reply)
{
	if (!dbus_message_get_no_reply(c->call)) {
		bus_send(c->bus, reply);
	}
	dbus_message_unref(reply);
}

static void bus_call_done(const GError *error, void *user_data)
{
	struct bus_call *c = user_data;
	struct bus_service *bus = c->bus;

	/* Signals collected so far go first (see bus.h). */
	bus_signals_flush(bus->signals);
	bus_call_reply(c, error != NULL ? bus_new_gerror(c->call, error) : bus_new_return(c->call));
	g_ptr_array_remove_fast(bus->calls, c);
}

static struct bus_call *bus_call_keep(struct bus_service *bus, DBusMessage *call)
{
	struct bus_call *c = g_new(struct bus_call, 1);

	c->bus = bus;
	c->call = dbus_message_ref(call);
	g_ptr_array_add(bus->calls, c);
	return c;
}

static DBusMessage *bus_mark_read(struct bus_service *bus, DBusMessage *call)
{
	char **ids = NULL;
	int n_ids = 0;

	bus_marshal_oom_if(!dbus_message_get_args(call, NULL, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING,
	                                          &ids, &n_ids, DBUS_TYPE_INVALID),
	                   "reading D-Bus arguments");
	/* libdbus returns string arrays NULL-terminated. */
	daemon_mark_read(bus->daemon, (const char *const *)ids, bus_call_done,
	                 bus_call_keep(bus, call));
	dbus_free_string_array(ids);
	return NULL;
}

static DBusMessage *bus_mark_all_read(struct bus_service *bus, DBusMessage *call)
{
	const char *account = NULL;
	const char *folder = NULL;

	bus_string_pair(call, &account, &folder);
	daemon_mark_all_read(bus->daemon, account, folder, bus_call_done, bus_call_keep(bus, call));
	return NULL;
}

static DBusMessage *bus_reload(struct bus_service *bus, DBusMessage *call)
{
	g_autoptr(GError) error = NULL;

	if (!daemon_reload(bus->daemon, &error)) {
		g_warning("configuration not reloaded: %s", error->message);
		return bus_new_error(call, BUS_ERROR_FAILED, "configuration not reloaded: %s",
		                     error->message);
	}
	return bus_new_return(call);
}

static DBusMessage *bus_introspect(struct bus_service *bus, DBusMessage *call)
{
	DBusMessage *reply = bus_new_return(call);
	DBusMessageIter args;

	dbus_message_iter_init_append(reply, &args);
	bus_marshal_string(&args, bus->introspect_xml);
	return reply;
}

/* --- properties ---------------------------------------------------------- */

static const char *const property_names[] = {"TotalUnseen", "Accounts", "Version"};

/* Appends the variant of a property; false if there is no such property. */
static bool bus_append_property(struct bus_service *bus, const char *name, DBusMessageIter *iter)
{
	if (strcmp(name, "TotalUnseen") == 0) {
		bus_marshal_variant_uint32(iter, daemon_get_total_unseen(bus->daemon));
	} else if (strcmp(name, "Accounts") == 0) {
		g_auto(GStrv) names = daemon_get_account_names(bus->daemon);

		bus_marshal_variant_strv(iter, (const char *const *)names);
	} else if (strcmp(name, "Version") == 0) {
		bus_marshal_variant_string(iter, IMAPWATCH_VERSION);
	} else {
		return false;
	}
	return true;
}

/* "" names the object's only interface with properties. */
static bool bus_is_our_interface(const char *interface)
{
	return interface[0] == '\0' || strcmp(interface, BUS_INTERFACE) == 0;
}

static DBusMessage *bus_properties_get(struct bus_service *bus, DBusMessage *call)
{
	const char *interface = NULL;
	const char *name = NULL;

	bus_string_pair(call, &interface, &name);
	if (!bus_is_our_interface(interface)) {
		return bus_new_error(call, ERROR_UNKNOWN_IFACE, "no interface '%s' with properties",
		                     interface);
	}
	g_autoptr(DBusMessage) reply = bus_new_return(call);
	DBusMessageIter args;

	dbus_message_iter_init_append(reply, &args);
	if (!bus_append_property(bus, name, &args)) {
		return bus_new_error(call, ERROR_UNKNOWN_PROP, "no property '%s'", name);
	}
	return g_steal_pointer(&reply);
}

static DBusMessage *bus_properties_get_all(struct bus_service *bus, DBusMessage *call)
{
	const char *interface = bus_string_arg(call);

	if (!bus_is_our_interface(interface)) {
		return bus_new_error(call, ERROR_UNKNOWN_IFACE, "no interface '%s' with properties",
		                     interface);
	}
	DBusMessage *reply = bus_new_return(call);
	DBusMessageIter args, dict, entry;

	dbus_message_iter_init_append(reply, &args);
	bus_marshal_open(&args, DBUS_TYPE_ARRAY, "{sv}", &dict);
	for (size_t i = 0; i < G_N_ELEMENTS(property_names); i++) {
		bus_marshal_open(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
		bus_marshal_string(&entry, property_names[i]);
		bus_append_property(bus, property_names[i], &entry);
		bus_marshal_close(&dict, &entry);
	}
	bus_marshal_close(&args, &dict);
	return reply;
}

static DBusMessage *bus_properties_set(struct bus_service *bus, DBusMessage *call)
{
	const char *interface = NULL;
	const char *name = NULL;
	DBusMessageIter args;

	(void)bus;
	/* The value is a variant, which dbus_message_get_args cannot skip. */
	dbus_message_iter_init(call, &args);
	dbus_message_iter_get_basic(&args, &interface);
	dbus_message_iter_next(&args);
	dbus_message_iter_get_basic(&args, &name);
	if (!bus_is_our_interface(interface)) {
		return bus_new_error(call, ERROR_UNKNOWN_IFACE, "no interface '%s' with properties",
		                     interface);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(property_names); i++) {
		if (strcmp(name, property_names[i]) == 0) {
			return bus_new_error(call, ERROR_READ_ONLY, "property '%s' is read-only",
			                     name);
		}
	}
	return bus_new_error(call, ERROR_UNKNOWN_PROP, "no property '%s'", name);
}

/* --- dispatch ------------------------------------------------------------ */

/* Returns the reply, or NULL when the reply comes later. */
typedef DBusMessage *(*bus_method_fn)(struct bus_service *bus, DBusMessage *call);

static const struct bus_method {
	const char *interface;
	const char *name;
	const char *signature;
	const char *usage; /* the arguments, for the InvalidArgs message */
	bus_method_fn fn;
} methods[] = {
    {BUS_INTERFACE, "GetStatus", "", "no arguments", bus_get_status},
    {BUS_INTERFACE, "ListMessages", "ssb",
     "(account: string, folder: string, unseen_only: boolean)", bus_list_messages},
    {BUS_INTERFACE, "Check", "s", "(account: string)", bus_check},
    {BUS_INTERFACE, "MarkRead", "as", "(ids: array of strings)", bus_mark_read},
    {BUS_INTERFACE, "MarkAllRead", "ss", "(account: string, folder: string)", bus_mark_all_read},
    {BUS_INTERFACE, "Reload", "", "no arguments", bus_reload},
    {INTROSPECT_INTERFACE, "Introspect", "", "no arguments", bus_introspect},
    {PROPERTIES_INTERFACE, "Get", "ss", "(interface: string, property: string)",
     bus_properties_get},
    {PROPERTIES_INTERFACE, "GetAll", "s", "(interface: string)", bus_properties_get_all},
    {PROPERTIES_INTERFACE, "Set", "ssv", "(interface: string, property: string, value: variant)",
     bus_properties_set},
};

static const struct bus_method *bus_find_method(const char *interface, const char *name,
                                                bool *interface_known)
{
	*interface_known = interface == NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
		/* Without an interface, the member name alone decides. */
		if (interface != NULL && strcmp(interface, methods[i].interface) != 0) {
			continue;
		}
		*interface_known = true;
		if (strcmp(name, methods[i].name) == 0) {
			return &methods[i];
		}
	}
	return NULL;
}

static DBusMessage *bus_dispatch(struct bus_service *bus, DBusMessage *call)
{
	const char *interface = dbus_message_get_interface(call);
	const char *name = dbus_message_get_member(call);
	bool interface_known;
	const struct bus_method *m = bus_find_method(interface, name, &interface_known);

	if (m == NULL && !interface_known) {
		return bus_new_error(call, ERROR_UNKNOWN_IFACE, "no interface '%s' on %s",
		                     interface, BUS_PATH);
	}
	if (m == NULL) {
		return bus_new_error(call, ERROR_UNKNOWN_METHOD, "no method '%s'", name);
	}
	if (!dbus_message_has_signature(call, m->signature)) {
		return bus_new_error(call, ERROR_INVALID_ARGS, "%s takes %s, not (%s)", m->name,
		                     m->usage, dbus_message_get_signature(call));
	}
	return m->fn(bus, call);
}

static DBusHandlerResult bus_on_message(DBusConnection *conn, DBusMessage *call, void *user_data)
{
	struct bus_service *bus = user_data;

	(void)conn;
	if (dbus_message_get_type(call) != DBUS_MESSAGE_TYPE_METHOD_CALL) {
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	}
	/* Signals collected so far go before any reply (see bus.h). */
	bus_signals_flush(bus->signals);
	DBusMessage *reply = bus_dispatch(bus, call);
	if (reply != NULL) {
		if (!dbus_message_get_no_reply(call)) {
			bus_send(bus, reply);
		}
		dbus_message_unref(reply);
	}
	return DBUS_HANDLER_RESULT_HANDLED;
}

/* --- connection ---------------------------------------------------------- */

static void bus_close_connection(struct bus_service *bus)
{
	if (bus->conn == NULL) {
		return;
	}
	bus_signals_set_connection(bus->signals, NULL);
	bus_loop_detach(bus->conn);
	/* Private connections must be closed before the last unref. */
	dbus_connection_close(bus->conn);
	g_clear_pointer(&bus->conn, dbus_connection_unref);
}

static gboolean bus_drop_cb(gpointer user_data)
{
	struct bus_service *bus = user_data;

	bus->drop_source = 0;
	bus_close_connection(bus);
	return G_SOURCE_REMOVE;
}

static DBusHandlerResult bus_filter(DBusConnection *conn, DBusMessage *message, void *user_data)
{
	struct bus_service *bus = user_data;

	(void)conn;
	if (dbus_message_is_signal(message, DBUS_INTERFACE_LOCAL, "Disconnected")) {
		g_warning("lost the session bus: the D-Bus service stops, mail is still watched");
		/* Not from inside the connection's own dispatch. */
		if (bus->drop_source == 0) {
			bus->drop_source = g_idle_add(bus_drop_cb, bus);
		}
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

static char *bus_build_introspection(void)
{
	const char *end = g_strrstr(bus_introspect_xml, "</node>");
	GString *xml = g_string_new(NULL);

	g_assert(end != NULL); /* checked by unit/dbus-xml */
	g_string_append_len(xml, bus_introspect_xml, end - bus_introspect_xml);
	g_string_append(xml, standard_interfaces);
	g_string_append(xml, end);
	return g_string_free(xml, FALSE);
}

/* A connection owning BUS_NAME. NULL when there is no session bus or the
 * name cannot be had (logged), or, with *taken set, when another process
 * owns the name. */
static DBusConnection *bus_connect(bool *taken)
{
	g_auto(DBusError) error = DBUS_ERROR_INIT;
	g_autoptr(DBusConnection) conn = dbus_bus_get_private(DBUS_BUS_SESSION, &error);

	if (conn == NULL) {
		g_message("no session bus (%s): running without D-Bus", error.message);
		return NULL;
	}
	/* Losing the bus must not end the daemon (libdbus would _exit). */
	dbus_connection_set_exit_on_disconnect(conn, FALSE);
	int r = dbus_bus_request_name(conn, BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &error);
	if (r != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		*taken = r == DBUS_REQUEST_NAME_REPLY_EXISTS;
		if (!*taken) {
			g_warning("cannot own the D-Bus name %s (%s): running without D-Bus",
			          BUS_NAME,
			          dbus_error_is_set(&error) ? error.message : "refused by the bus");
		}
		/* Private connections must be closed before the last unref. */
		dbus_connection_close(conn);
		return NULL;
	}
	return g_steal_pointer(&conn);
}

int bus_service_create(struct bus_service **out)
{
	bool taken = false;
	DBusConnection *conn = bus_connect(&taken);

	if (taken) {
		return -EEXIST;
	}
	struct bus_service *bus = g_new0(struct bus_service, 1);
	bus->conn = conn;
	bus->calls = g_ptr_array_new_with_free_func(bus_call_free);
	*out = bus;
	return 0;
}

void bus_service_start(struct bus_service *bus, struct daemon *daemon)
{
	static const DBusObjectPathVTable vtable = {.message_function = bus_on_message};
	g_auto(DBusError) error = DBUS_ERROR_INIT;

	bus->daemon = daemon;
	bus->introspect_xml = bus_build_introspection();
	if (bus->conn == NULL) {
		return;
	}
	bus_marshal_oom_if(!dbus_connection_add_filter(bus->conn, bus_filter, bus, NULL),
	                   "adding a D-Bus filter");
	if (!dbus_connection_try_register_object_path(bus->conn, BUS_PATH, &vtable, bus, &error)) {
		/* Only out of memory or a path already taken, which no other
		 * code on this private connection does. */
		g_error("cannot serve %s on D-Bus: %s", BUS_PATH, error.message);
	}
	bus->signals = bus_signals_create(bus->conn, daemon);
	int r = bus_loop_attach(bus->conn, NULL);
	g_assert(r == 0); /* a fresh private connection is attached nowhere */
	g_message("serving %s on the session bus", BUS_NAME);
}

bool bus_service_is_connected(const struct bus_service *bus)
{
	return bus->conn != NULL;
}

void bus_service_destroy(struct bus_service *bus)
{
	if (bus == NULL) {
		return;
	}
	g_clear_pointer(&bus->signals, bus_signals_destroy);
	for (guint i = 0; i < bus->calls->len; i++) {
		struct bus_call *c = bus->calls->pdata[i];

		bus_call_reply(c, bus_new_error(c->call, BUS_ERROR_FAILED,
		                                "imapwatchd stopped before the server answered"));
	}
	g_ptr_array_unref(bus->calls);
	if (bus->conn != NULL) {
		/* The loop has stopped; a short blocking write is fine now. */
		dbus_connection_flush(bus->conn);
	}
	g_clear_handle_id(&bus->drop_source, g_source_remove);
	bus_close_connection(bus);
	g_free(bus->introspect_xml);
	g_free(bus);
}
