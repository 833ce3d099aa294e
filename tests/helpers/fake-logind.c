/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for systemd-logind on a private bus, for the sleep tests: owns
 * org.freedesktop.login1, prints "ready" once it does, then for each line
 * on stdin ("sleep" or "resume") emits PrepareForSleep(true/false) and
 * prints "sent". Exits on end of input.
 */
#include <dbus/dbus.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	DBusError error;
	char line[64];

	dbus_error_init(&error);
	DBusConnection *conn = dbus_bus_get(DBUS_BUS_SYSTEM, &error);
	if (conn == NULL) {
		fprintf(stderr, "fake-logind: %s\n", error.message);
		return 1;
	}
	if (dbus_bus_request_name(conn, "org.freedesktop.login1", DBUS_NAME_FLAG_DO_NOT_QUEUE,
	                          &error) != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		fprintf(stderr, "fake-logind: cannot own org.freedesktop.login1\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		dbus_bool_t start = strncmp(line, "sleep", 5) == 0;
		DBusMessage *signal = dbus_message_new_signal(
		    "/org/freedesktop/login1", "org.freedesktop.login1.Manager", "PrepareForSleep");

		if (signal == NULL ||
		    !dbus_message_append_args(signal, DBUS_TYPE_BOOLEAN, &start,
		                              DBUS_TYPE_INVALID) ||
		    !dbus_connection_send(conn, signal, NULL)) {
			return 1;
		}
		dbus_connection_flush(conn);
		dbus_message_unref(signal);
		printf("sent\n");
		fflush(stdout);
	}
	return 0;
}
