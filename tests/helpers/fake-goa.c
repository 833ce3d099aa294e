/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for GNOME Online Accounts (goa-daemon) on a private session
 * bus, for the goa_account tests. It speaks goa-daemon's real D-Bus API
 * with one mail account:
 *
 *   /org/gnome/OnlineAccounts                   org.freedesktop.DBus.ObjectManager
 *   /org/gnome/OnlineAccounts/Accounts/account_1
 *       org.gnome.OnlineAccounts.Account        EnsureCredentials() -> (i expires_in)
 *       org.gnome.OnlineAccounts.Mail           ImapHost, ImapUserName, ImapUseSsl...
 *       org.gnome.OnlineAccounts.OAuth2Based    GetAccessToken() -> (s token, i expires_in)
 *    or org.gnome.OnlineAccounts.PasswordBased  GetPassword(s id) -> (s password)
 *
 *   imapwatch-test-fake-goa --identity ID --host HOST[:PORT] [--email E]
 *       [--user U] [--ssl | --starttls] [--provider TYPE] [--name NAME]
 *       (--token-command CMD [--expires-in N] | --password PW)
 *
 * With --token-command the account is OAuth2Based: each GetAccessToken runs
 * CMD with /bin/sh -c and answers with the first line of its output (so
 * every call gets a fresh token from the test's token authority). With
 * --password it is PasswordBased and GetPassword("imap-password") answers
 * with PW.
 *
 * Owns org.gnome.OnlineAccounts on the bus of DBUS_SESSION_BUS_ADDRESS,
 * prints "ready" once it does, then one line per call, as the call
 * arrives: "GetAccessToken", "GetPassword ID" or "EnsureCredentials". Exits
 * on end of input (stdin), so it never outlives the test that started it.
 */
#include <gio/gio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOA_NAME     "org.gnome.OnlineAccounts"
#define GOA_PATH     "/org/gnome/OnlineAccounts"
#define ACCOUNT_ID   "account_1"
#define ACCOUNT_PATH GOA_PATH "/Accounts/" ACCOUNT_ID
#define GOA_FAILED   "org.freedesktop.Goa.Error.Failed"

/* The interfaces as goa-daemon declares them (data/dbus-interfaces.xml),
 * less what a mail client never reads (the other *Disabled switches, SMTP,
 * Remove). */
static const char introspection[] = "<node>"
                                    "<interface name='org.gnome.OnlineAccounts.Account'>"
                                    "<property name='ProviderType' type='s' access='read'/>"
                                    "<property name='ProviderName' type='s' access='read'/>"
                                    "<property name='Id' type='s' access='read'/>"
                                    "<property name='Identity' type='s' access='read'/>"
                                    "<property name='PresentationIdentity' type='s' access='read'/>"
                                    "<property name='MailDisabled' type='b' access='read'/>"
                                    "<property name='AttentionNeeded' type='b' access='read'/>"
                                    "<method name='EnsureCredentials'>"
                                    "<arg name='expires_in' type='i' direction='out'/>"
                                    "</method>"
                                    "</interface>"
                                    "<interface name='org.gnome.OnlineAccounts.Mail'>"
                                    "<property name='EmailAddress' type='s' access='read'/>"
                                    "<property name='Name' type='s' access='read'/>"
                                    "<property name='ImapSupported' type='b' access='read'/>"
                                    "<property name='ImapHost' type='s' access='read'/>"
                                    "<property name='ImapUserName' type='s' access='read'/>"
                                    "<property name='ImapUseSsl' type='b' access='read'/>"
                                    "<property name='ImapUseTls' type='b' access='read'/>"
                                    "<property name='ImapAcceptSslErrors' type='b' access='read'/>"
                                    "</interface>"
                                    "<interface name='org.gnome.OnlineAccounts.OAuth2Based'>"
                                    "<method name='GetAccessToken'>"
                                    "<arg name='access_token' type='s' direction='out'/>"
                                    "<arg name='expires_in' type='i' direction='out'/>"
                                    "</method>"
                                    "<property name='ClientId' type='s' access='read'/>"
                                    "<property name='ClientSecret' type='s' access='read'/>"
                                    "</interface>"
                                    "<interface name='org.gnome.OnlineAccounts.PasswordBased'>"
                                    "<method name='GetPassword'>"
                                    "<arg name='id' type='s' direction='in'/>"
                                    "<arg name='password' type='s' direction='out'/>"
                                    "</method>"
                                    "</interface>"
                                    "</node>";

struct options {
	char *identity;
	char *email;
	char *name;
	char *host;
	char *user;
	char *provider;
	char *token_command;
	char *password;
	gboolean ssl;
	gboolean starttls;
	int expires_in;
};

/*
 * One exported interface: a GDBusInterfaceSkeleton that serves fixed
 * properties and hands its method calls to method_call() below. The
 * object manager asks it for all its properties at once (get_properties)
 * for GetManagedObjects.
 */
typedef struct {
	GDBusInterfaceSkeleton parent;
	GDBusInterfaceInfo *info;
	GHashTable *properties; /* name → GVariant */
	const struct options *options;
} FakeIface;

typedef struct {
	GDBusInterfaceSkeletonClass parent_class;
} FakeIfaceClass;

static GType fake_iface_get_type(void);
G_DEFINE_TYPE(FakeIface, fake_iface, G_TYPE_DBUS_INTERFACE_SKELETON)

static void say(const char *line)
{
	printf("%s\n", line);
	fflush(stdout);
}

/* The first line of the token command's output, or an error reply. */
static void token_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GSubprocess *proc = G_SUBPROCESS(source);
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	FakeIface *self = g_object_get_data(G_OBJECT(invocation), "fake-goa-iface");
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;

	if (!g_subprocess_communicate_utf8_finish(proc, result, &out, NULL, &error)) {
		g_dbus_method_invocation_return_dbus_error(invocation, GOA_FAILED, error->message);
		return;
	}
	char *end = out != NULL ? strchr(out, '\n') : NULL;
	if (end != NULL) {
		*end = '\0';
	}
	if (!g_subprocess_get_successful(proc) || out == NULL || g_strstrip(out)[0] == '\0') {
		g_dbus_method_invocation_return_dbus_error(
		    invocation, GOA_FAILED, "the token command failed or printed no token");
		return;
	}
	g_dbus_method_invocation_return_value(
	    invocation, g_variant_new("(si)", g_strstrip(out), self->options->expires_in));
}

/* Runs the token command for one GetAccessToken call; answers when it ends. */
static void get_access_token(FakeIface *self, GDBusMethodInvocation *invocation)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) proc =
	    g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "/bin/sh", "-c",
	                     self->options->token_command, NULL);

	if (proc == NULL) {
		g_dbus_method_invocation_return_dbus_error(invocation, GOA_FAILED, error->message);
		return;
	}
	g_object_set_data(G_OBJECT(invocation), "fake-goa-iface", self);
	g_subprocess_communicate_utf8_async(proc, NULL, NULL, token_done, g_object_ref(invocation));
}

static void get_password(FakeIface *self, GVariant *params, GDBusMethodInvocation *invocation)
{
	const char *id;

	g_variant_get(params, "(&s)", &id);
	g_autofree char *line = g_strdup_printf("GetPassword %s", id);
	say(line);
	if (!g_str_equal(id, "imap-password")) {
		/* What goa-daemon says for a credential the keyring does not hold. */
		g_dbus_method_invocation_return_dbus_error(
		    invocation, GOA_FAILED, "Did not find the credential in the keyring");
		return;
	}
	g_dbus_method_invocation_return_value(invocation,
	                                      g_variant_new("(s)", self->options->password));
}

static void method_call(GDBusConnection *bus, const char *sender, const char *path,
                        const char *iface, const char *method, GVariant *params,
                        GDBusMethodInvocation *invocation, gpointer user_data)
{
	FakeIface *self = user_data;

	(void)bus, (void)sender, (void)path, (void)iface;
	if (g_str_equal(method, "GetAccessToken")) {
		say("GetAccessToken");
		get_access_token(self, invocation);
	} else if (g_str_equal(method, "GetPassword")) {
		get_password(self, params, invocation);
	} else {
		/* EnsureCredentials: valid for as long as a token is; 0 (unknown)
		 * for a password. */
		say("EnsureCredentials");
		int expires_in =
		    self->options->token_command != NULL ? self->options->expires_in : 0;
		g_dbus_method_invocation_return_value(invocation, g_variant_new("(i)", expires_in));
	}
}

static GVariant *get_property(GDBusConnection *bus, const char *sender, const char *path,
                              const char *iface, const char *name, GError **error,
                              gpointer user_data)
{
	FakeIface *self = user_data;
	GVariant *value = g_hash_table_lookup(self->properties, name);

	(void)bus, (void)sender, (void)path, (void)iface;
	if (value == NULL) {
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s",
		            name);
		return NULL;
	}
	return g_variant_ref(value);
}

static const GDBusInterfaceVTable vtable = {.method_call = method_call,
                                            .get_property = get_property};

static GDBusInterfaceInfo *fake_iface_get_info(GDBusInterfaceSkeleton *skeleton)
{
	return ((FakeIface *)skeleton)->info;
}

static GDBusInterfaceVTable *fake_iface_get_vtable(GDBusInterfaceSkeleton *skeleton)
{
	(void)skeleton;
	return (GDBusInterfaceVTable *)&vtable;
}

/* All properties in the order the interface declares them. */
static GVariant *fake_iface_get_properties(GDBusInterfaceSkeleton *skeleton)
{
	FakeIface *self = (FakeIface *)skeleton;
	GVariantBuilder all;

	g_variant_builder_init(&all, G_VARIANT_TYPE("a{sv}"));
	for (GDBusPropertyInfo **p = self->info->properties; p != NULL && *p != NULL; p++) {
		GVariant *value = g_hash_table_lookup(self->properties, (*p)->name);
		if (value != NULL) {
			g_variant_builder_add(&all, "{sv}", (*p)->name, value);
		}
	}
	return g_variant_builder_end(&all);
}

static void fake_iface_flush(GDBusInterfaceSkeleton *skeleton)
{
	/* Nothing to flush: the properties never change. */
	(void)skeleton;
}

static void fake_iface_finalize(GObject *object)
{
	FakeIface *self = (FakeIface *)object;

	g_hash_table_unref(self->properties);
	g_dbus_interface_info_unref(self->info);
	G_OBJECT_CLASS(fake_iface_parent_class)->finalize(object);
}

static void fake_iface_class_init(FakeIfaceClass *klass)
{
	GDBusInterfaceSkeletonClass *skeleton = G_DBUS_INTERFACE_SKELETON_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = fake_iface_finalize;
	skeleton->get_info = fake_iface_get_info;
	skeleton->get_vtable = fake_iface_get_vtable;
	skeleton->get_properties = fake_iface_get_properties;
	skeleton->flush = fake_iface_flush;
}

static void fake_iface_init(FakeIface *self)
{
	self->properties =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
}

/* Adds interface `name` to object; returns it (the object holds it). */
static FakeIface *add_iface(GDBusObjectSkeleton *object, GDBusNodeInfo *node, const char *name,
                            const struct options *options)
{
	FakeIface *self = g_object_new(fake_iface_get_type(), NULL);

	self->info = g_dbus_interface_info_ref(g_dbus_node_info_lookup_interface(node, name));
	self->options = options;
	g_dbus_object_skeleton_add_interface(object, G_DBUS_INTERFACE_SKELETON(self));
	g_object_unref(self);
	return self;
}

static void set_string(FakeIface *self, const char *name, const char *value)
{
	g_hash_table_insert(self->properties, g_strdup(name),
	                    g_variant_ref_sink(g_variant_new_string(value)));
}

static void set_bool(FakeIface *self, const char *name, bool value)
{
	g_hash_table_insert(self->properties, g_strdup(name),
	                    g_variant_ref_sink(g_variant_new_boolean(value)));
}

static GDBusObjectSkeleton *make_account(GDBusNodeInfo *node, const struct options *o)
{
	GDBusObjectSkeleton *object = g_dbus_object_skeleton_new(ACCOUNT_PATH);
	bool oauth = o->token_command != NULL;
	const char *email = o->email != NULL ? o->email : o->identity;
	FakeIface *i;

	i = add_iface(object, node, "org.gnome.OnlineAccounts.Account", o);
	set_string(i, "ProviderType",
	           o->provider != NULL ? o->provider
	           : oauth             ? "google"
	                               : "imap_smtp");
	set_string(i, "ProviderName", oauth ? "Google" : "IMAP and SMTP");
	set_string(i, "Id", ACCOUNT_ID);
	set_string(i, "Identity", o->identity);
	set_string(i, "PresentationIdentity", email);
	set_bool(i, "MailDisabled", false);
	set_bool(i, "AttentionNeeded", false);

	i = add_iface(object, node, "org.gnome.OnlineAccounts.Mail", o);
	set_string(i, "EmailAddress", email);
	set_string(i, "Name", o->name != NULL ? o->name : "Test User");
	set_bool(i, "ImapSupported", true);
	set_string(i, "ImapHost", o->host);
	set_string(i, "ImapUserName", o->user != NULL ? o->user : email);
	set_bool(i, "ImapUseSsl", o->ssl);
	set_bool(i, "ImapUseTls", o->starttls);
	set_bool(i, "ImapAcceptSslErrors", false);

	if (oauth) {
		i = add_iface(object, node, "org.gnome.OnlineAccounts.OAuth2Based", o);
		set_string(i, "ClientId", "imapwatch-test-client");
		set_string(i, "ClientSecret", "imapwatch-test-secret");
	} else {
		add_iface(object, node, "org.gnome.OnlineAccounts.PasswordBased", o);
	}
	return object;
}

static gboolean on_stdin(GIOChannel *in, GIOCondition cond, gpointer user_data)
{
	g_autofree char *line = NULL;

	(void)cond;
	/* Input is only watched for its end. */
	if (g_io_channel_read_line(in, &line, NULL, NULL, NULL) != G_IO_STATUS_NORMAL) {
		g_main_loop_quit(user_data);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void name_acquired(GDBusConnection *bus, const char *name, gpointer user_data)
{
	(void)bus, (void)name, (void)user_data;
	say("ready");
}

static void name_lost(GDBusConnection *bus, const char *name, gpointer user_data)
{
	(void)bus, (void)user_data;
	fprintf(stderr, "fake-goa: cannot own %s\n", name);
	exit(1);
}

static void free_options(struct options *o)
{
	g_free(o->identity);
	g_free(o->email);
	g_free(o->name);
	g_free(o->host);
	g_free(o->user);
	g_free(o->provider);
	g_free(o->token_command);
	g_free(o->password);
}

static bool parse_options(int *argc, char ***argv, struct options *o)
{
	GOptionEntry entries[] = {
	    {"identity", 0, 0, G_OPTION_ARG_STRING, &o->identity, "Account Identity", "ID"},
	    {"email", 0, 0, G_OPTION_ARG_STRING, &o->email, "EmailAddress (default: the identity)",
	     "ADDRESS"},
	    {"name", 0, 0, G_OPTION_ARG_STRING, &o->name, "The user's full name", "NAME"},
	    {"host", 0, 0, G_OPTION_ARG_STRING, &o->host, "ImapHost", "HOST[:PORT]"},
	    {"user", 0, 0, G_OPTION_ARG_STRING, &o->user, "ImapUserName (default: the email)",
	     "USER"},
	    {"ssl", 0, 0, G_OPTION_ARG_NONE, &o->ssl, "ImapUseSsl: implicit TLS", NULL},
	    {"starttls", 0, 0, G_OPTION_ARG_NONE, &o->starttls, "ImapUseTls: STARTTLS", NULL},
	    {"provider", 0, 0, G_OPTION_ARG_STRING, &o->provider,
	     "ProviderType (default: google or imap_smtp)", "TYPE"},
	    {"token-command", 0, 0, G_OPTION_ARG_STRING, &o->token_command,
	     "OAuth2Based: GetAccessToken runs CMD and answers its first line", "CMD"},
	    {"expires-in", 0, 0, G_OPTION_ARG_INT, &o->expires_in,
	     "expires_in of each token (default 3600)", "SECONDS"},
	    {"password", 0, 0, G_OPTION_ARG_STRING, &o->password,
	     "PasswordBased: the imap-password", "PASSWORD"},
	    G_OPTION_ENTRY_NULL};
	g_autoptr(GOptionContext) context = g_option_context_new("- a fake goa-daemon");
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, argc, argv, &error)) {
		fprintf(stderr, "fake-goa: %s\n", error->message);
		return false;
	}
	if (o->identity == NULL || o->host == NULL) {
		fprintf(stderr, "fake-goa: --identity and --host are required\n");
		return false;
	}
	if ((o->token_command == NULL) == (o->password == NULL)) {
		fprintf(stderr, "fake-goa: give one of --token-command and --password\n");
		return false;
	}
	if (o->ssl && o->starttls) {
		fprintf(stderr, "fake-goa: --ssl and --starttls exclude each other\n");
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct options o = {.expires_in = 3600};
	g_autoptr(GError) error = NULL;

	if (!parse_options(&argc, &argv, &o)) {
		free_options(&o);
		return 2;
	}
	g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(introspection, &error);
	g_assert_no_error(error);
	g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
	if (bus == NULL) {
		fprintf(stderr, "fake-goa: %s\n", error->message);
		free_options(&o);
		return 1;
	}

	/* The account is on the bus before the name is: whoever sees the name
	 * finds it. */
	g_autoptr(GDBusObjectManagerServer) manager = g_dbus_object_manager_server_new(GOA_PATH);
	g_autoptr(GDBusObjectSkeleton) account = make_account(node, &o);
	g_dbus_object_manager_server_export(manager, account);
	g_dbus_object_manager_server_set_connection(manager, bus);
	guint owner =
	    g_bus_own_name_on_connection(bus, GOA_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
	                                 name_acquired, name_lost, NULL, NULL);

	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	GIOChannel *in = g_io_channel_unix_new(0);
	g_io_add_watch(in, G_IO_IN | G_IO_HUP, on_stdin, loop);
	g_main_loop_run(loop);
	g_io_channel_unref(in);
	g_main_loop_unref(loop);
	g_bus_unown_name(owner);
	free_options(&o);
	return 0;
}
