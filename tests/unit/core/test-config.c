/* SPDX-License-Identifier: MIT */
/*
 * Reading the config: a full file and the defaults, syntax, describe,
 * durations, files on disk, open_command and names. The error messages of
 * bad configs are tested in test-config-errors.c.
 */
#include "config-harness.h"

#include <string.h>

#include <glib/gstdio.h>

/* HOME is pointed here so that "~/config/ca.pem" is the fixture file. */
#define CA_FILE TEST_DATA_DIR "/config/ca.pem"

static const char full_config[] = "# imapwatch config\n"
                                  "[daemon]\n"
                                  "notifications = false\n"
                                  "startup = each\n"
                                  "idle_refresh = 20m\n"
                                  "password_timeout = 1m30s\n"
                                  "notify_max = 5\n"
                                  "notification_sound = false\n"
                                  "notification_content = sender\n"
                                  "poll_interval = 5m\n"
                                  "\n"
                                  "[account work]\n"
                                  "  host = imap.example.com  \n"
                                  "username = me@example.com\n"
                                  "password_command = pass show mail/work; true\n"
                                  "folders = inbox; Lists/dev ;Semi\\;colon;\n"
                                  "tls_ca_file = ~/config/ca.pem\n"
                                  "idle_refresh = 5m\n"
                                  "poll_interval = 30s\n"
                                  "max_connections = 15\n"
                                  "notify_folders = Lists/dev; inbox\n"
                                  "open_command = thunderbird -mail 'mid:%m' --x=%%%u\n"
                                  "\n"
                                  "[account home]\n"
                                  "host = mail.example.org\n"
                                  "security = starttls\n"
                                  "username = me\n"
                                  "password = hunter2\n"
                                  "auth = xoauth2\n"
                                  "notify = false\n"
                                  "\n"
                                  "[account lab]\n"
                                  "host = 192.0.2.1\n"
                                  "security = none\n"
                                  "allow_plaintext = true\n"
                                  "port = 1143\n"
                                  "username = test\n"
                                  "password = \\sp\\\\w\\tx\\s\n";

static void test_config_full(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = load(full_config, &error);
	const struct config_account *a;

	g_assert_no_error(error);
	g_assert_nonnull(cfg);
	g_assert_cmpstr(cfg->path, ==, "test.conf");
	g_assert_false(cfg->notifications);
	g_assert_cmpint(cfg->startup, ==, CONFIG_STARTUP_EACH);
	g_assert_cmpuint(cfg->idle_refresh, ==, 20 * 60);
	g_assert_cmpuint(cfg->password_timeout, ==, 90);
	g_assert_cmpuint(cfg->accounts->len, ==, 3);

	a = cfg->accounts->pdata[0];
	g_assert_cmpstr(a->name, ==, "work");
	g_assert_cmpstr(a->host, ==, "imap.example.com");
	g_assert_cmpuint(a->port, ==, 993);
	g_assert_cmpint(a->security, ==, CONFIG_SECURITY_TLS);
	g_assert_false(a->allow_plaintext);
	g_assert_cmpstr(a->username, ==, "me@example.com");
	g_assert_null(a->password);
	/* ';' is a list separator only in lists. */
	g_assert_cmpstr(a->password_command, ==, "pass show mail/work; true");
	g_assert_cmpint(a->auth, ==, CONFIG_AUTH_AUTO);
	g_assert_cmpuint(g_strv_length(a->folders), ==, 3);
	g_assert_cmpstr(a->folders[0], ==, "INBOX");
	g_assert_cmpstr(a->folders[1], ==, "Lists/dev");
	g_assert_cmpstr(a->folders[2], ==, "Semi;colon");
	g_assert_cmpstr(a->tls_ca_file, ==, CA_FILE);
	g_assert_cmpuint(a->idle_refresh, ==, 300);
	g_assert_true(a->notify);
	g_assert_cmpuint(g_strv_length(a->notify_folders), ==, 2);
	g_assert_cmpstr(a->notify_folders[1], ==, "INBOX");
	g_assert_cmpstr(a->open_command, ==, "thunderbird -mail 'mid:%m' --x=%%%u");
	g_assert_true(config_account_notifies(a, "INBOX"));
	g_assert_true(config_account_notifies(a, "Lists/dev"));
	g_assert_false(config_account_notifies(a, "Semi;colon"));
	g_assert_cmpuint(cfg->notify_max, ==, 5);
	g_assert_false(cfg->notification_sound);
	g_assert_cmpint(cfg->notification_content, ==, CONFIG_CONTENT_SENDER);

	a = cfg->accounts->pdata[1];
	g_assert_cmpstr(a->name, ==, "home");
	g_assert_cmpint(a->security, ==, CONFIG_SECURITY_STARTTLS);
	g_assert_cmpuint(a->port, ==, 143);
	g_assert_cmpstr(a->password, ==, "hunter2");
	g_assert_null(a->password_command);
	g_assert_cmpint(a->auth, ==, CONFIG_AUTH_XOAUTH2);
	g_assert_cmpstr(a->folders[0], ==, "INBOX");
	g_assert_null(a->folders[1]);
	g_assert_null(a->tls_ca_file);
	g_assert_cmpuint(a->idle_refresh, ==, 20 * 60);

	a = cfg->accounts->pdata[2];
	g_assert_cmpstr(a->name, ==, "lab");
	g_assert_cmpint(a->security, ==, CONFIG_SECURITY_NONE);
	g_assert_true(a->allow_plaintext);
	g_assert_cmpuint(a->port, ==, 1143);
	/* Escapes resolved after trimming: \s keeps edge spaces. */
	g_assert_cmpstr(a->password, ==, " p\\w\tx ");

	g_assert_true(config_find_account(cfg, "home") == cfg->accounts->pdata[1]);
	g_assert_null(config_find_account(cfg, "nope"));
}

static void test_config_defaults(void)
{
	static const struct {
		const char *security; /* NULL: key left out */
		enum config_security expect;
		guint port;
	} cases[] = {
	    {NULL, CONFIG_SECURITY_TLS, 993},
	    {"tls", CONFIG_SECURITY_TLS, 993},
	    {"starttls", CONFIG_SECURITY_STARTTLS, 143},
	    {"none", CONFIG_SECURITY_NONE, 143},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *text = NULL;
		g_autoptr(config) cfg = NULL;
		const struct config_account *a;

		text = g_strdup_printf("[account a]\nhost = h\nusername = u\npassword = p\n"
		                       "allow_plaintext = true\n%s%s\n",
		                       cases[i].security ? "security = " : "",
		                       cases[i].security ? cases[i].security : "");
		cfg = load(text, &error);
		g_assert_no_error(error);
		g_assert_true(cfg->notifications);
		g_assert_cmpint(cfg->startup, ==, CONFIG_STARTUP_SUMMARY);
		g_assert_cmpuint(cfg->idle_refresh, ==, 540);
		g_assert_cmpuint(cfg->password_timeout, ==, 30);
		a = cfg->accounts->pdata[0];
		g_assert_cmpint(a->security, ==, cases[i].expect);
		g_assert_cmpuint(a->port, ==, cases[i].port);
		g_assert_cmpint(a->auth, ==, CONFIG_AUTH_AUTO);
		g_assert_cmpstr(a->folders[0], ==, "INBOX");
		g_assert_null(a->folders[1]);
		g_assert_null(a->tls_ca_file);
		g_assert_cmpuint(a->idle_refresh, ==, 540);
		g_assert_cmpuint(cfg->notify_max, ==, 3);
		g_assert_true(cfg->notification_sound);
		g_assert_cmpint(cfg->notification_content, ==, CONFIG_CONTENT_FULL);
		g_assert_true(a->notify);
		g_assert_null(a->notify_folders);
		g_assert_null(a->open_command);
		g_assert_true(config_account_notifies(a, "INBOX"));
	}
}

static void test_config_syntax(void)
{
	/* GKeyFile details: leading whitespace, CRLF, BOM, '#' after spaces,
	 * [daemon] after the accounts still sets their idle_refresh, one
	 * trailing ';' in a list, "1" and "0" as booleans. */
	static const char text[] = "\xef\xbb\xbf"
	                           "   # indented comment\r\n"
	                           "[account a]\r\n"
	                           "host=h\r\n"
	                           "username =u\r\n"
	                           "password= p\r\n"
	                           "folders = Archive;\r\n"
	                           "allow_plaintext = 1\r\n"
	                           "[daemon]\r\n"
	                           "notifications = 0\r\n"
	                           "idle_refresh = 2m\r\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = load(text, &error);
	const struct config_account *a;

	g_assert_no_error(error);
	a = cfg->accounts->pdata[0];
	g_assert_cmpstr(a->host, ==, "h");
	g_assert_cmpstr(a->username, ==, "u");
	g_assert_cmpstr(a->password, ==, "p");
	g_assert_cmpstr(a->folders[0], ==, "Archive");
	g_assert_null(a->folders[1]);
	g_assert_true(a->allow_plaintext);
	g_assert_false(cfg->notifications);
	g_assert_cmpuint(a->idle_refresh, ==, 120);
}

static void test_config_describe(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = load(full_config, &error);
	g_autofree char *text = NULL;
	g_autofree char *expect = NULL;

	g_assert_no_error(error);
	text = config_describe(cfg);
	expect = g_strdup_printf("config file: test.conf\n"
	                         "\n"
	                         "[daemon]\n"
	                         "  notifications: false\n"
	                         "  startup: each\n"
	                         "  idle_refresh: 20m\n"
	                         "  poll_interval: 5m\n"
	                         "  password_timeout: 1m30s\n"
	                         "  notify_max: 5\n"
	                         "  notification_sound: false\n"
	                         "  notification_content: sender\n"
	                         "  mailnag_compat: false\n"
	                         "  quiet_hours: (not set)\n"
	                         "  hook_delay: 2s\n"
	                         "  hook_max_delay: 30s\n"
	                         "  hook_timeout: 5m\n"
	                         "\n"
	                         "[account work]\n"
	                         "  enabled: true\n"
	                         "  host: imap.example.com\n"
	                         "  port: 993\n"
	                         "  security: tls\n"
	                         "  username: me@example.com\n"
	                         "  auth: auto\n"
	                         "  folders: INBOX; Lists/dev; Semi\\;colon\n"
	                         "  tls_ca_file: %s\n"
	                         "  tls_fingerprint: (not set; chain and host name verified)\n"
	                         "  idle_refresh: 5m\n"
	                         "  poll_interval: 30s\n"
	                         "  max_connections: 15\n"
	                         "  notify: true\n"
	                         "  notify_folders: Lists/dev; INBOX\n"
	                         "  open_command: thunderbird -mail 'mid:%%m' --x=%%%%%%u\n"
	                         "  password: from command: pass show mail/work; true\n"
	                         "\n"
	                         "[account home]\n"
	                         "  enabled: true\n"
	                         "  host: mail.example.org\n"
	                         "  port: 143\n"
	                         "  security: starttls\n"
	                         "  username: me\n"
	                         "  auth: xoauth2\n"
	                         "  folders: INBOX\n"
	                         "  tls_ca_file: (not set; system trust store only)\n"
	                         "  tls_fingerprint: (not set; chain and host name verified)\n"
	                         "  idle_refresh: 20m\n"
	                         "  poll_interval: 5m\n"
	                         "  max_connections: 3\n"
	                         "  notify: false\n"
	                         "  notify_folders: (not set; every watched folder)\n"
	                         "  open_command: (not set; the default mail client)\n"
	                         "  password: (set in config file)\n"
	                         "\n"
	                         "[account lab]\n"
	                         "  enabled: true\n"
	                         "  host: 192.0.2.1\n"
	                         "  port: 1143\n"
	                         "  security: none (plaintext allowed by allow_plaintext)\n"
	                         "  username: test\n"
	                         "  auth: auto\n"
	                         "  folders: INBOX\n"
	                         "  tls_ca_file: (not set; system trust store only)\n"
	                         "  tls_fingerprint: (not set)\n"
	                         "  idle_refresh: 20m\n"
	                         "  poll_interval: 5m\n"
	                         "  max_connections: 3\n"
	                         "  notify: true\n"
	                         "  notify_folders: (not set; every watched folder)\n"
	                         "  open_command: (not set; the default mail client)\n"
	                         "  password: (set in config file)\n",
	                         CA_FILE);
	g_assert_cmpstr(text, ==, expect);
	g_assert_null(strstr(text, "hunter2"));
	g_assert_null(strstr(text, "p\\w"));
}

static void test_config_durations(void)
{
	static const struct {
		const char *text;
		guint seconds;
	} good[] = {
	    {"30s", 30},
	    {"9m", 540},
	    {"1h", 3600},
	    {"1h30m", 5400},
	    {"1m30s", 90},
	    {"0s", 0},
	    {"2h5m7s", 7507},
	    {"1h7s", 3607},
	    {"90m", 5400},
	    {"007s", 7},
	    {"4294967295s", G_MAXUINT},
	};
	static const char *const bad[] = {
	    "",     "540", "9",    "m",    "9M",          "9 m",      " 9m", "30m1h",
	    "1h1h", "-5m", "1.5h", "9min", "4294967296s", "1193047h", "h1",  "1hm",
	};
	static const struct {
		guint seconds;
		const char *text;
	} format[] = {
	    {0, "0s"},    {30, "30s"},    {60, "1m"},      {90, "1m30s"},  {540, "9m"},
	    {3600, "1h"}, {3601, "1h1s"}, {5400, "1h30m"}, {86400, "24h"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
		guint seconds = 12345;

		g_assert_true(config_parse_duration(good[i].text, &seconds));
		g_assert_cmpuint(seconds, ==, good[i].seconds);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		guint seconds = 12345;

		g_test_message("bad duration '%s'", bad[i]);
		g_assert_false(config_parse_duration(bad[i], &seconds));
		/* Untouched on failure. */
		g_assert_cmpuint(seconds, ==, 12345);
	}
	g_assert_false(config_parse_duration(NULL, NULL));
	for (gsize i = 0; i < G_N_ELEMENTS(format); i++) {
		g_autofree char *text = config_format_duration(format[i].seconds);
		guint back = 0;

		g_assert_cmpstr(text, ==, format[i].text);
		g_assert_true(config_parse_duration(text, &back));
		g_assert_cmpuint(back, ==, format[i].seconds);
	}
}

static void test_config_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("imapwatch-test-config-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "config", NULL);
	g_autofree char *missing = g_build_filename(dir, "missing", NULL);
	g_autofree char *expect = NULL;
	g_autoptr(config) cfg = NULL;

	g_assert_true(g_file_set_contents(path, "[account a]\nhost = h\nusername = u\n", -1, NULL));
	cfg = config_load_file(path, &error);
	g_assert_null(cfg);
	expect = g_strdup_printf("%s:1: [account a]: none of password, password_command and "
	                         "password_secret is set; add one of them (password_command or "
	                         "password_secret keeps the password out of this file)",
	                         path);
	g_assert_cmpstr(error->message, ==, expect);
	g_clear_error(&error);

	g_assert_true(g_file_set_contents(path, full_config, -1, NULL));
	cfg = config_load_file(path, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(cfg->path, ==, path);
	g_assert_cmpuint(cfg->accounts->len, ==, 3);

	g_assert_null(config_load_file(missing, &error));
	g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_IO);
	g_free(expect);
	expect =
	    g_strdup_printf("%s: cannot open: No such file or directory; to start one, copy the "
	                    "example %s/config.example to this path and edit it (man 5 "
	                    "imapwatch.conf)",
	                    missing, IMAPWATCH_DOCDIR);
	g_assert_cmpstr(error->message, ==, expect);
	g_clear_error(&error);

	g_assert_null(config_load_file(dir, &error));
	g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_IO);
	g_clear_error(&error);

	g_unlink(path);
	g_rmdir(dir);
}

static void test_config_open_command(void)
{
	static const struct {
		const char *command;
		const char *expect; /* words joined with '|' */
	} cases[] = {
	    {"mutt -f %f", "mutt|-f|Lists/a b"},
	    /* A value never becomes two words and never meets a shell. */
	    {"sh -c 'echo $1' sh %m", "sh|-c|echo $1|sh|<x y>; rm -rf ~"},
	    {"open '%a:%f/%u' 100%%", "open|work:Lists/a b/42|100%"},
	    {"x --uid=%u%%u", "x|--uid=42%u"},
	    {"\"two words\" %a%a", "two words|workwork"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_auto(GStrv) argv = config_expand_open_command(
		    cases[i].command, "work", "Lists/a b", 42, "<x y>; rm -rf ~", &error);
		g_autofree char *joined = NULL;

		g_assert_no_error(error);
		joined = g_strjoinv("|", argv);
		g_assert_cmpstr(joined, ==, cases[i].expect);
	}

	/* No UID and no Message-ID give empty strings, never "(null)". */
	g_auto(GStrv) argv = config_expand_open_command("x %u %m", "a", "f", 0, NULL, NULL);
	g_assert_cmpstr(argv[1], ==, "");
	g_assert_cmpstr(argv[2], ==, "");
	g_assert_null(argv[3]);
}

static void test_config_names(void)
{
	g_autofree char *path = config_default_path();

	g_assert_true(g_str_has_suffix(path, "/imapwatch/config"));
	g_assert_cmpstr(config_security_name(CONFIG_SECURITY_STARTTLS), ==, "starttls");
	g_assert_cmpstr(config_security_name((enum config_security)42), ==, "unknown");
	g_assert_cmpstr(config_auth_name(CONFIG_AUTH_OAUTHBEARER), ==, "oauthbearer");
	g_assert_cmpstr(config_auth_name((enum config_auth)42), ==, "unknown");
	config_free(NULL);
}

/* tls_fingerprint: read with or without colons, in any case, and shown by
 * --check-config as openssl prints it. */
static void test_config_tls_fingerprint(void)
{
	static const char text[] =
	    "[account a]\nhost = h\nusername = u\npassword = p\n"
	    "security = starttls\n"
	    "tls_fingerprint = "
	    "sha256:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = config_load_data(text, sizeof(text) - 1, "t.conf", &error);

	g_assert_no_error(error);
	const struct config_account *a = cfg->accounts->pdata[0];
	g_assert_true(a->has_tls_fingerprint);
	g_assert_cmpuint(a->tls_fingerprint[0], ==, 0x00);
	g_assert_cmpuint(a->tls_fingerprint[31], ==, 0x1f);
	g_autofree char *described = config_describe(cfg);
	g_assert_nonnull(strstr(described,
	                        "  tls_fingerprint: sha256:00:01:02:03:04:05:06:07:08:09:0A:0B:0C:"
	                        "0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F (only "
	                        "this certificate; chain and host name not checked)\n"));
}

/* password_secret: trimmed attr=value pairs, a trailing ';' allowed; shown
 * by --check-config, compared on reload. */
static void test_config_password_secret(void)
{
	static const char text[] = "[account a]\nhost = h\nusername = u\n"
	                           "password_secret = service = imap ; user=me@example.com;\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = config_load_data(text, sizeof(text) - 1, "t.conf", &error);
	g_autoptr(config) other = NULL;

	g_assert_no_error(error);
	const struct config_account *a = cfg->accounts->pdata[0];
	g_assert_cmpuint(g_strv_length(a->password_secret), ==, 4);
	g_assert_cmpstr(a->password_secret[0], ==, "service");
	g_assert_cmpstr(a->password_secret[1], ==, "imap");
	g_assert_cmpstr(a->password_secret[2], ==, "user");
	g_assert_cmpstr(a->password_secret[3], ==, "me@example.com");
	g_assert_null(a->password);
	g_assert_null(a->password_command);
	g_autofree char *described = config_describe(cfg);
	g_assert_nonnull(strstr(described, "password: from the Secret Service: service=imap; "
	                                   "user=me@example.com\n"));
	g_assert_true(config_account_equal(a, a));
	other = config_load_data("[account a]\nhost = h\nusername = u\npassword_secret = "
	                         "service=imap;user=you\n",
	                         74, "t.conf", &error);
	g_assert_no_error(error);
	g_assert_false(config_account_equal(a, other->accounts->pdata[0]));
}

/* LIST semantics for folders and notify_folders: '*' crosses the
 * separator, '%' does not; INBOX in any case. */
static void test_config_folder_patterns(void)
{
	static const struct {
		const char *entry;
		const char *folder;
		bool match;
	} cases[] = {
	    {"INBOX", "inbox", true},
	    {"Inbox", "INBOX", true},
	    {"Work", "work", false},
	    {"*", "Lists/a/b", true},
	    {"%", "Lists", true},
	    {"%", "Lists/a", false},
	    {"Lists/*", "Lists/a/b", true},
	    {"Lists/%", "Lists/a", true},
	    {"Lists/%", "Lists/a/b", false},
	    {"Lists/*", "Lists", false},
	    {"*/dev", "Lists/x/dev", true},
	    {"%/dev", "Lists/x/dev", false},
	    {"L*x*s", "Lists", false},
	    {"L*t*s", "Lists", true},
	    {"", "", true},
	    {"**%*", "", true},
	    {"a%", "a/", false},
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		if (config_folder_matches(cases[i].entry, cases[i].folder) != cases[i].match) {
			g_error("'%s' against '%s': expected %s", cases[i].entry, cases[i].folder,
			        cases[i].match ? "a match" : "none");
		}
	}
	/* A long name against many wildcards stays quick (no backtracking). */
	g_autofree char *long_name = g_strnfill(5000, 'a');
	g_assert_false(config_folder_matches("*a*a*a*a*a*a*a*a*a*a*a*b", long_name));

	cfg = load("[account a]\nhost = h\nusername = u\npassword = p\n"
	           "folders = INBOX;Lists/*\nnotify_folders = Lists/dev/%;INBOX\n",
	           &error);
	g_assert_no_error(error);
	const struct config_account *a = cfg->accounts->pdata[0];
	g_assert_true(config_account_notifies(a, "Lists/dev/x"));
	g_assert_true(config_account_notifies(a, "inbox"));
	g_assert_false(config_account_notifies(a, "Lists/dev/x/y"));
	g_assert_false(config_account_notifies(a, "Lists/other"));
}

int main(int argc, char **argv)
{
	/* Before anything asks GLib for the home directory. */
	g_setenv("HOME", TEST_DATA_DIR, TRUE);
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/config/folder-patterns", test_config_folder_patterns);
	g_test_add_func("/config/full", test_config_full);
	g_test_add_func("/config/defaults", test_config_defaults);
	g_test_add_func("/config/syntax", test_config_syntax);
	g_test_add_func("/config/describe", test_config_describe);
	g_test_add_func("/config/tls-fingerprint", test_config_tls_fingerprint);
	g_test_add_func("/config/durations", test_config_durations);
	g_test_add_func("/config/file", test_config_file);
	g_test_add_func("/config/names", test_config_names);
	g_test_add_func("/config/open-command", test_config_open_command);
	g_test_add_func("/config/password-secret", test_config_password_secret);
	return g_test_run();
}
