/* SPDX-License-Identifier: MIT */
/*
 * data/org.imapwatch.Daemon1.xml is a public contract: programs and the
 * daemon's own bus code are written against it. This test parses it the way
 * GDBus does and checks that it declares exactly the agreed members with the
 * agreed signatures, each with a doc comment.
 */
#include <string.h>

#include <gio/gio.h>

#define XML_PATH  SOURCE_DIR "/data/org.imapwatch.Daemon1.xml"
#define OBJECT    "/org/imapwatch/Daemon1"
#define INTERFACE "org.imapwatch.Daemon1"
#define DOCTYPE                                                                                    \
	"<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"       \
	" \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">"

/* Arguments as "direction:type:name", comma-separated. */
static const struct {
	const char *name;
	const char *args;
} methods[] = {
    {"GetStatus", "out:a{sv}:status"},
    {"ListMessages", "in:s:account,in:s:folder,in:b:unseen_only,out:aa{sv}:messages"},
    {"Check", "in:s:account"},
    {"MarkRead", "in:as:ids"},
    {"MarkAllRead", "in:s:account,in:s:folder"},
    {"Reload", ""},
    {"Pause", "in:u:seconds"},
    {"Resume", ""},
};

/* Arguments as "type:name", comma-separated. */
static const struct {
	const char *name;
	const char *args;
} signals[] = {
    {"MessagesAdded", "aa{sv}:messages"},
    {"MessagesChanged", "aa{sv}:messages"},
    {"MessagesRemoved", "aa{sv}:messages"},
    {"AccountStateChanged", "s:account,s:state,s:detail"},
    {"FolderReset", "s:account,s:folder,u:uidvalidity,u:previous_uidvalidity,u:count,u:unseen"},
    {"UnseenCountChanged", "s:account,s:folder,u:count"},
};

static const struct {
	const char *name;
	const char *type;
} properties[] = {
    {"TotalUnseen", "u"}, {"Accounts", "as"}, {"Version", "s"},
    {"PausedUntil", "x"}, {"Quiet", "as"},
};

static char *xml_load(void)
{
	g_autoptr(GError) error = NULL;
	char *xml = NULL;

	g_assert_true(g_file_get_contents(XML_PATH, &xml, NULL, &error));
	g_assert_no_error(error);
	return xml;
}

static GDBusNodeInfo *node_load(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = xml_load();
	GDBusNodeInfo *node = g_dbus_node_info_new_for_xml(xml, &error);

	g_assert_no_error(error);
	g_assert_nonnull(node);
	return node;
}

static void args_append(GString *out, const char *direction, GDBusArgInfo **args)
{
	for (; args && *args; args++) {
		if (out->len > 0) {
			g_string_append_c(out, ',');
		}
		if (direction) {
			g_string_append_printf(out, "%s:", direction);
		}
		g_string_append_printf(out, "%s:%s", (*args)->signature, (*args)->name);
	}
}

static unsigned int count(void **array)
{
	unsigned int n = 0;

	while (array && array[n]) {
		n++;
	}
	return n;
}

static void test_node(void)
{
	g_autoptr(GDBusNodeInfo) node = node_load();

	g_assert_cmpstr(node->path, ==, OBJECT);
	g_assert_cmpuint(count((void **)node->interfaces), ==, 1);
	g_assert_cmpuint(count((void **)node->nodes), ==, 0);
	g_assert_nonnull(g_dbus_node_info_lookup_interface(node, INTERFACE));
}

static void test_methods(void)
{
	g_autoptr(GDBusNodeInfo) node = node_load();
	GDBusInterfaceInfo *iface = g_dbus_node_info_lookup_interface(node, INTERFACE);
	gsize i;

	g_assert_nonnull(iface);
	g_assert_cmpuint(count((void **)iface->methods), ==, G_N_ELEMENTS(methods));
	for (i = 0; i < G_N_ELEMENTS(methods); i++) {
		GDBusMethodInfo *m = g_dbus_interface_info_lookup_method(iface, methods[i].name);
		g_autoptr(GString) args = g_string_new(NULL);

		g_assert_nonnull(m);
		args_append(args, "in", m->in_args);
		args_append(args, "out", m->out_args);
		g_assert_cmpstr(args->str, ==, methods[i].args);
	}
}

static void test_signals(void)
{
	g_autoptr(GDBusNodeInfo) node = node_load();
	GDBusInterfaceInfo *iface = g_dbus_node_info_lookup_interface(node, INTERFACE);
	gsize i;

	g_assert_nonnull(iface);
	g_assert_cmpuint(count((void **)iface->signals), ==, G_N_ELEMENTS(signals));
	for (i = 0; i < G_N_ELEMENTS(signals); i++) {
		GDBusSignalInfo *s = g_dbus_interface_info_lookup_signal(iface, signals[i].name);
		g_autoptr(GString) args = g_string_new(NULL);

		g_assert_nonnull(s);
		args_append(args, NULL, s->args);
		g_assert_cmpstr(args->str, ==, signals[i].args);
	}
}

static void test_properties(void)
{
	g_autoptr(GDBusNodeInfo) node = node_load();
	GDBusInterfaceInfo *iface = g_dbus_node_info_lookup_interface(node, INTERFACE);
	gsize i;

	g_assert_nonnull(iface);
	g_assert_cmpuint(count((void **)iface->properties), ==, G_N_ELEMENTS(properties));
	for (i = 0; i < G_N_ELEMENTS(properties); i++) {
		GDBusPropertyInfo *p =
		    g_dbus_interface_info_lookup_property(iface, properties[i].name);

		g_assert_nonnull(p);
		g_assert_cmpstr(p->signature, ==, properties[i].type);
		g_assert_cmpint(p->flags, ==, G_DBUS_PROPERTY_INFO_FLAGS_READABLE);
		g_assert_cmpuint(count((void **)p->annotations), ==, 1);
		g_assert_cmpstr(
		    g_dbus_annotation_info_lookup(
		        p->annotations, "org.freedesktop.DBus.Property.EmitsChangedSignal"),
		    ==, "true");
	}
}

/* GDBus drops comments and the DOCTYPE, so a second pass with GMarkup sees
 * them: the standard DOCTYPE, and a comment right before every member. */
struct doc_check {
	gboolean doctype;
	gboolean comment_pending;
	unsigned int members;
	GString *undocumented;
};

static void on_start_element(GMarkupParseContext *context, const char *element, const char **names,
                             const char **values, void *data, GError **error)
{
	struct doc_check *c = data;

	(void)context;
	(void)error;
	if (!strcmp(element, "method") || !strcmp(element, "signal") ||
	    !strcmp(element, "property")) {
		const char *name = NULL;

		for (; *names; names++, values++) {
			if (!strcmp(*names, "name")) {
				name = *values;
			}
		}
		c->members++;
		if (!c->comment_pending) {
			g_string_append_printf(c->undocumented, " %s", name);
		}
	}
	c->comment_pending = FALSE;
}

static void on_passthrough(GMarkupParseContext *context, const char *text, gsize len, void *data,
                           GError **error)
{
	struct doc_check *c = data;
	g_autofree char *s = g_strndup(text, len);

	(void)context;
	(void)error;
	if (g_str_has_prefix(s, "<!--")) {
		c->comment_pending = TRUE;
	} else if (g_str_has_prefix(s, "<!DOCTYPE")) {
		g_assert_cmpstr(s, ==, DOCTYPE);
		c->doctype = TRUE;
	}
}

static void test_doc_comments(void)
{
	static const GMarkupParser parser = {
	    .start_element = on_start_element,
	    .passthrough = on_passthrough,
	};
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = xml_load();
	struct doc_check c = {0};
	GMarkupParseContext *context;

	c.undocumented = g_string_new(NULL);
	context = g_markup_parse_context_new(&parser, 0, &c, NULL);
	g_assert_true(g_markup_parse_context_parse(context, xml, -1, &error));
	g_assert_no_error(error);
	g_assert_true(g_markup_parse_context_end_parse(context, &error));
	g_assert_no_error(error);
	g_markup_parse_context_free(context);

	g_assert_true(c.doctype);
	g_assert_cmpuint(c.members, ==,
	                 G_N_ELEMENTS(methods) + G_N_ELEMENTS(signals) + G_N_ELEMENTS(properties));
	g_assert_cmpstr(c.undocumented->str, ==, "");
	g_string_free(c.undocumented, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dbus-xml/node", test_node);
	g_test_add_func("/dbus-xml/methods", test_methods);
	g_test_add_func("/dbus-xml/signals", test_signals);
	g_test_add_func("/dbus-xml/properties", test_properties);
	g_test_add_func("/dbus-xml/doc-comments", test_doc_comments);
	return g_test_run();
}
