/* SPDX-License-Identifier: MIT */
/*
 * The properties of org.imapwatch.Daemon1 (TotalUnseen, Accounts, Version,
 * PausedUntil, Quiet) through org.freedesktop.DBus.Properties: Get, GetAll,
 * and Set, which always fails (they are read-only).
 */
#include "listeners/bus-private.h"

#include "imapwatch/io/bus-loop.h"
#include "imapwatch/listeners/bus.h"

#include <string.h>

/* --- properties ---------------------------------------------------------- */

static const char *const property_names[] = {"TotalUnseen", "Accounts", "Version", "PausedUntil",
                                             "Quiet"};

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
	} else if (strcmp(name, "PausedUntil") == 0) {
		bus_marshal_variant_int64(iter, daemon_get_paused_until(bus->daemon));
	} else if (strcmp(name, "Quiet") == 0) {
		g_auto(GStrv) quiet = bus_marshal_quiet_names(daemon_get_quiet(bus->daemon));

		bus_marshal_variant_strv(iter, (const char *const *)quiet);
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

DBusMessage *bus_properties_get(struct bus_service *bus, DBusMessage *call)
{
	const char *interface = NULL;
	const char *name = NULL;

	bus_string_pair(call, &interface, &name);
	if (!bus_is_our_interface(interface)) {
		return bus_message_new_error(call, ERROR_UNKNOWN_IFACE,
		                             "no interface '%s' with properties", interface);
	}
	g_autoptr(DBusMessage) reply = bus_message_new_return(call);
	DBusMessageIter args;

	dbus_message_iter_init_append(reply, &args);
	if (!bus_append_property(bus, name, &args)) {
		return bus_message_new_error(call, ERROR_UNKNOWN_PROP, "no property '%s'", name);
	}
	return g_steal_pointer(&reply);
}

DBusMessage *bus_properties_get_all(struct bus_service *bus, DBusMessage *call)
{
	const char *interface = bus_string_arg(call);

	if (!bus_is_our_interface(interface)) {
		return bus_message_new_error(call, ERROR_UNKNOWN_IFACE,
		                             "no interface '%s' with properties", interface);
	}
	DBusMessage *reply = bus_message_new_return(call);
	DBusMessageIter args, dict, entry;

	dbus_message_iter_init_append(reply, &args);
	bus_message_open(&args, DBUS_TYPE_ARRAY, "{sv}", &dict);
	for (size_t i = 0; i < G_N_ELEMENTS(property_names); i++) {
		bus_message_open(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
		bus_message_append_string(&entry, property_names[i]);
		bus_append_property(bus, property_names[i], &entry);
		bus_message_close(&dict, &entry);
	}
	bus_message_close(&args, &dict);
	return reply;
}

DBusMessage *bus_properties_set(struct bus_service *bus, DBusMessage *call)
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
		return bus_message_new_error(call, ERROR_UNKNOWN_IFACE,
		                             "no interface '%s' with properties", interface);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(property_names); i++) {
		if (strcmp(name, property_names[i]) == 0) {
			return bus_message_new_error(call, ERROR_READ_ONLY,
			                             "property '%s' is read-only", name);
		}
	}
	return bus_message_new_error(call, ERROR_UNKNOWN_PROP, "no property '%s'", name);
}
