/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for NetworkManager on a private system bus, for the network
 * tests. GIO's network monitor uses NetworkManager when it owns its name and
 * reads the State and Connectivity properties of
 * /org/freedesktop/NetworkManager, following PropertiesChanged.
 *
 * Owns org.freedesktop.NetworkManager, prints "ready" once it does, then for
 * each line "state N" on stdin (N an NMState: 20 disconnected, 40
 * connecting, 70 connected globally) sets State, emits PropertiesChanged and
 * prints "sent". Exits on end of input.
 */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#define NM_PATH  "/org/freedesktop/NetworkManager"
#define NM_IFACE "org.freedesktop.NetworkManager"

enum { NM_STATE_CONNECTED_GLOBAL = 70, NM_CONNECTIVITY_FULL = 4, NM_CONNECTIVITY_NONE = 1 };

static const char introspection[] = "<node><interface name='" NM_IFACE "'>"
                                    "<property name='State' type='u' access='read'/>"
                                    "<property name='Connectivity' type='u' access='read'/>"
                                    "<property name='Metered' type='u' access='read'/>"
                                    "</interface></node>";

struct fake {
	GDBusConnection *bus;
	GMainLoop *loop;
	guint32 state;
};

static guint32 connectivity(const struct fake *f)
{
	return f->state >= NM_STATE_CONNECTED_GLOBAL ? NM_CONNECTIVITY_FULL : NM_CONNECTIVITY_NONE;
}

static GVariant *get_property(GDBusConnection *bus, const char *sender, const char *path,
                              const char *iface, const char *name, GError **error,
                              gpointer user_data)
{
	const struct fake *f = user_data;

	(void)bus, (void)sender, (void)path, (void)iface, (void)error;
	if (g_str_equal(name, "State")) {
		return g_variant_new_uint32(f->state);
	}
	if (g_str_equal(name, "Connectivity")) {
		return g_variant_new_uint32(connectivity(f));
	}
	return g_variant_new_uint32(4); /* Metered: guess-no */
}

static void set_state(struct fake *f, guint32 state)
{
	GVariantBuilder changed;

	f->state = state;
	g_variant_builder_init(&changed, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&changed, "{sv}", "State", g_variant_new_uint32(state));
	g_variant_builder_add(&changed, "{sv}", "Connectivity",
	                      g_variant_new_uint32(connectivity(f)));
	g_dbus_connection_emit_signal(f->bus, NULL, NM_PATH, "org.freedesktop.DBus.Properties",
	                              "PropertiesChanged",
	                              g_variant_new("(sa{sv}as)", NM_IFACE, &changed, NULL), NULL);
	g_dbus_connection_flush_sync(f->bus, NULL, NULL);
}

static gboolean on_stdin(GIOChannel *in, GIOCondition cond, gpointer user_data)
{
	struct fake *f = user_data;
	g_autofree char *line = NULL;
	unsigned state;

	(void)cond;
	if (g_io_channel_read_line(in, &line, NULL, NULL, NULL) != G_IO_STATUS_NORMAL) {
		g_main_loop_quit(f->loop);
		return G_SOURCE_REMOVE;
	}
	if (sscanf(line, "state %u", &state) != 1) {
		fprintf(stderr, "fake-nm: unknown command: %s", line);
		exit(1);
	}
	set_state(f, state);
	printf("sent\n");
	fflush(stdout);
	return G_SOURCE_CONTINUE;
}

static void name_acquired(GDBusConnection *bus, const char *name, gpointer user_data)
{
	(void)bus, (void)name, (void)user_data;
	printf("ready\n");
	fflush(stdout);
}

static void name_lost(GDBusConnection *bus, const char *name, gpointer user_data)
{
	(void)bus, (void)user_data;
	fprintf(stderr, "fake-nm: cannot own %s\n", name);
	exit(1);
}

int main(void)
{
	static const GDBusInterfaceVTable vtable = {.get_property = get_property};
	struct fake f = {.state = NM_STATE_CONNECTED_GLOBAL, .loop = g_main_loop_new(NULL, FALSE)};
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(introspection, &error);

	f.bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (f.bus == NULL) {
		fprintf(stderr, "fake-nm: %s\n", error->message);
		return 1;
	}
	if (g_dbus_connection_register_object(f.bus, NM_PATH, node->interfaces[0], &vtable, &f,
	                                      NULL, &error) == 0) {
		fprintf(stderr, "fake-nm: %s\n", error->message);
		return 1;
	}
	g_bus_own_name_on_connection(f.bus, NM_IFACE, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
	                             name_acquired, name_lost, NULL, NULL);

	GIOChannel *in = g_io_channel_unix_new(0);
	g_io_add_watch(in, G_IO_IN | G_IO_HUP, on_stdin, &f);
	g_main_loop_run(f.loop);
	g_io_channel_unref(in);
	g_main_loop_unref(f.loop);
	g_object_unref(f.bus);
	return 0;
}
