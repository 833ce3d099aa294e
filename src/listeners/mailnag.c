/* SPDX-License-Identifier: MIT */
/*
 * mailnag's D-Bus service (mailnag.h): the name, asked for and given up
 * without blocking, the object and its methods. The list and the signals
 * are in mailnag-list.c.
 */
#include "listeners/mailnag-private.h"

#include "imapwatch/io/bus-loop.h"

#include <string.h>

#define ERROR_INVALID_ARGS   "org.freedesktop.DBus.Error.InvalidArgs"
#define ERROR_UNKNOWN_METHOD "org.freedesktop.DBus.Error.UnknownMethod"
#define ERROR_UNKNOWN_IFACE  "org.freedesktop.DBus.Error.UnknownInterface"
#define INTROSPECT_INTERFACE "org.freedesktop.DBus.Introspectable"

/* mailnag 2.2's interface, as its service declares it, and the standard
 * interfaces the object answers (Peer by libdbus itself). */
static const char introspection_xml[] =
    "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n"
    "<node>\n"
    "  <interface name=\"" MAILNAG_INTERFACE "\">\n"
    "    <method name=\"GetMails\">\n"
    "      <arg type=\"aa{sv}\" direction=\"out\"/>\n"
    "    </method>\n"
    "    <method name=\"GetMailCount\">\n"
    "      <arg type=\"u\" direction=\"out\"/>\n"
    "    </method>\n"
    "    <method name=\"Shutdown\"/>\n"
    "    <method name=\"CheckForMails\"/>\n"
    "    <method name=\"MarkMailAsRead\">\n"
    "      <arg name=\"mail_id\" type=\"s\" direction=\"in\"/>\n"
    "    </method>\n"
    "    <signal name=\"MailsAdded\">\n"
    "      <arg name=\"new_mails\" type=\"aa{sv}\"/>\n"
    "      <arg name=\"all_mails\" type=\"aa{sv}\"/>\n"
    "    </signal>\n"
    "    <signal name=\"MailsRemoved\">\n"
    "      <arg name=\"remaining_mails\" type=\"aa{sv}\"/>\n"
    "    </signal>\n"
    "  </interface>\n"
    "  <interface name=\"" INTROSPECT_INTERFACE "\">\n"
    "    <method name=\"Introspect\">\n"
    "      <arg name=\"xml_data\" type=\"s\" direction=\"out\"/>\n"
    "    </method>\n"
    "  </interface>\n" BUS_MESSAGE_PEER_XML "</node>\n";

/* --- methods ------------------------------------------------------------- */

static DBusMessage *mailnag_get_mails(struct mailnag_service *m, DBusMessage *call)
{
	DBusMessage *reply = bus_message_new_return(call);
	DBusMessageIter args;

	dbus_message_iter_init_append(reply, &args);
	mailnag_append_mails(&args, m->mails, NULL);
	return reply;
}

static DBusMessage *mailnag_get_mail_count(struct mailnag_service *m, DBusMessage *call)
{
	DBusMessage *reply = bus_message_new_return(call);
	DBusMessageIter args;
	dbus_uint32_t count = m->mails->len;

	dbus_message_iter_init_append(reply, &args);
	bus_message_append(&args, DBUS_TYPE_UINT32, &count);
	return reply;
}

static void mailnag_mark_done(const GError *error, void *user_data)
{
	struct mailnag_mark *mark = user_data;
	struct mailnag_service *m = mark->mailnag;

	if (error != NULL) {
		if (g_error_matches(error, DAEMON_ERROR, DAEMON_ERROR_NO_SUCH_MESSAGE)) {
			g_debug("mailnag applet: %s", error->message);
		} else {
			g_warning("marking a message as read for a mailnag applet failed: %s",
			          error->message);
		}
		/* Listed again if still unseen; it never stopped being known. */
		g_hash_table_remove(m->hidden, mark->id);
		mailnag_schedule_flush(m);
	}
	/* On success the message stays hidden until the daemon sees \Seen. */
	g_ptr_array_remove_fast(m->marks, mark);
}

static void mailnag_mark_free(gpointer p)
{
	struct mailnag_mark *mark = p;

	g_free(mark->id);
	g_free(mark);
}

/* As mailnag: the mail leaves the list at once (MailsRemoved follows when
 * the loop is idle) and the call returns without waiting for the server. */
static DBusMessage *mailnag_mark_mail_as_read(struct mailnag_service *m, DBusMessage *call)
{
	const char *id = NULL;

	bus_message_oom_if(
	    !dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &id, DBUS_TYPE_INVALID),
	    "reading D-Bus arguments");
	if (!g_hash_table_contains(m->hidden, id)) {
		struct mailnag_mark *mark = g_new(struct mailnag_mark, 1);
		const char *ids[] = {id, NULL};

		mark->mailnag = m;
		mark->id = g_strdup(id);
		g_ptr_array_add(m->marks, mark);
		g_hash_table_add(m->hidden, g_strdup(id));
		daemon_mark_read(m->daemon, ids, mailnag_mark_done, mark);
		mailnag_schedule_flush(m);
	}
	return bus_message_new_return(call);
}

static DBusMessage *mailnag_check_for_mails(struct mailnag_service *m, DBusMessage *call)
{
	/* "" (every account) cannot fail. */
	daemon_check(m->daemon, "", NULL);
	return bus_message_new_return(call);
}

/* mailnag's Shutdown ends mailnag. imapwatchd is not mailnag: it gives up
 * the name, which is what mailnag's tools wait for before they start
 * mailnag again, and what makes the applets hide; mail is still watched.
 * The name is released before the reply goes out (in order on the
 * connection), so a caller that has the reply finds it free. */
static DBusMessage *mailnag_shutdown(struct mailnag_service *m, DBusMessage *call)
{
	g_message("a mailnag client asked to shut down: %s released until the next reload, "
	          "mail is still watched",
	          MAILNAG_NAME);
	mailnag_stop(m);
	return bus_message_new_return(call);
}

static DBusMessage *mailnag_introspect(struct mailnag_service *m, DBusMessage *call)
{
	DBusMessage *reply = bus_message_new_return(call);
	DBusMessageIter args;

	(void)m;
	dbus_message_iter_init_append(reply, &args);
	bus_message_append_string(&args, introspection_xml);
	return reply;
}

typedef DBusMessage *(*mailnag_method_fn)(struct mailnag_service *m, DBusMessage *call);

static const struct mailnag_method {
	const char *interface;
	const char *name;
	const char *signature;
	mailnag_method_fn fn;
} methods[] = {
    {MAILNAG_INTERFACE, "GetMails", "", mailnag_get_mails},
    {MAILNAG_INTERFACE, "GetMailCount", "", mailnag_get_mail_count},
    {MAILNAG_INTERFACE, "Shutdown", "", mailnag_shutdown},
    {MAILNAG_INTERFACE, "CheckForMails", "", mailnag_check_for_mails},
    {MAILNAG_INTERFACE, "MarkMailAsRead", "s", mailnag_mark_mail_as_read},
    {INTROSPECT_INTERFACE, "Introspect", "", mailnag_introspect},
};

static DBusMessage *mailnag_dispatch(struct mailnag_service *m, DBusMessage *call)
{
	const char *interface = dbus_message_get_interface(call);
	const char *name = dbus_message_get_member(call);
	bool interface_known = interface == NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
		const struct mailnag_method *method = &methods[i];

		/* Without an interface, the member name alone decides. */
		if (interface != NULL && strcmp(interface, method->interface) != 0) {
			continue;
		}
		interface_known = true;
		if (strcmp(name, method->name) != 0) {
			continue;
		}
		if (!dbus_message_has_signature(call, method->signature)) {
			return bus_message_new_error(
			    call, ERROR_INVALID_ARGS, "%s takes (%s), not (%s)", name,
			    method->signature, dbus_message_get_signature(call));
		}
		return method->fn(m, call);
	}
	if (!interface_known) {
		return bus_message_new_error(call, ERROR_UNKNOWN_IFACE, "no interface '%s' on %s",
		                             interface, MAILNAG_PATH);
	}
	return bus_message_new_error(call, ERROR_UNKNOWN_METHOD, "no method '%s'", name);
}

static DBusHandlerResult mailnag_on_message(DBusConnection *conn, DBusMessage *call,
                                            void *user_data)
{
	struct mailnag_service *m = user_data;

	(void)conn;
	if (dbus_message_get_type(call) != DBUS_MESSAGE_TYPE_METHOD_CALL) {
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	}
	/* What a reply reports has been announced already. */
	mailnag_flush(m);
	g_autoptr(DBusMessage) reply = mailnag_dispatch(m, call);
	if (!dbus_message_get_no_reply(call)) {
		bus_message_send(m->conn, reply);
	}
	return DBUS_HANDLER_RESULT_HANDLED;
}

/* --- the name ------------------------------------------------------------ */

static DBusMessage *mailnag_new_bus_call(const char *method)
{
	DBusMessage *call = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
	                                                 DBUS_INTERFACE_DBUS, method);
	DBusMessageIter args;
	const char *name = MAILNAG_NAME;

	bus_message_oom_if(call == NULL, "creating a D-Bus call");
	dbus_message_iter_init_append(call, &args);
	bus_message_append(&args, DBUS_TYPE_STRING, &name);
	return call;
}

/* Back to MAILNAG_OFF: the name given up (also when a request may still
 * be granted), the object and the list dropped. */
void mailnag_stop(struct mailnag_service *m)
{
	if (m->request != NULL) {
		dbus_pending_call_cancel(m->request);
		g_clear_pointer(&m->request, dbus_pending_call_unref);
	}
	if (m->state != MAILNAG_OFF && dbus_connection_get_is_connected(m->conn)) {
		g_autoptr(DBusMessage) release = mailnag_new_bus_call("ReleaseName");

		dbus_message_set_no_reply(release, TRUE);
		bus_message_send(m->conn, release);
	}
	if (m->registered) {
		bus_message_oom_if(!dbus_connection_unregister_object_path(m->conn, MAILNAG_PATH),
		                   "leaving a D-Bus object path");
		m->registered = false;
	}
	mailnag_list_clear(m);
	m->state = MAILNAG_OFF;
}

static void mailnag_on_request_reply(DBusPendingCall *pending, void *user_data)
{
	struct mailnag_service *m = user_data;
	g_autoptr(DBusMessage) reply = dbus_pending_call_steal_reply(pending);
	g_auto(DBusError) error = DBUS_ERROR_INIT;
	dbus_uint32_t result = 0;

	g_clear_pointer(&m->request, dbus_pending_call_unref);
	if (reply == NULL || dbus_set_error_from_message(&error, reply) ||
	    !dbus_message_get_args(reply, &error, DBUS_TYPE_UINT32, &result, DBUS_TYPE_INVALID)) {
		g_warning("cannot own the D-Bus name %s (%s): mailnag applets will not show "
		          "imapwatch's mail",
		          MAILNAG_NAME, dbus_error_is_set(&error) ? error.message : "no reply");
		mailnag_stop(m);
		return;
	}
	switch (result) {
	case DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER:
	case DBUS_REQUEST_NAME_REPLY_ALREADY_OWNER:
		m->state = MAILNAG_SERVING;
		g_message("serving %s on the session bus for mailnag applets", MAILNAG_NAME);
		/* The first announcement: every unseen message is new. */
		mailnag_schedule_flush(m);
		break;
	default:
		/* Not ours to take: nothing is released. */
		m->state = MAILNAG_OFF;
		mailnag_stop(m);
		g_warning("%s is owned by another program (mailnag itself?): mailnag applets show "
		          "its mail, not imapwatch's; quit it and reload imapwatchd to take over",
		          MAILNAG_NAME);
		break;
	}
}

/* Registers the object and asks for the name; the answer comes later. */
static void mailnag_start(struct mailnag_service *m)
{
	static const DBusObjectPathVTable vtable = {.message_function = mailnag_on_message};
	g_auto(DBusError) error = DBUS_ERROR_INIT;

	if (m->state != MAILNAG_OFF) {
		return;
	}
	if (m->conn == NULL || !dbus_connection_get_is_connected(m->conn)) {
		g_debug("mailnag_compat: no session bus, %s is not offered", MAILNAG_NAME);
		return;
	}
	if (!dbus_connection_try_register_object_path(m->conn, MAILNAG_PATH, &vtable, m, &error)) {
		/* Out of memory, or the path taken, which nothing else on
		 * this connection does. */
		g_warning("cannot serve %s on D-Bus: %s", MAILNAG_PATH, error.message);
		return;
	}
	m->registered = true;

	g_autoptr(DBusMessage) call = mailnag_new_bus_call("RequestName");
	DBusMessageIter args;
	dbus_uint32_t flags = DBUS_NAME_FLAG_DO_NOT_QUEUE;
	DBusPendingCall *pending = NULL;

	dbus_message_iter_init_append(call, &args);
	bus_message_append(&args, DBUS_TYPE_UINT32, &flags);
	bus_message_oom_if(
	    !dbus_connection_send_with_reply(m->conn, call, &pending, DBUS_TIMEOUT_USE_DEFAULT),
	    "sending a D-Bus call");
	if (pending == NULL) {
		/* Disconnected meanwhile; the bus service says so. */
		mailnag_stop(m);
		return;
	}
	m->request = pending;
	m->state = MAILNAG_REQUESTING;
	/* The reply is read by the main loop, after this returns. */
	bus_message_oom_if(
	    !dbus_pending_call_set_notify(pending, mailnag_on_request_reply, m, NULL),
	    "waiting for a D-Bus reply");
}

static void mailnag_on_reload(void *user_data)
{
	struct mailnag_service *m = user_data;
	bool wanted = daemon_get_config(m->daemon)->mailnag_compat;

	if (wanted && m->state == MAILNAG_OFF) {
		/* Also after the name was taken or given up: try again. */
		mailnag_start(m);
	} else if (!wanted && m->state != MAILNAG_OFF) {
		mailnag_stop(m);
		g_message("mailnag_compat is off: %s released", MAILNAG_NAME);
	} else {
		/* Accounts may have come or gone. */
		mailnag_schedule_flush(m);
	}
}

/* --- lifecycle ----------------------------------------------------------- */

struct mailnag_service *mailnag_service_create(struct daemon *daemon, DBusConnection *conn)
{
	struct mailnag_service *m = g_new0(struct mailnag_service, 1);

	m->daemon = daemon;
	m->conn = conn != NULL ? dbus_connection_ref(conn) : NULL;
	m->mails = g_ptr_array_new_with_free_func((GDestroyNotify)daemon_message_free);
	m->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->arrived = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->unread_again = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->reset_folders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->folders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->hidden = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->marks = g_ptr_array_new_with_free_func(mailnag_mark_free);
	m->listener = daemon_add_listener(daemon, mailnag_on_event, m);
	m->reload_listener = daemon_add_reload_listener(daemon, mailnag_on_reload, m);
	if (daemon_get_config(daemon)->mailnag_compat) {
		mailnag_start(m);
	}
	return m;
}

void mailnag_service_destroy(struct mailnag_service *m)
{
	if (m == NULL) {
		return;
	}
	daemon_remove_listener(m->daemon, m->listener);
	daemon_remove_listener(m->daemon, m->reload_listener);
	/* The connection closes right after: the bus drops the name then. */
	if (m->request != NULL) {
		dbus_pending_call_cancel(m->request);
		g_clear_pointer(&m->request, dbus_pending_call_unref);
	}
	if (m->registered) {
		dbus_connection_unregister_object_path(m->conn, MAILNAG_PATH);
	}
	g_clear_handle_id(&m->flush_source, g_source_remove);
	/* Requests still under way are never completed after the loop has
	 * stopped (daemon.h): their marks go now. */
	g_ptr_array_unref(m->marks);
	g_ptr_array_unref(m->mails);
	g_hash_table_unref(m->known);
	g_hash_table_unref(m->arrived);
	g_hash_table_unref(m->unread_again);
	g_hash_table_unref(m->reset_folders);
	g_hash_table_unref(m->folders);
	g_hash_table_unref(m->hidden);
	g_clear_pointer(&m->conn, dbus_connection_unref);
	g_free(m);
}
