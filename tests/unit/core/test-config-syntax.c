/* SPDX-License-Identifier: MIT */
/*
 * What the reader forgives and how: comments after values, quoted values
 * (double quotes with escapes, single quotes as they are), lists with
 * quoted entries, commands whose quotes are the shell's; lists written in
 * another format's syntax; every problem of a file in one message;
 * enabled = false; a FIFO given as the config.
 */
#include "config-harness.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#define ACCOUNT "host = h\nusername = u\npassword = hunter2\n"

/* The one account of text, which must load. */
static struct config *load_ok(const char *text)
{
	g_autoptr(GError) error = NULL;
	struct config *cfg = load(text, &error);

	g_assert_no_error(error);
	g_assert_nonnull(cfg);
	return cfg;
}

static void test_comments(void)
{
	g_autoptr(config) cfg = load_ok("# first line\n"
	                                "[daemon]   # the daemon's own settings\n"
	                                "idle_refresh = 9m   # re-issue IDLE\n"
	                                "notifications = false\t# quiet\n"
	                                "[account a]# no blank needed after ']'\n"
	                                "host = imap.example.com # the server\n"
	                                "username = u  # me\n"
	                                "password = pass#word\n"
	                                "folders = INBOX;Work;#private  # mine\n"
	                                "notify_folders = Work;#private # only these\n"
	                                "[account b]\n"
	                                "host = h\n"
	                                "username = u\n"
	                                "password_secret = service=imap;user=u # keyring\n");
	const struct config_account *a = cfg->accounts->pdata[0];
	const struct config_account *b = cfg->accounts->pdata[1];

	g_assert_cmpuint(cfg->idle_refresh, ==, 9 * 60);
	g_assert_false(cfg->notifications);
	g_assert_cmpstr(a->host, ==, "imap.example.com");
	g_assert_cmpstr(a->username, ==, "u");
	g_assert_cmpstr(a->password, ==, "pass#word");
	g_assert_cmpuint(g_strv_length(a->folders), ==, 3);
	g_assert_cmpstr(a->folders[1], ==, "Work");
	/* After ';' without a blank, '#' is part of the name. */
	g_assert_cmpuint(g_strv_length(a->notify_folders), ==, 2);
	g_assert_cmpstr(a->notify_folders[1], ==, "#private");
	g_assert_cmpstr(b->password_secret[3], ==, "u");
}

/* A '#' of a password's own: without a blank before it, or quoted. */
static void test_comment_inside_value(void)
{
	static const struct {
		const char *line;
		const char *password;
	} cases[] = {
	    {"password = pass#word", "pass#word"},
	    {"password = pass#word # comment", "pass#word"},
	    {"password = a\\s#b", "a #b"},
	    {"password = \"a #b\"", "a #b"},
	    {"password = \"a #b\"   # comment", "a #b"},
	    {"password = 'a #b'", "a #b"},
	    {"password = \"#\"", "#"},
	    {"password = pa\"ss", "pa\"ss"},
	    {"password = it's", "it's"},
	    {"password = \\\"quoted\\\"", "\"quoted\""},
	    {"password = \"say \\\"hi\\\" \\\\ \\s\"", "say \"hi\" \\  "},
	    {"password = 'a\\sb \"c\"'", "a\\sb \"c\""},
	    {"password = \"'single'\"", "'single'"},
	    {"password = \"  blanks kept  \"", "  blanks kept  "},
	    {"password = \"a;b\"", "a;b"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text =
		    g_strdup_printf("[account a]\nhost = h\nusername = u\n%s\n", cases[i].line);
		g_autoptr(config) cfg = NULL;

		g_test_message("%s", cases[i].line);
		cfg = load_ok(text);
		g_assert_cmpstr(((struct config_account *)cfg->accounts->pdata[0])->password, ==,
		                cases[i].password);
	}
}

static void test_quoted_values(void)
{
	g_autoptr(config) cfg = load_ok("[daemon]\n"
	                                "startup = \"each\"\n"
	                                "idle_refresh = '5m'\n"
	                                "notifications = \"false\"\n"
	                                "[account a]\n"
	                                "host = \"imap.example.com\"\n"
	                                "port = \"1993\"\n"
	                                "security = 'starttls'\n"
	                                "username = \"me@example.com\" # login\n"
	                                "password = \"x\"\n");
	const struct config_account *a = cfg->accounts->pdata[0];

	g_assert_cmpint(cfg->startup, ==, CONFIG_STARTUP_EACH);
	g_assert_cmpuint(cfg->idle_refresh, ==, 300);
	g_assert_false(cfg->notifications);
	g_assert_cmpstr(a->host, ==, "imap.example.com");
	g_assert_cmpuint(a->port, ==, 1993);
	g_assert_cmpint(a->security, ==, CONFIG_SECURITY_STARTTLS);
	g_assert_cmpstr(a->username, ==, "me@example.com");
}

static void test_lists(void)
{
	static const struct {
		const char *value;
		const char *folders; /* joined with '|' */
	} cases[] = {
	    {"INBOX;Work", "INBOX|Work"},
	    {"INBOX ; Work ;", "INBOX|Work"},
	    {"\"Work; Stuff\"; INBOX", "Work; Stuff|INBOX"},
	    {"\"Work; Stuff\";INBOX;", "Work; Stuff|INBOX"},
	    {"'a #b' ; \"c\\\"d\" # comment", "a #b|c\"d"},
	    {"Semi\\;colon;\"x\\;y\"", "Semi;colon|x;y"},
	    {"\"Work, Stuff\"", "Work, Stuff"},
	    {"\" padded \"", " padded "},
	    {"[Gmail]/Sent Mail", "[Gmail]/Sent Mail"},
	    {"[Gmail]", "[Gmail]"},
	    {"Lists/* # every list", "Lists/*"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text =
		    g_strdup_printf("[account a]\n" ACCOUNT "folders = %s\n", cases[i].value);
		g_autoptr(config) cfg = NULL;
		g_autofree char *joined = NULL;

		g_test_message("folders = %s", cases[i].value);
		cfg = load_ok(text);
		joined =
		    g_strjoinv("|", ((struct config_account *)cfg->accounts->pdata[0])->folders);
		g_assert_cmpstr(joined, ==, cases[i].folders);
	}
}

/* Commands: quotes that hold the whole value are ours, others are the
 * shell's and stay, '#' inside them too. */
static void test_commands(void)
{
	static const struct {
		const char *line;
		const char *command;
	} cases[] = {
	    {"password_command = \"pass show mail/work\"", "pass show mail/work"},
	    {"password_command = 'pass show mail/work'  # from pass", "pass show mail/work"},
	    {"password_command = pass show mail/work # from pass", "pass show mail/work"},
	    {"password_command = echo 'a # b' \"c # d\" # e", "echo 'a # b' \"c # d\""},
	    {"password_command = \"/opt/My Mail/pw\" --user me", "\"/opt/My Mail/pw\" --user me"},
	    {"password_command = 'a' 'b'", "'a' 'b'"},
	    {"password_command = gpg -d ~/pw.gpg#x", "gpg -d ~/pw.gpg#x"},
	    {"password_command = echo \\\\#x", "echo \\#x"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text =
		    g_strdup_printf("[account a]\nhost = h\nusername = u\n%s\n", cases[i].line);
		g_autoptr(config) cfg = NULL;

		g_test_message("%s", cases[i].line);
		cfg = load_ok(text);
		g_assert_cmpstr(
		    ((struct config_account *)cfg->accounts->pdata[0])->password_command, ==,
		    cases[i].command);
	}

	g_autoptr(config) cfg =
	    load_ok("[account a]\n" ACCOUNT "open_command = thunderbird -mail 'mid:%m' # click\n"
	            "on_new = notify-send 'new #mail'  # hook\n"
	            "[rule r]\n"
	            "on_new = \"mbsync work\"\n");
	const struct config_account *a = cfg->accounts->pdata[0];
	const struct config_rule *r = cfg->rules->pdata[0];

	g_assert_cmpstr(a->open_command, ==, "thunderbird -mail 'mid:%m'");
	g_assert_cmpstr(a->hooks[CONFIG_HOOK_NEW], ==, "notify-send 'new #mail'");
	g_assert_cmpstr(r->hooks[CONFIG_HOOK_NEW], ==, "mbsync work");
}

static const struct config_error_case error_cases[] = {
    /* Quotes. */
    {"[account a]\nhost = h\nusername = u\npassword = \"hunter2\n",
     "test.conf:4: [account a] key 'password': the quote at column 12 is not closed; end the "
     "value with \" (and write \\\" for a quote inside it, or at the start of a value that "
     "begins with one)"},
    {"[account a]\nhost = h\nusername = u\npassword = \"hunter2\\\"\n",
     "test.conf:4: [account a] key 'password': the quote at column 12 is not closed; end the "
     "value with \" (and write \\\" for a quote inside it, or at the start of a value that "
     "begins with one)"},
    {"[account a]\nhost = h\nusername = u\npassword = 'hunter2 # x\n",
     "test.conf:4: [account a] key 'password': the single quote at column 12 is not closed; "
     "end the value with ' (in single quotes every character is itself; for a value with a ' "
     "of its own, use double quotes)"},
    {"[account a]\n" ACCOUNT "folders = INBOX; \"Work\n",
     "test.conf:5: [account a] key 'folders': the quote at column 18 is not closed; end the "
     "entry with \" (and write \\\" for a quote inside it, or at the start of a value that "
     "begins with one)"},
    {"[account a]\nhost = \"h\" x\nusername = u\npassword = p\n",
     "test.conf:2: [account a] key 'host': text follows the closing quote at column 10; put "
     "all of the value inside the quotes (a comment after it starts with a blank and '#')"},
    {"[account a]\nhost = \"h\"#x\nusername = u\npassword = p\n",
     "test.conf:2: [account a] key 'host': text follows the closing quote at column 10; put "
     "all of the value inside the quotes (a comment after it starts with a blank and '#')"},
    {"[account a]\n" ACCOUNT "folders = \"Work\" Stuff; INBOX\n",
     "test.conf:5: [account a] key 'folders': text follows the closing quote at column 16; "
     "separate entries with ';'"},
    {"[account a]\nhost = h\nusername = u\npassword = \"a\\qhunter2\"\n",
     "test.conf:4: [account a] key 'password': invalid escape sequence at column 14; the "
     "escapes are \\s \\n \\t \\r \\\" and \\\\ (write \\\\ for a backslash)"},
    /* A value that is all comment. */
    {"[account a]\nhost = h\nusername = u\npassword = #hunter2\n",
     "test.conf:4: [account a] key 'password': has no value; give one or remove the line (a "
     "'#' at the start of a value, or after a blank, starts a comment; put the value in double "
     "quotes to keep it)"},
    {"[account a]\n" ACCOUNT "folders = # INBOX\n",
     "test.conf:5: [account a] key 'folders': the list is empty; remove the line to watch "
     "INBOX (a '#' at the start of a value, or after a blank, starts a comment; put the value "
     "in double quotes to keep it)"},
    /* Lists of other formats. */
    {"[account a]\n" ACCOUNT "folders = [\"INBOX\", \"Work\"]\n",
     "test.conf:5: [account a] key 'folders': '[\"INBOX\", \"Work\"]' looks like a list of "
     "another format (TOML, YAML); separate folders with ';', without brackets (folders = "
     "INBOX;Work)"},
    {"[account a]\n" ACCOUNT "notify_folders = ['INBOX','Lists/*']  # toml\n",
     "test.conf:5: [account a] key 'notify_folders': '['INBOX','Lists/*']' looks like a list "
     "of another format (TOML, YAML); separate folders with ';', without brackets "
     "(notify_folders = INBOX;Lists/*)"},
    {"[account a]\n" ACCOUNT "folders = [INBOX, Work]\n",
     "test.conf:5: [account a] key 'folders': '[INBOX, Work]' looks like a list of another "
     "format (TOML, YAML); separate folders with ';', without brackets (folders = "
     "INBOX;Work)"},
    {"[account a]\n" ACCOUNT "folders = INBOX, Work # mine\n",
     "test.conf:5: [account a] key 'folders': 'INBOX, Work' looks like two folders separated "
     "by a comma; separate folders with ';' (folders = INBOX;Work)"},
    {"[account a]\n" ACCOUNT "folders = \"\"\n",
     "test.conf:5: [account a] key 'folders': entry 1 of the list is empty"},
    /* YAML's "key: value". */
    {"[account a]\n" ACCOUNT "folders: INBOX\n",
     "test.conf:5: write folders = value, with '=', not ':'"},
    {"[account a]\nhost = h\nusername = u\npassword: hunter2\n",
     "test.conf:4: write password = value, with '=', not ':'"},
    {"[account a]\n" ACCOUNT "see: https://example.com = x\n",
     "test.conf:5: [account a] key 'see: https://example.com': unknown key; the keys here are "
     "host, port, security, allow_plaintext, username, password, password_command, "
     "password_secret, goa_account, auth, folders, tls_ca_file, tls_fingerprint, idle_refresh, "
     "notify, notify_folders, open_command, poll_interval, max_connections, on_new, "
     "on_changed, on_removed, on_state, hook_delay, hook_max_delay, hook_timeout, enabled"},
    /* enabled. */
    {"[account a]\n" ACCOUNT "enabled = no\n",
     "test.conf:5: [account a] key 'enabled': 'no' is not a boolean; write true or false"},
    {"[daemon]\nenabled = false\n[account a]\n" ACCOUNT,
     "test.conf:2: [daemon] key 'enabled': this key belongs in an [account NAME] group"},
};

static void test_errors(void)
{
	assert_config_errors(error_cases, G_N_ELEMENTS(error_cases), NULL);
}

/* One reading reports every problem, in the order of the lines, each in
 * the format of a single one; what follows from a bad value is not
 * reported again. */
static void test_all_errors(void)
{
	static const char text[] = "[daemon]\n"                /* 1 */
	                           "idle_refresh = 540\n"      /* 2 */
	                           "notifications = maybe\n"   /* 3 */
	                           "hello\n"                   /* 4 */
	                           "[account work]\n"          /* 5 */
	                           "host = imap.example.com\n" /* 6 */
	                           "hots = x\n"                /* 7 */
	                           "port = 99999\n"            /* 8 */
	                           "username =\n"              /* 9 */
	                           "password = \"hunter2\n"    /* 10 */
	                           "folders = INBOX, Work\n"   /* 11 */
	                           "notify_folders = Other\n"  /* 12 */
	                           "[acount home]\n"           /* 13 */
	                           "host = h\n"                /* 14 */
	                           "[account lab]\n"           /* 15 */
	                           "host = h\n"                /* 16 */
	                           "security = none\n"         /* 17 */
	                           "allow_plaintext = yes\n"   /* 18 */
	                           "username = u\n"            /* 19 */
	                           "password_command = x\n"    /* 20 */
	                           "[account lab]\n"           /* 21 */
	                           "[rule r]\n"                /* 22 */
	                           "urgency = high\n";         /* 23 */
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = load(text, &error);

	g_assert_null(cfg);
	g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_INVALID);
	g_assert_cmpstr(
	    error->message, ==,
	    "test.conf:2: [daemon] key 'idle_refresh': '540' has no unit; write 9m, not 540 "
	    "(units: "
	    "s, m, h)\n"
	    "test.conf:3: [daemon] key 'notifications': 'maybe' is not a boolean; write true or "
	    "false\n"
	    "test.conf:4: this line is not a [group], a key = value pair or a # comment\n"
	    "test.conf:7: [account work] key 'hots': unknown key; did you mean 'host'?\n"
	    "test.conf:8: [account work] key 'port': '99999' is not a port number from 1 to 65535\n"
	    "test.conf:9: [account work] key 'username': has no value; give one or remove the "
	    "line\n"
	    "test.conf:10: [account work] key 'password': the quote at column 12 is not closed; "
	    "end "
	    "the value with \" (and write \\\" for a quote inside it, or at the start of a value "
	    "that begins with one)\n"
	    "test.conf:11: [account work] key 'folders': 'INBOX, Work' looks like two folders "
	    "separated by a comma; separate folders with ';' (folders = INBOX;Work)\n"
	    "test.conf:13: unknown group [acount home]; did you mean '[account home]'?\n"
	    "test.conf:18: [account lab] key 'allow_plaintext': 'yes' is not a boolean; write true "
	    "or false\n"
	    "test.conf:21: [account lab]: this group appears twice (first on line 15); merge the "
	    "two\n"
	    "test.conf:23: [rule r] key 'urgency': 'high' is not one of low, normal, critical");
	g_assert_null(strstr(error->message, "hunter2"));
}

/* Beyond CONFIG_MAX_REPORTED, a count; the first ones by line. */
static void test_many_errors(void)
{
	g_autoptr(GString) text = g_string_new("[account a]\n" ACCOUNT);
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = NULL;
	g_auto(GStrv) lines = NULL;

	for (guint i = 0; i < 25; i++) {
		g_string_append_printf(text, "bad%u = x\n", i);
	}
	cfg = load(text->str, &error);
	g_assert_null(cfg);
	lines = g_strsplit(error->message, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, CONFIG_MAX_REPORTED + 1);
	g_assert_cmpstr(lines[0], ==,
	                "test.conf:5: [account a] key 'bad0': unknown key; the keys here are host, "
	                "port, security, allow_plaintext, username, password, password_command, "
	                "password_secret, goa_account, auth, folders, tls_ca_file, "
	                "tls_fingerprint, idle_refresh, notify, notify_folders, open_command, "
	                "poll_interval, max_connections, on_new, on_changed, on_removed, "
	                "on_state, hook_delay, hook_max_delay, hook_timeout, enabled");
	g_assert_true(g_str_has_prefix(lines[19], "test.conf:24: [account a] key 'bad19': "));
	g_assert_cmpstr(lines[20], ==, "… and 5 more errors");
}

/* A broken group line: its keys are not checked (they could belong
 * anywhere), and no account is reported missing for it. */
static void test_broken_group(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = load("[account a\nhost = h\nport = x\nnot a line\n", &error);

	g_assert_null(cfg);
	g_assert_cmpstr(error->message, ==,
	                "test.conf:1: a group header must be a whole line like [daemon] or "
	                "[account NAME], with nothing after the ']' but a # comment\n"
	                "test.conf:4: this line is not a [group], a key = value pair or a # "
	                "comment");
}

static void test_enabled(void)
{
	g_autoptr(config) cfg = load_ok("[account on]\n" ACCOUNT "enabled = true\n"
	                                "[account off]\n" ACCOUNT "enabled = false   # on holiday\n"
	                                "[account plain]\n" ACCOUNT);
	g_autoptr(config) other = load_ok("[account on]\n" ACCOUNT);
	const struct config_account *on = cfg->accounts->pdata[0];
	const struct config_account *off = cfg->accounts->pdata[1];
	const struct config_account *plain = cfg->accounts->pdata[2];
	g_autofree char *described = config_describe(cfg);

	g_assert_false(on->disabled);
	g_assert_true(off->disabled);
	g_assert_false(plain->disabled);
	g_assert_nonnull(strstr(described, "[account on]\n  enabled: true\n"));
	g_assert_nonnull(strstr(described, "[account off]\n  enabled: false (not watched: no "
	                                   "connection, no password looked up)\n"));
	/* A reload that flips it starts or stops the account. */
	g_assert_true(config_account_equal(on, other->accounts->pdata[0]));
	struct config_account flipped = *on;
	flipped.disabled = true;
	g_assert_false(config_account_equal(on, &flipped));
}

/* A FIFO, a directory: an error at once, naming the file. */
static void test_not_a_file(void)
{
	g_autofree char *dir = g_dir_make_tmp("imapwatch-test-config-XXXXXX", NULL);
	g_autofree char *fifo = g_build_filename(dir, "config", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *expect = NULL;

	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	/* Without a writer, an open that waits would hang here for ever. */
	g_assert_null(config_load_file(fifo, &error));
	g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_IO);
	expect = g_strdup_printf("%s: is a FIFO (named pipe); give the config file itself (a "
	                         "regular file)",
	                         fifo);
	g_assert_cmpstr(error->message, ==, expect);
	g_clear_error(&error);

	g_assert_null(config_load_file(dir, &error));
	g_free(expect);
	expect = g_strdup_printf("%s: is a directory; give the config file itself (a regular "
	                         "file)",
	                         dir);
	g_assert_cmpstr(error->message, ==, expect);

	g_unlink(fifo);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	/* Before anything asks GLib for the home directory. */
	g_setenv("HOME", TEST_DATA_DIR, TRUE);
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/config-syntax/comments", test_comments);
	g_test_add_func("/config-syntax/comment-inside-value", test_comment_inside_value);
	g_test_add_func("/config-syntax/quoted-values", test_quoted_values);
	g_test_add_func("/config-syntax/lists", test_lists);
	g_test_add_func("/config-syntax/commands", test_commands);
	g_test_add_func("/config-syntax/errors", test_errors);
	g_test_add_func("/config-syntax/all-errors", test_all_errors);
	g_test_add_func("/config-syntax/many-errors", test_many_errors);
	g_test_add_func("/config-syntax/broken-group", test_broken_group);
	g_test_add_func("/config-syntax/enabled", test_enabled);
	g_test_add_func("/config-syntax/not-a-file", test_not_a_file);
	return g_test_run();
}
