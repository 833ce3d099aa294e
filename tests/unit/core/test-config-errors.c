/* SPDX-License-Identifier: MIT */
/*
 * The config's error messages: every way a config can be wrong, each
 * naming file, line, group and key, and never quoting a password.
 */
#include "config-harness.h"

#include <string.h>

#define ACCOUNT "host = h\nusername = u\npassword = hunter2\n"
/* A valid account after a group that is wrong. */
#define GOOD "[account ok]\n" ACCOUNT

static const struct config_error_case error_cases[] = {
    /* The reader. */
    {"[account a]\n" ACCOUNT "hello\n",
     "test.conf:5: this line is not a [group], a key = value pair or a # comment"},
    {"[account a]\n" ACCOUNT "hunter2\n",
     "test.conf:5: this line is not a [group], a key = value pair or a # comment"},
    {"[account a]\n; note\n" ACCOUNT, "test.conf:2: comments start with '#', not ';'"},
    {"host = h\n[account a]\n" ACCOUNT,
     "test.conf:1: key 'host': appears before any group; put it under [daemon] or "
     "[account NAME]"},
    {"[account a]\n" ACCOUNT " = x\n", "test.conf:5: there is no key name before '='"},
    {"[daemon\n" GOOD,
     "test.conf:1: a group header must be a whole line like [daemon] or [account NAME], with "
     "nothing after the ']' but a # comment"},
    {"[account a] work\n",
     "test.conf:1: a group header must be a whole line like [daemon] or [account NAME], with "
     "nothing after the ']' but a # comment"},
    {"[account a]\n" ACCOUNT "\n[account a]\n",
     "test.conf:6: [account a]: this group appears twice (first on line 1); merge the two"},
    {"[account a]\n" ACCOUNT "host = i\n",
     "test.conf:5: [account a] key 'host': set twice in this group (first on line 2); keep "
     "one"},
    {"[account a]\n" ACCOUNT "folders = \xff\n",
     "test.conf:5: this line is not valid UTF-8; save the file as UTF-8"},
    /* Groups. */
    {"[deamon]\n" GOOD, "test.conf:1: unknown group [deamon]; did you mean '[daemon]'?"},
    {"[Daemon]\n" GOOD, "test.conf:1: unknown group [Daemon]; did you mean '[daemon]'?"},
    {"[acount work]\n" GOOD,
     "test.conf:1: unknown group [acount work]; did you mean '[account work]'?"},
    {"[server]\n" GOOD, "test.conf:1: unknown group [server]; the groups are [daemon], "
                        "[account NAME] and [rule NAME]"},
    {"[account]\n" ACCOUNT,
     "test.conf:1: the account has no name; write [account NAME], e.g. [account work]"},
    {"[account a/b]\n" ACCOUNT,
     "test.conf:1: [account a/b]: the account name must not contain '/' (it is part of "
     "message ids like NAME/INBOX/…)"},
    {"", "test.conf: no [account NAME] group; add one for each mail account to watch"},
    {"[daemon]\nnotifications = true\n",
     "test.conf: no [account NAME] group; add one for each mail account to watch"},
    /* Keys. */
    {"[account a]\n" ACCOUNT "hots = x\n",
     "test.conf:5: [account a] key 'hots': unknown key; did you mean 'host'?"},
    {"[account a]\n" ACCOUNT "Port = 1\n",
     "test.conf:5: [account a] key 'Port': unknown key; did you mean 'port'?"},
    {"[account a]\n" ACCOUNT "user = me\n",
     "test.conf:5: [account a] key 'user': unknown key; did you mean 'username'?"},
    {"[account a]\n" ACCOUNT "ca_file = x\n",
     "test.conf:5: [account a] key 'ca_file': unknown key; did you mean 'tls_ca_file'?"},
    {"[account a]\n" ACCOUNT "tls_fingerprint = md5:00\n",
     "test.conf:5: [account a] key 'tls_fingerprint': write sha256: followed by the "
     "certificate's SHA-256 fingerprint in hex (openssl x509 -noout -fingerprint -sha256 -in "
     "cert.pem)"},
    {"[account a]\n" ACCOUNT "tls_fingerprint = sha256:AB:CD\n",
     "test.conf:5: [account a] key 'tls_fingerprint': a SHA-256 fingerprint is 32 bytes: 64 "
     "hex digits after sha256:"},
    {"[account a]\n" ACCOUNT "folder = x\n",
     "test.conf:5: [account a] key 'folder': unknown key; did you mean 'folders'?"},
    {"[account a]\n" ACCOUNT "server = x\n",
     "test.conf:5: [account a] key 'server': unknown key; the keys here are host, port, "
     "security, allow_plaintext, username, password, password_command, password_secret, "
     "goa_account, auth, "
     "folders, "
     "tls_ca_file, tls_fingerprint, idle_refresh, notify, notify_folders, open_command, "
     "poll_interval, max_connections, on_new, on_changed, "
     "on_removed, on_state, hook_delay, hook_max_delay, hook_timeout, enabled"},
    {"[daemon]\nnotification = false\n" GOOD,
     "test.conf:2: [daemon] key 'notification': unknown key; did you mean 'notifications'?"},
    {"[daemon]\nhost = h\n" GOOD,
     "test.conf:2: [daemon] key 'host': this key belongs in an [account NAME] group"},
    {"[account a]\n" ACCOUNT "startup = each\n",
     "test.conf:5: [account a] key 'startup': this key belongs in [daemon]"},
    /* Values. */
    {"[account a]\n" ACCOUNT "security = ssl\n",
     "test.conf:5: [account a] key 'security': 'ssl' is not one of tls, starttls, none"},
    {"[account a]\n" ACCOUNT "security = none\n",
     "test.conf:5: [account a] key 'security': security = none is refused unless "
     "allow_plaintext = true is also set in this group (the password and mail would travel "
     "unencrypted)"},
    {"[account a]\n" ACCOUNT "security = none\nallow_plaintext = false\n",
     "test.conf:5: [account a] key 'security': security = none is refused unless "
     "allow_plaintext = true is also set in this group (the password and mail would travel "
     "unencrypted)"},
    {"[account a]\n" ACCOUNT "security = none\nallow_plaintext = true\ntls_fingerprint = "
     "sha256:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
     "test.conf:7: [account a] key 'tls_fingerprint': pins the server's TLS certificate, but "
     "security = none uses no TLS at all; remove this line, or set security = tls (or "
     "starttls)"},
    {"[account a]\n" ACCOUNT "allow_plaintext = yes\n",
     "test.conf:5: [account a] key 'allow_plaintext': 'yes' is not a boolean; write true or "
     "false"},
    {"[account a]\n" ACCOUNT "port = 0\n",
     "test.conf:5: [account a] key 'port': '0' is not a port number from 1 to 65535"},
    {"[account a]\n" ACCOUNT "port = 65536\n",
     "test.conf:5: [account a] key 'port': '65536' is not a port number from 1 to 65535"},
    {"[account a]\n" ACCOUNT "port = +993\n",
     "test.conf:5: [account a] key 'port': '+993' is not a port number from 1 to 65535"},
    {"[account a]\n" ACCOUNT "auth = oauth\n",
     "test.conf:5: [account a] key 'auth': 'oauth' is not one of auto, plain, login, xoauth2, "
     "oauthbearer"},
    {"[account a]\n" ACCOUNT "username =\n",
     "test.conf:5: [account a] key 'username': set twice in this group (first on line 3); "
     "keep one"},
    {"[account a]\nhost = h\nusername =\npassword = p\n",
     "test.conf:3: [account a] key 'username': has no value; give one or remove the line"},
    {"[account a]\nhost = imaps://h\n"
     "username = u\npassword = p\n",
     "test.conf:2: [account a] key 'host': 'imaps://h' is not a host name; write only the "
     "name, like imap.example.com, and the port under 'port'"},
    {"[account a]\nhost = h\nusername = u\npassword = x\\qhunter2\n",
     "test.conf:4: [account a] key 'password': invalid escape sequence at column 13; the "
     "escapes are \\s \\n \\t \\r \\\" and \\\\ (write \\\\ for a backslash)"},
    {"[account a]\nhost = h\nusername = u\npassword = hunter2\\\n",
     "test.conf:4: [account a] key 'password': invalid escape sequence at column 19; the "
     "escapes are \\s \\n \\t \\r \\\" and \\\\ (write \\\\ for a backslash)"},
    {"[account a]\nhost = h\nusername = u\npassword = a\\;b\n",
     "test.conf:4: [account a] key 'password': invalid escape sequence at column 13; the "
     "escapes are \\s \\n \\t \\r \\\" and \\\\ (write \\\\ for a backslash)"},
    /* Durations. */
    {"[daemon]\nidle_refresh = 540\n" GOOD,
     "test.conf:2: [daemon] key 'idle_refresh': '540' has no unit; write 9m, not 540 (units: "
     "s, m, h)"},
    {"[account a]\n" ACCOUNT "idle_refresh = 90\n",
     "test.conf:5: [account a] key 'idle_refresh': '90' has no unit; write 1m30s, not 90 "
     "(units: s, m, h)"},
    {"[daemon]\nidle_refresh = 30m\n" GOOD,
     "test.conf:2: [daemon] key 'idle_refresh': 30m is out of range; use a value from 1m to "
     "29m"},
    {"[daemon]\nidle_refresh = 59s\n" GOOD,
     "test.conf:2: [daemon] key 'idle_refresh': 59s is out of range; use a value from 1m to "
     "29m"},
    {"[daemon]\nidle_refresh = 9 min\n" GOOD,
     "test.conf:2: [daemon] key 'idle_refresh': '9 min' is not a duration; write it like 30s, "
     "9m, 1h or 1h30m"},
    {"[daemon]\npassword_timeout = 0s\n" GOOD,
     "test.conf:2: [daemon] key 'password_timeout': 0s is out of range; use a value from 1s to "
     "10m"},
    {"[daemon]\nstartup = all\n" GOOD,
     "test.conf:2: [daemon] key 'startup': 'all' is not one of summary, each, silent"},
    /* Notifications. */
    {"[daemon]\nnotify_max = 0\n" GOOD,
     "test.conf:2: [daemon] key 'notify_max': '0' is not a number from 1 to 20"},
    {"[daemon]\nnotify_max = 21\n" GOOD,
     "test.conf:2: [daemon] key 'notify_max': '21' is not a number from 1 to 20"},
    {"[daemon]\nnotify_max = three\n" GOOD,
     "test.conf:2: [daemon] key 'notify_max': 'three' is not a number from 1 to 20"},
    {"[daemon]\nnotification_sound = off\n" GOOD,
     "test.conf:2: [daemon] key 'notification_sound': 'off' is not a boolean; write true or "
     "false"},
    {"[daemon]\nnotification_content = subject\n" GOOD,
     "test.conf:2: [daemon] key 'notification_content': 'subject' is not one of full, sender, "
     "count"},
    {"[daemon]\nnotify = false\n" GOOD,
     "test.conf:2: [daemon] key 'notify': this key belongs in an [account NAME] group"},
    {"[account a]\n" ACCOUNT "notify_max = 2\n",
     "test.conf:5: [account a] key 'notify_max': this key belongs in [daemon]"},
    {"[account a]\n" ACCOUNT "notify = no\n",
     "test.conf:5: [account a] key 'notify': 'no' is not a boolean; write true or false"},
    {"[account a]\n" ACCOUNT "notify_folder = INBOX\n",
     "test.conf:5: [account a] key 'notify_folder': unknown key; did you mean "
     "'notify_folders'?"},
    {"[account a]\n" ACCOUNT "notify_folders = Lists\n",
     "test.conf:5: [account a] key 'notify_folders': folder 'Lists' is not watched; add it to "
     "folders first"},
    {"[account a]\n" ACCOUNT "folders = INBOX;Lists/%\nnotify_folders = Lists/a/b\n",
     "test.conf:6: [account a] key 'notify_folders': folder 'Lists/a/b' is not watched; add it "
     "to folders first"},
    {"[account a]\n" ACCOUNT "notify_folders =\n",
     "test.conf:5: [account a] key 'notify_folders': the list is empty; write notify = false "
     "to have no notifications from this account"},
    {"[account a]\n" ACCOUNT "notify_folders = INBOX;inbox\n",
     "test.conf:5: [account a] key 'notify_folders': folder 'INBOX' is listed twice"},
    {"[account a]\n" ACCOUNT "open_command = mutt -f '=%f\n",
     "test.conf:5: [account a] key 'open_command': a quote is not closed, or a backslash ends "
     "the command; quote words as in a shell"},
    {"[account a]\n" ACCOUNT "open_command = mutt -f %F\n",
     "test.conf:5: [account a] key 'open_command': '%%F' is not a placeholder; the placeholders "
     "are %%a (account), %%f (folder), %%u (UID), %%m (Message-ID) and %%%% (a percent sign)"},
    {"[account a]\n" ACCOUNT "open_command = mutt %\xe2\x81\xa6x\n",
     "test.conf:5: [account a] key 'open_command': '%%' followed by U+2066 is not a placeholder; "
     "the placeholders are %%a (account), %%f (folder), %%u (UID), %%m (Message-ID) and %%%% "
     "(a percent sign)"},
    {"[account a]\n" ACCOUNT "folders = INBOX, Work; Lists/*\n",
     "test.conf:5: [account a] key 'folders': 'INBOX, Work' looks like two folders separated by "
     "a comma; separate folders with ';' (folders = INBOX;Work; Lists/*)"},
    {"[account a]\n" ACCOUNT "max_connections = 16\n",
     "test.conf:5: [account a] key 'max_connections': '16' is not a number from 1 to 15"},
    {"[account a]\n" ACCOUNT "max_connections = 0\n",
     "test.conf:5: [account a] key 'max_connections': '0' is not a number from 1 to 15"},
    {"[account a]\n" ACCOUNT "poll_interval = 10s\n",
     "test.conf:5: [account a] key 'poll_interval': 10s is out of range; use a value from 30s "
     "to 1h"},
    {"[daemon]\npoll_interval = 2h\n[account a]\n" ACCOUNT,
     "test.conf:2: [daemon] key 'poll_interval': 2h is out of range; use a value from 30s to "
     "1h"},
    {"[account a]\n" ACCOUNT "open_command = mutt 100%\n",
     "test.conf:5: [account a] key 'open_command': '%%' is not a placeholder; the placeholders "
     "are %%a (account), %%f (folder), %%u (UID), %%m (Message-ID) and %%%% (a percent sign)"},
    /* Whole-account checks. */
    {"[account a]\nhost = h\npassword = p\n",
     "test.conf:1: [account a]: key 'username' is missing; add username = your login name"},
    {"[account a]\nhost = h\nusername = u\n",
     "test.conf:1: [account a]: none of password, password_command and password_secret is "
     "set; add one of them (password_command or password_secret keeps the password out of "
     "this file)"},
    {"[account a]\nhost = h\nusername = u\npassword_command = x\npassword_secret = a=b\n",
     "test.conf:5: [account a] key 'password_secret': password_command is already set on "
     "line 4; keep only one of password, password_command and password_secret"},
    {"[account a]\nhost = h\nusername = u\npassword_secret = service=imap;user\n",
     "test.conf:4: [account a] key 'password_secret': entry 2 is not attribute=value; write "
     "the attributes as secret-tool takes them, e.g. service=imap;user=me"},
    {"[account a]\ngoa_account = me@gmail.com\nhost = imap.gmail.com\n",
     "test.conf:3: [account a] key 'host': comes from GNOME Online Accounts with goa_account; "
     "remove this line"},
    {"[account a]\nusername = u\npassword = p\n",
     "test.conf:1: [account a]: key 'host' is missing; add host = the IMAP server's name (or "
     "goa_account = your address in GNOME Online Accounts)"},
    {"[account a]\nhost = h\nusername = u\npassword_secret = a=1; b=2; a=3\n",
     "test.conf:4: [account a] key 'password_secret': attribute 'a' is given twice"},
    {"[account a]\nhost = h\nusername = u\npassword_secret = ;\n",
     "test.conf:4: [account a] key 'password_secret': entry 1 is not attribute=value; write "
     "the attributes as secret-tool takes them, e.g. service=imap;user=me"},
    {"[account a]\n" ACCOUNT "password_command = pass x\n",
     "test.conf:5: [account a] key 'password_command': password is already set on line 4; "
     "keep only one of password, password_command and password_secret"},
    /* Folders. */
    {"[account a]\n" ACCOUNT "folders = INBOX;;Sent\n",
     "test.conf:5: [account a] key 'folders': entry 2 of the list is empty; remove the extra "
     "';'"},
    {"[account a]\n" ACCOUNT "folders = ;\n",
     "test.conf:5: [account a] key 'folders': entry 1 of the list is empty; remove the extra "
     "';'"},
    {"[account a]\n" ACCOUNT "folders =\n",
     "test.conf:5: [account a] key 'folders': the list is empty; remove the line to watch "
     "INBOX"},
    {"[account a]\n" ACCOUNT "folders = INBOX; Sent; inbox\n",
     "test.conf:5: [account a] key 'folders': folder 'INBOX' is listed twice"},
    {"[account a]\n" ACCOUNT "folders = Sent;Sent\n",
     "test.conf:5: [account a] key 'folders': folder 'Sent' is listed twice"},
    {"[account a]\n" ACCOUNT "folders = a\\tb\n",
     "test.conf:5: [account a] key 'folders': folder 'a\tb' contains a control character"},
    {"[account a]\n" ACCOUNT "folders = Sent;a\\xb\n",
     "test.conf:5: [account a] key 'folders': invalid escape sequence at column 17; the "
     "escapes are \\s \\n \\t \\r \\\" \\; and \\\\ (write \\\\ for a backslash)"},
    /* tls_ca_file. */
    {"[account a]\n" ACCOUNT "tls_ca_file = ca.pem\n",
     "test.conf:5: [account a] key 'tls_ca_file': 'ca.pem' is a relative path; write an "
     "absolute path or one starting with ~/"},
    {"[account a]\n" ACCOUNT "tls_ca_file = ~/config/missing.pem\n",
     "test.conf:5: [account a] key 'tls_ca_file': cannot read '%s/config/missing.pem': No "
     "such file or directory"},
    {"[account a]\n" ACCOUNT "tls_ca_file = ~/config\n",
     "test.conf:5: [account a] key 'tls_ca_file': '%s/config' is not a regular file; give the "
     "CA certificate file (PEM)"},
};

static void test_config_errors(void)
{
	assert_config_errors(error_cases, G_N_ELEMENTS(error_cases), TEST_DATA_DIR);
}

static void test_config_nul_byte(void)
{
	static const char text[] = "[account a]\nhost = h\0x\nusername = u\npassword = p\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = config_load_data(text, sizeof(text) - 1, "test.conf", &error);

	g_assert_null(cfg);
	g_assert_cmpstr(error->message, ==,
	                "test.conf:2: this line contains a NUL byte; is this a text file?");
}

int main(int argc, char **argv)
{
	/* Before anything asks GLib for the home directory. */
	g_setenv("HOME", TEST_DATA_DIR, TRUE);
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/config/errors", test_config_errors);
	g_test_add_func("/config/nul-byte", test_config_nul_byte);
	return g_test_run();
}
