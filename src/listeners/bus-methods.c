/* SPDX-License-Identifier: MIT */
/*
 * The methods of the D-Bus service: replies and errors, the methods of
 * org.imapwatch.Daemon1, Introspect (the interface XML plus the standard
 * interfaces), and the table that method calls are dispatched on.
 */
#include "listeners/bus-private.h"

#include "imapwatch/listeners/bus.h"

#include <string.h>

#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"
#define INTROSPECT_INTERFACE "org.freedesktop.DBus.Introspectable"

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
    "  </interface>\n" BUS_MESSAGE_PEER_XML;

static void bus_send(struct bus_service *bus, DBusMessage *message)
{
	bus_message_send(bus->conn, message);
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
	return bus_message_new_error(call, bus_error_name(error), "%s", error->message);
}

/* --- methods ------------------------------------------------------------- */

static DBusMessage *bus_get_status(struct bus_service *bus, DBusMessage *call)
{
	struct daemon_status *status = daemon_get_status(bus->daemon);
	DBusMessage *reply = bus_message_new_return(call);
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
	bus_message_oom_if(!dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &account,
	                                          DBUS_TYPE_STRING, &folder, DBUS_TYPE_BOOLEAN,
	                                          &unseen_only, DBUS_TYPE_INVALID),
	                   "reading D-Bus arguments");
	g_autoptr(GPtrArray) messages =
	    daemon_list_messages(bus->daemon, account, folder, unseen_only, &error);
	if (messages == NULL) {
		return bus_new_gerror(call, error);
	}
	g_autoptr(GArray) ranked = bus_rank_messages(bus, messages);
	DBusMessage *reply = bus_message_new_return(call);
	DBusMessageIter args, array;

	dbus_message_iter_init_append(reply, &args);
	bus_message_open(&args, DBUS_TYPE_ARRAY, "a{sv}", &array);
	for (guint i = 0; i < ranked->len; i++) {
		bus_marshal_message(&array,
		                    g_array_index(ranked, struct ranked_message, i).message);
	}
	bus_message_close(&args, &array);
	return reply;
}

const char *bus_string_arg(DBusMessage *call)
{
	const char *value = NULL;

	bus_message_oom_if(
	    !dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &value, DBUS_TYPE_INVALID),
	    "reading D-Bus arguments");
	return value;
}

/* The two string arguments of a call whose signature was checked. */
void bus_string_pair(DBusMessage *call, const char **first, const char **second)
{
	bus_message_oom_if(!dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, first,
	                                          DBUS_TYPE_STRING, second, DBUS_TYPE_INVALID),
	                   "reading D-Bus arguments");
}

static DBusMessage *bus_check(struct bus_service *bus, DBusMessage *call)
{
	g_autoptr(GError) error = NULL;

	if (!daemon_check(bus->daemon, bus_string_arg(call), &error)) {
		return bus_new_gerror(call, error);
	}
	return bus_message_new_return(call);
}

void bus_call_free(gpointer p)
{
	struct bus_call *c = p;

	dbus_message_unref(c->call);
	g_free(c);
}

void bus_call_reply(struct bus_call *c, DBusMessage *reply)
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
	bus_call_reply(c, error != NULL ? bus_new_gerror(c->call, error)
	                                : bus_message_new_return(c->call));
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

	bus_message_oom_if(!dbus_message_get_args(call, NULL, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING,
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
		return bus_message_new_error(call, BUS_ERROR_FAILED,
		                             "configuration not reloaded: %s", error->message);
	}
	return bus_message_new_return(call);
}

static DBusMessage *bus_pause(struct bus_service *bus, DBusMessage *call)
{
	dbus_uint32_t seconds = 0;

	bus_message_oom_if(
	    !dbus_message_get_args(call, NULL, DBUS_TYPE_UINT32, &seconds, DBUS_TYPE_INVALID),
	    "reading D-Bus arguments");
	/* PropertiesChanged is sent from inside, before the reply. */
	daemon_pause(bus->daemon, seconds);
	return bus_message_new_return(call);
}

static DBusMessage *bus_resume(struct bus_service *bus, DBusMessage *call)
{
	daemon_resume(bus->daemon);
	return bus_message_new_return(call);
}

static DBusMessage *bus_introspect(struct bus_service *bus, DBusMessage *call)
{
	DBusMessage *reply = bus_message_new_return(call);
	DBusMessageIter args;

	dbus_message_iter_init_append(reply, &args);
	bus_message_append_string(&args, bus->introspect_xml);
	return reply;
}

char *bus_build_introspection(void)
{
	const char *end = g_strrstr(bus_introspect_xml, "</node>");
	GString *xml = g_string_new(NULL);

	g_assert(end != NULL); /* checked by unit/dbus-xml */
	g_string_append_len(xml, bus_introspect_xml, end - bus_introspect_xml);
	g_string_append(xml, standard_interfaces);
	g_string_append(xml, end);
	return g_string_free(xml, FALSE);
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
    {BUS_INTERFACE, "Pause", "u", "(seconds: uint32, 0 for until Resume)", bus_pause},
    {BUS_INTERFACE, "Resume", "", "no arguments", bus_resume},
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
		return bus_message_new_error(call, ERROR_UNKNOWN_IFACE, "no interface '%s' on %s",
		                             interface, BUS_PATH);
	}
	if (m == NULL) {
		return bus_message_new_error(call, ERROR_UNKNOWN_METHOD, "no method '%s'", name);
	}
	if (!dbus_message_has_signature(call, m->signature)) {
		return bus_message_new_error(call, ERROR_INVALID_ARGS, "%s takes %s, not (%s)",
		                             m->name, m->usage, dbus_message_get_signature(call));
	}
	return m->fn(bus, call);
}

DBusHandlerResult bus_on_message(DBusConnection *conn, DBusMessage *call, void *user_data)
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
