/* SPDX-License-Identifier: MIT */
#include "imapwatch/ctl/ctl-client.h"

#include "imapwatch/core/bus-names.h"

#include <dbus/dbus.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

struct ctl_client {
	DBusConnection *conn;
	bool quiet; /* a missing daemon is not reported on stderr */
};

static void ctl_oom_if(bool failed)
{
	if (failed) {
		g_error("out of memory talking to D-Bus");
	}
}

static void ctl_print_start_hint(void)
{
	fputs("Start it with 'systemctl --user start imapwatchd', or run 'imapwatchd &'.\n",
	      stderr);
}

static void ctl_print_not_running(void)
{
	fputs("imapwatch: imapwatchd is not running.\n", stderr);
	ctl_print_start_hint();
}

/* --- GVariant <-> libdbus ------------------------------------------------ */

static void ctl_append(DBusMessageIter *iter, GVariant *value);

static void ctl_append_children(DBusMessageIter *iter, GVariant *value, int type,
                                const char *signature)
{
	DBusMessageIter child;
	GVariantIter it;
	GVariant *item;

	ctl_oom_if(!dbus_message_iter_open_container(iter, type, signature, &child));
	g_variant_iter_init(&it, value);
	while ((item = g_variant_iter_next_value(&it)) != NULL) {
		ctl_append(&child, item);
		g_variant_unref(item);
	}
	ctl_oom_if(!dbus_message_iter_close_container(iter, &child));
}

/* The argument types the CLI sends: basic values, arrays, variants. */
static void ctl_append(DBusMessageIter *iter, GVariant *value)
{
	const char *type = g_variant_get_type_string(value);

	switch (g_variant_classify(value)) {
	case G_VARIANT_CLASS_BOOLEAN: {
		dbus_bool_t b = g_variant_get_boolean(value);

		ctl_oom_if(!dbus_message_iter_append_basic(iter, DBUS_TYPE_BOOLEAN, &b));
		break;
	}
	case G_VARIANT_CLASS_STRING: {
		const char *s = g_variant_get_string(value, NULL);

		ctl_oom_if(!dbus_message_iter_append_basic(iter, DBUS_TYPE_STRING, &s));
		break;
	}
	case G_VARIANT_CLASS_UINT32: {
		dbus_uint32_t u = g_variant_get_uint32(value);

		ctl_oom_if(!dbus_message_iter_append_basic(iter, DBUS_TYPE_UINT32, &u));
		break;
	}
	case G_VARIANT_CLASS_ARRAY:
		ctl_append_children(iter, value, DBUS_TYPE_ARRAY, type + 1);
		break;
	case G_VARIANT_CLASS_DICT_ENTRY:
		ctl_append_children(iter, value, DBUS_TYPE_DICT_ENTRY, NULL);
		break;
	case G_VARIANT_CLASS_VARIANT: {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);
		DBusMessageIter child;

		ctl_oom_if(!dbus_message_iter_open_container(
		    iter, DBUS_TYPE_VARIANT, g_variant_get_type_string(inner), &child));
		ctl_append(&child, inner);
		ctl_oom_if(!dbus_message_iter_close_container(iter, &child));
		break;
	}
	default:
		/* A programming error: the CLI sends no other types. */
		g_error("cannot send a value of type %s", type);
	}
}

static GVariant *ctl_read(DBusMessageIter *iter);

/* The values of a container, as a GVariant of the given type. */
static GVariant *ctl_read_container(DBusMessageIter *iter, const char *type_string)
{
	g_autoptr(GVariantType) type = g_variant_type_new(type_string);
	GVariantBuilder builder;
	DBusMessageIter child;

	g_variant_builder_init(&builder, type);
	dbus_message_iter_recurse(iter, &child);
	while (dbus_message_iter_get_arg_type(&child) != DBUS_TYPE_INVALID) {
		GVariant *item = ctl_read(&child);

		if (item == NULL) {
			g_variant_builder_clear(&builder);
			return NULL;
		}
		g_variant_builder_add_value(&builder, item);
		dbus_message_iter_next(&child);
	}
	return g_variant_builder_end(&builder);
}

/* One value of a reply or signal as a floating GVariant; NULL for types
 * imapwatchd never sends (file descriptors). */
static GVariant *ctl_read(DBusMessageIter *iter)
{
	DBusBasicValue v;
	int type = dbus_message_iter_get_arg_type(iter);

	if (dbus_type_is_basic(type) && type != DBUS_TYPE_UNIX_FD) {
		dbus_message_iter_get_basic(iter, &v);
	}
	switch (type) {
	case DBUS_TYPE_BOOLEAN:
		return g_variant_new_boolean(v.bool_val);
	case DBUS_TYPE_BYTE:
		return g_variant_new_byte(v.byt);
	case DBUS_TYPE_INT16:
		return g_variant_new_int16(v.i16);
	case DBUS_TYPE_UINT16:
		return g_variant_new_uint16(v.u16);
	case DBUS_TYPE_INT32:
		return g_variant_new_int32(v.i32);
	case DBUS_TYPE_UINT32:
		return g_variant_new_uint32(v.u32);
	case DBUS_TYPE_INT64:
		return g_variant_new_int64(v.i64);
	case DBUS_TYPE_UINT64:
		return g_variant_new_uint64(v.u64);
	case DBUS_TYPE_DOUBLE:
		return g_variant_new_double(v.dbl);
	case DBUS_TYPE_STRING:
		return g_variant_new_string(v.str);
	case DBUS_TYPE_OBJECT_PATH:
		return g_variant_new_object_path(v.str);
	case DBUS_TYPE_SIGNATURE:
		return g_variant_new_signature(v.str);
	case DBUS_TYPE_ARRAY:
	case DBUS_TYPE_STRUCT:
	case DBUS_TYPE_DICT_ENTRY: {
		char *signature = dbus_message_iter_get_signature(iter);

		ctl_oom_if(signature == NULL);
		GVariant *value = ctl_read_container(iter, signature);
		dbus_free(signature);
		return value;
	}
	case DBUS_TYPE_VARIANT: {
		DBusMessageIter child;

		dbus_message_iter_recurse(iter, &child);
		GVariant *inner = ctl_read(&child);
		return inner != NULL ? g_variant_new_variant(inner) : NULL;
	}
	default:
		return NULL;
	}
}

/* Every argument of a message as a tuple; NULL for types we do not read. */
static GVariant *ctl_read_args(DBusMessage *message)
{
	g_autofree char *signature = g_strdup_printf("(%s)", dbus_message_get_signature(message));
	GVariantBuilder builder;
	DBusMessageIter iter;

	if (!g_variant_type_string_is_valid(signature)) {
		return NULL;
	}
	g_variant_builder_init(&builder, G_VARIANT_TYPE(signature));
	if (dbus_message_iter_init(message, &iter)) {
		do {
			GVariant *item = ctl_read(&iter);

			if (item == NULL) {
				g_variant_builder_clear(&builder);
				return NULL;
			}
			g_variant_builder_add_value(&builder, item);
		} while (dbus_message_iter_next(&iter));
	}
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/* --- errors -------------------------------------------------------------- */

/* Prints a failed call in plain words (a missing daemon only unless
 * quiet); returns the exit code. */
static int ctl_report(const DBusError *error, int timeout_ms, bool quiet)
{
	/* The daemon left between taking the call and answering it (it was
	 * stopping): the bus says so with NoReply, at once. */
	bool left = dbus_error_has_name(error, DBUS_ERROR_NO_REPLY) && error->message != NULL &&
	            strstr(error->message, "disconnected") != NULL;

	if (left || dbus_error_has_name(error, DBUS_ERROR_SERVICE_UNKNOWN) ||
	    dbus_error_has_name(error, DBUS_ERROR_NAME_HAS_NO_OWNER)) {
		if (!quiet) {
			ctl_print_not_running();
		}
		return CTL_EXIT_NOT_RUNNING;
	}
	if (dbus_error_has_name(error, DBUS_ERROR_NO_REPLY) ||
	    dbus_error_has_name(error, DBUS_ERROR_TIMEOUT) ||
	    dbus_error_has_name(error, DBUS_ERROR_TIMED_OUT)) {
		fprintf(stderr, "imapwatch: imapwatchd did not answer within %d s.\n",
		        timeout_ms / 1000);
		return CTL_EXIT_FAILED;
	}
	if (dbus_error_has_name(error, DBUS_ERROR_DISCONNECTED)) {
		fputs("imapwatch: lost the connection to the session bus.\n", stderr);
		return CTL_EXIT_FAILED;
	}
	if (g_str_has_prefix(error->name, "org.imapwatch.Error.")) {
		/* The daemon's own messages are written for people. */
		fprintf(stderr, "imapwatch: %s\n", error->message);
		return CTL_EXIT_FAILED;
	}
	if (dbus_error_has_name(error, DBUS_ERROR_UNKNOWN_METHOD)) {
		fputs("imapwatch: this imapwatchd does not know that request; is it older than "
		      "this imapwatch?\n",
		      stderr);
		return CTL_EXIT_FAILED;
	}
	fprintf(stderr, "imapwatch: the request failed: %s\n", error->message);
	return CTL_EXIT_FAILED;
}

/* --- connection ---------------------------------------------------------- */

struct ctl_client *ctl_client_open(bool quiet, int *exit_code)
{
	DBusError error = DBUS_ERROR_INIT;
	DBusConnection *conn = dbus_bus_get_private(DBUS_BUS_SESSION, &error);

	if (conn == NULL) {
		const char *address = g_getenv("DBUS_SESSION_BUS_ADDRESS");

		if (quiet) {
			/* Nothing to say: the caller shows "not running" itself. */
		} else if (address == NULL || address[0] == '\0') {
			fputs("imapwatch: imapwatchd is not running: there is no session bus here "
			      "(DBUS_SESSION_BUS_ADDRESS is not set).\n",
			      stderr);
			ctl_print_start_hint();
		} else {
			fprintf(
			    stderr,
			    "imapwatch: imapwatchd is not running: the session bus at %s cannot be "
			    "reached (%s).\n",
			    address, error.message);
			ctl_print_start_hint();
		}
		dbus_error_free(&error);
		*exit_code = CTL_EXIT_NOT_RUNNING;
		return NULL;
	}
	/* A CLI that loses the bus reports it rather than vanishing. */
	dbus_connection_set_exit_on_disconnect(conn, FALSE);
	struct ctl_client *client = g_new0(struct ctl_client, 1);
	client->conn = conn;
	client->quiet = quiet;
	return client;
}

void ctl_client_set_quiet(struct ctl_client *client, bool quiet)
{
	client->quiet = quiet;
}

bool ctl_client_daemon_running(struct ctl_client *client)
{
	DBusError error = DBUS_ERROR_INIT;
	bool running = dbus_bus_name_has_owner(client->conn, BUS_NAME, &error);

	dbus_error_free(&error);
	return running;
}

struct ctl_client *ctl_client_connect(bool quiet, int *exit_code)
{
	struct ctl_client *client = ctl_client_open(quiet, exit_code);
	DBusError error = DBUS_ERROR_INIT;

	if (client == NULL) {
		return NULL;
	}
	/* Asked of the bus, which never starts anything to answer it. */
	if (!dbus_bus_name_has_owner(client->conn, BUS_NAME, &error)) {
		if (dbus_error_is_set(&error)) {
			*exit_code = ctl_report(&error, CTL_CALL_TIMEOUT_MS, quiet);
			dbus_error_free(&error);
		} else {
			if (!quiet) {
				ctl_print_not_running();
			}
			*exit_code = CTL_EXIT_NOT_RUNNING;
		}
		ctl_client_free(client);
		return NULL;
	}
	return client;
}

void ctl_client_free(struct ctl_client *client)
{
	if (client == NULL) {
		return;
	}
	dbus_connection_close(client->conn);
	dbus_connection_unref(client->conn);
	g_free(client);
}

GVariant *ctl_client_call(struct ctl_client *client, const char *method, GVariant *args,
                          int timeout_ms, int *exit_code)
{
	const char *dot = strrchr(method, '.');
	g_autofree char *interface =
	    dot != NULL ? g_strndup(method, (gsize)(dot - method)) : g_strdup(BUS_INTERFACE);
	DBusMessage *call = dbus_message_new_method_call(BUS_NAME, BUS_PATH, interface,
	                                                 dot != NULL ? dot + 1 : method);
	DBusError error = DBUS_ERROR_INIT;
	DBusMessageIter iter;

	ctl_oom_if(call == NULL);
	/* Never start imapwatchd by D-Bus activation behind the user's back. */
	dbus_message_set_auto_start(call, FALSE);
	if (args != NULL) {
		GVariantIter it;
		GVariant *item;

		g_variant_ref_sink(args);
		dbus_message_iter_init_append(call, &iter);
		g_variant_iter_init(&it, args);
		while ((item = g_variant_iter_next_value(&it)) != NULL) {
			ctl_append(&iter, item);
			g_variant_unref(item);
		}
		g_variant_unref(args);
	}
	DBusMessage *reply =
	    dbus_connection_send_with_reply_and_block(client->conn, call, timeout_ms, &error);
	dbus_message_unref(call);
	if (reply == NULL) {
		*exit_code = ctl_report(&error, timeout_ms, client->quiet);
		dbus_error_free(&error);
		return NULL;
	}
	GVariant *result = ctl_read_args(reply);
	dbus_message_unref(reply);
	if (result == NULL) {
		fputs("imapwatch: imapwatchd answered with something this imapwatch cannot read.\n",
		      stderr);
		*exit_code = CTL_EXIT_FAILED;
	}
	return result;
}

/* --- monitor ------------------------------------------------------------- */

#define MATCH_SIGNALS                                                                              \
	"type='signal',sender='" BUS_NAME "',path='" BUS_PATH "',interface='" BUS_INTERFACE "'"
#define MATCH_PROPERTIES                                                                           \
	"type='signal',sender='" BUS_NAME "',path='" BUS_PATH                                      \
	"',interface='" DBUS_INTERFACE_PROPERTIES "',member='PropertiesChanged'"
#define MATCH_OWNER                                                                                \
	"type='signal',sender='" DBUS_SERVICE_DBUS "',interface='" DBUS_INTERFACE_DBUS             \
	"',member='NameOwnerChanged',arg0='" BUS_NAME "'"

/* NameOwnerChanged(name, old, new): the daemon left or came back. */
static const char *ctl_owner_change(DBusMessage *message)
{
	const char *name = NULL, *old_owner = NULL, *new_owner = NULL;

	if (!dbus_message_get_args(message, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING,
	                           &old_owner, DBUS_TYPE_STRING, &new_owner, DBUS_TYPE_INVALID) ||
	    strcmp(name, BUS_NAME) != 0) {
		return NULL;
	}
	return new_owner[0] == '\0' ? "DaemonGone" : "DaemonBack";
}

/* Hands one message to fn; false when fn wants to stop. */
static bool ctl_deliver(DBusMessage *message, ctl_client_signal_fn fn, void *user_data)
{
	if (dbus_message_get_type(message) != DBUS_MESSAGE_TYPE_SIGNAL) {
		return true;
	}
	if (dbus_message_is_signal(message, DBUS_INTERFACE_DBUS, "NameOwnerChanged")) {
		const char *what = ctl_owner_change(message);
		g_autoptr(GVariant) none = g_variant_ref_sink(g_variant_new_tuple(NULL, 0));

		return what == NULL || fn(what, none, user_data);
	}
	if (!(dbus_message_has_interface(message, BUS_INTERFACE) ||
	      dbus_message_is_signal(message, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged")) ||
	    !dbus_message_has_path(message, BUS_PATH)) {
		return true;
	}
	g_autoptr(GVariant) args = ctl_read_args(message);
	return args == NULL || fn(dbus_message_get_member(message), args, user_data);
}

int ctl_client_subscribe(struct ctl_client *client)
{
	static const char *const rules[] = {MATCH_SIGNALS, MATCH_PROPERTIES, MATCH_OWNER};
	DBusError error = DBUS_ERROR_INIT;

	for (size_t i = 0; i < G_N_ELEMENTS(rules) && !dbus_error_is_set(&error); i++) {
		dbus_bus_add_match(client->conn, rules[i], &error);
	}
	if (dbus_error_is_set(&error)) {
		int code = ctl_report(&error, CTL_CALL_TIMEOUT_MS, false);

		dbus_error_free(&error);
		return code;
	}
	return CTL_EXIT_OK;
}

/* Hands over every message received and parsed so far. Returns 1 to go
 * on, 0 when fn wants to stop, -1 when the bus is gone. */
static int ctl_drain(struct ctl_client *client, ctl_client_signal_fn fn, void *user_data)
{
	DBusMessage *message;

	while ((message = dbus_connection_pop_message(client->conn)) != NULL) {
		bool go_on = ctl_deliver(message, fn, user_data);
		bool disconnected =
		    dbus_message_is_signal(message, DBUS_INTERFACE_LOCAL, "Disconnected");

		dbus_message_unref(message);
		if (!go_on) {
			return 0;
		}
		if (disconnected) {
			return -1;
		}
	}
	return 1;
}

int ctl_client_monitor(struct ctl_client *client, ctl_client_signal_fn fn, ctl_client_idle_fn idle,
                       int out_fd, void *user_data)
{
	for (;;) {
		int fd = -1;
		int drained = ctl_drain(client, fn, user_data);

		if (drained <= 0) {
			if (drained == 0) {
				return CTL_EXIT_OK;
			}
			break;
		}
		if (idle != NULL && !idle(user_data)) {
			return CTL_EXIT_OK;
		}
		/* A call made by idle may have read signals past its reply. */
		if (dbus_connection_get_dispatch_status(client->conn) ==
		    DBUS_DISPATCH_DATA_REMAINS) {
			continue;
		}
		if (!dbus_connection_get_unix_fd(client->conn, &fd)) {
			break;
		}
		/* No events asked of out_fd: errors and hang-ups are always
		 * reported, and a pipe's writer gets an error once its reader
		 * has closed it. */
		struct pollfd fds[2] = {
		    {.fd = fd, .events = POLLIN},
		    {.fd = out_fd, .events = 0},
		};
		if (dbus_connection_has_messages_to_send(client->conn)) {
			fds[0].events |= POLLOUT;
		}
		if (poll(fds, out_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			fprintf(stderr, "imapwatch: cannot wait for the session bus: %s\n",
			        g_strerror(errno));
			return CTL_EXIT_FAILED;
		}
		if (out_fd >= 0 && (fds[1].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
			return CTL_EXIT_OK;
		}
		/* Reads what is there without blocking; the Disconnected
		 * message it queues when the bus is gone ends the loop. */
		(void)dbus_connection_read_write(client->conn, 0);
	}
	fputs("imapwatch: lost the connection to the session bus.\n", stderr);
	return CTL_EXIT_FAILED;
}
