/* SPDX-License-Identifier: MIT */
/*
 * Hooks, rules and quiet hours: how they are read, which rule decides what
 * for a message, and the errors a user gets.
 */
#include "config-harness.h"

#include <string.h>

#define ACCOUNT "host = h\nusername = u\npassword = hunter2\n"

static const char rules_text[] = "[daemon]\n"
                                 "notification_sound = true\n"
                                 "quiet_hours = 22:00-7:30\n"
                                 "hook_delay = 5s\n"
                                 "[account work]\n" ACCOUNT "folders = INBOX; Lists/*\n"
                                 "notify_folders = INBOX\n"
                                 "on_new = mbsync work\n"
                                 "on_state = notify-send 'imapwatch state'\n"
                                 "hook_timeout = 1m\n"
                                 "[account home]\n" ACCOUNT "notify = false\n"
                                 "[rule boss]\n"
                                 "from = boss@example.com\n"
                                 "notify = true\n"
                                 "urgency = critical\n"
                                 "[rule lists]\n"
                                 "account = work\n"
                                 "folder = Lists/*\n"
                                 "notify = false\n"
                                 "on_new = sh -c 'notmuch new'\n"
                                 "[rule quiet sounds]\n"
                                 "account = w*\n"
                                 "sound = none\n"
                                 "content = count\n"
                                 "[rule news]\n"
                                 "from = *@news.example.org\n"
                                 "on_new = true\n";

static void test_rules_notice(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = load(rules_text, &error);
	struct config_notice n;

	g_assert_no_error(error);
	const struct config_account *work = config_find_account(cfg, "work");
	const struct config_account *home = config_find_account(cfg, "home");

	/* No rule about the sender: notify_folders decides, the third rule
	 * silences and hides. */
	config_notice_for(cfg, work, "INBOX", "Ann", "ann@example.com", &n);
	g_assert_true(n.notify);
	g_assert_cmpint(n.urgency, ==, CONFIG_URGENCY_NORMAL);
	g_assert_null(n.sound);
	g_assert_cmpint(n.content, ==, CONFIG_CONTENT_COUNT);
	g_assert_cmpstr(n.rule, ==, "quiet sounds");
	/* The boss is shown even where the account is quiet, any case. */
	config_notice_for(cfg, home, "INBOX", "The Boss", "Boss@Example.com", &n);
	g_assert_true(n.notify);
	g_assert_cmpint(n.urgency, ==, CONFIG_URGENCY_CRITICAL);
	g_assert_cmpstr(n.sound, ==, "message-new-email");
	g_assert_cmpint(n.content, ==, CONFIG_CONTENT_FULL);
	g_assert_cmpstr(n.rule, ==, "boss");
	/* First match wins per setting: boss's notify before lists'. */
	config_notice_for(cfg, work, "Lists/dev", NULL, "boss@example.com", &n);
	g_assert_true(n.notify);
	config_notice_for(cfg, work, "Lists/dev", NULL, "bob@example.com", &n);
	g_assert_false(n.notify);
	g_assert_cmpstr(n.rule, ==, "lists");
	/* Without a sender, rules with from do not match. */
	config_notice_for(cfg, home, "INBOX", NULL, NULL, &n);
	g_assert_false(n.notify);
	g_assert_null(n.rule);
	/* notifications = false is final. */
	{
		g_autoptr(config) off = load("[daemon]\nnotifications = false\n"
		                             "[account a]\n" ACCOUNT "[rule r]\nnotify = true\n",
		                             &error);
		g_assert_no_error(error);
		config_notice_for(off, off->accounts->pdata[0], "INBOX", NULL, NULL, &n);
		g_assert_false(n.notify);
	}
}

static void test_rules_hooks(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = load(rules_text, &error);

	g_assert_no_error(error);
	const struct config_account *work = config_find_account(cfg, "work");
	const struct config_account *home = config_find_account(cfg, "home");

	g_assert_cmpstr(config_hook_for(cfg, work, CONFIG_HOOK_NEW, "INBOX", NULL, "a@b"), ==,
	                "mbsync work");
	g_assert_cmpstr(config_hook_for(cfg, work, CONFIG_HOOK_NEW, "Lists/x", NULL, "a@b"), ==,
	                "sh -c 'notmuch new'");
	g_assert_cmpstr(
	    config_hook_for(cfg, home, CONFIG_HOOK_NEW, "INBOX", NULL, "x@news.example.org"), ==,
	    "true");
	g_assert_null(config_hook_for(cfg, home, CONFIG_HOOK_NEW, "INBOX", NULL, "a@b"));
	g_assert_null(config_hook_for(cfg, work, CONFIG_HOOK_CHANGED, "INBOX", NULL, NULL));
	g_assert_cmpstr(config_hook_for(cfg, work, CONFIG_HOOK_STATE, NULL, NULL, NULL), ==,
	                "notify-send 'imapwatch state'");
	/* Timing: the account's own, else [daemon]'s, else the defaults. */
	g_assert_cmpuint(work->hook_timing.delay, ==, 5);
	g_assert_cmpuint(work->hook_timing.max_delay, ==, 30);
	g_assert_cmpuint(work->hook_timing.timeout, ==, 60);
	g_assert_cmpuint(home->hook_timing.timeout, ==, 5 * 60);
	{
		g_autoptr(config) zero = load(
		    "[account a]\n" ACCOUNT "hook_delay = 0s\n[daemon]\nhook_delay = 9s\n", &error);
		g_assert_no_error(error);
		g_assert_cmpuint(
		    ((struct config_account *)zero->accounts->pdata[0])->hook_timing.delay, ==, 0);
	}
}

static void test_rules_quiet_hours(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = load(rules_text, &error);
	g_autoptr(config) day =
	    load("[daemon]\nquiet_hours = 12:00 - 13:00\n[account a]\n" ACCOUNT, &error);
	g_autoptr(config) none = load("[account a]\n" ACCOUNT, &error);

	g_assert_no_error(error);
	g_assert_true(config_quiet_at(cfg, 22 * 60));
	g_assert_true(config_quiet_at(cfg, 0));
	g_assert_true(config_quiet_at(cfg, 7 * 60 + 29));
	g_assert_false(config_quiet_at(cfg, 7 * 60 + 30));
	g_assert_false(config_quiet_at(cfg, 21 * 60 + 59));
	g_assert_true(config_quiet_at(day, 12 * 60));
	g_assert_false(config_quiet_at(day, 13 * 60));
	g_assert_false(config_quiet_at(day, 11 * 60));
	for (guint m = 0; m < 24 * 60; m++) {
		g_assert_false(config_quiet_at(none, m));
	}
}

static void test_rules_describe(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(config) cfg = load(rules_text, &error);
	g_autofree char *text = NULL;

	g_assert_no_error(error);
	text = config_describe(cfg);
	g_assert_nonnull(strstr(text, "  quiet_hours: 22:00-07:30\n"));
	g_assert_nonnull(strstr(text, "  on_new: mbsync work\n  on_state: notify-send "
	                              "'imapwatch state'\n  hook_delay: 5s\n  hook_max_delay: "
	                              "30s\n  hook_timeout: 1m\n"));
	g_assert_nonnull(strstr(text, "\n[rule lists]\n  account: work\n  folder: Lists/*\n  "
	                              "from: (any)\n  notify: false\n  on_new: sh -c 'notmuch "
	                              "new'\n"));
	g_assert_nonnull(strstr(text, "[rule boss]\n  account: (any)\n  folder: (any)\n  from: "
	                              "boss@example.com\n  notify: true\n  urgency: critical\n"));
}

static const struct config_error_case error_cases[] = {
    {"[account a]\n" ACCOUNT "on_new = mbsync 'a\n",
     "test.conf:5: [account a] key 'on_new': a quote is not closed, or a backslash ends the "
     "command; the command is split into words as a shell would, but no shell runs it "
     "(write sh -c '…' for pipes and &&)"},
    {"[account a]\n" ACCOUNT "hook_delay = 11m\n",
     "test.conf:5: [account a] key 'hook_delay': 11m is out of range; use a value from 0s "
     "to 10m"},
    {"[daemon]\nquiet_hours = 22-7\n[account a]\n" ACCOUNT,
     "test.conf:2: [daemon] key 'quiet_hours': '22-7' is not a time span; write it like "
     "22:00-07:00 (24-hour clock, local time)"},
    {"[daemon]\nquiet_hours = 24:00-07:00\n[account a]\n" ACCOUNT,
     "test.conf:2: [daemon] key 'quiet_hours': '24:00-07:00' is not a time span; write it "
     "like 22:00-07:00 (24-hour clock, local time)"},
    {"[daemon]\nquiet_hours = 7:00-07:00\n[account a]\n" ACCOUNT,
     "test.conf:2: [daemon] key 'quiet_hours': '7:00-07:00' starts and ends at the same "
     "time; remove the line for no quiet hours"},
    {"[account a]\n" ACCOUNT "[rule]\nnotify = false\n",
     "test.conf:5: the rule has no name; write [rule NAME], e.g. [rule newsletters]"},
    {"[account a]\n" ACCOUNT "[rule r]\nfolder = INBOX\n",
     "test.conf:5: [rule r]: the rule sets nothing; add notify, urgency, sound, content, "
     "on_new, on_changed or on_removed"},
    {"[account a]\n" ACCOUNT "[rule r]\nfrom = x@y\non_removed = true\n",
     "test.conf:7: [rule r] key 'on_removed': a rule with from matches new mail only "
     "(changes and removals carry no sender); move this line to a rule without from"},
    {"[account a]\n" ACCOUNT "[rule r]\nurgency = high\n",
     "test.conf:6: [rule r] key 'urgency': 'high' is not one of low, normal, critical"},
    {"[account a]\n" ACCOUNT "[rule r]\nsound = bell!\n",
     "test.conf:6: [rule r] key 'sound': 'bell!' is neither a sound name (like "
     "message-new-email) nor a file (an absolute path or one starting with ~/); write none "
     "for silence"},
    {"[account a]\n" ACCOUNT "[rule r]\nsound = ~/config/none.oga\n",
     "test.conf:6: [rule r] key 'sound': cannot read '%s/config/none.oga': No such file or "
     "directory"},
    {"[account a]\n" ACCOUNT "[rule r]\nhost = x\n",
     "test.conf:6: [rule r] key 'host': this key belongs in an [account NAME] group"},
    {"[account a]\n" ACCOUNT "[rule r]\nfolders = x\n",
     "test.conf:6: [rule r] key 'folders': unknown key; did you mean 'folder'?"},
    {"[account a]\n" ACCOUNT "[rule r]\non_state = x\n",
     "test.conf:6: [rule r] key 'on_state': this key belongs in an [account NAME] group"},
    {"[account a]\n" ACCOUNT "urgency = low\n",
     "test.conf:5: [account a] key 'urgency': this key belongs in a [rule NAME] group"},
    {"[account a]\n" ACCOUNT "[rules x]\n",
     "test.conf:5: unknown group [rules x]; did you mean '[rule x]'?"},
};

static void test_rules_errors(void)
{
	assert_config_errors(error_cases, G_N_ELEMENTS(error_cases), TEST_DATA_DIR);
}

int main(int argc, char **argv)
{
	g_setenv("HOME", TEST_DATA_DIR, TRUE);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config-rules/notice", test_rules_notice);
	g_test_add_func("/config-rules/hooks", test_rules_hooks);
	g_test_add_func("/config-rules/quiet-hours", test_rules_quiet_hours);
	g_test_add_func("/config-rules/describe", test_rules_describe);
	g_test_add_func("/config-rules/errors", test_rules_errors);
	return g_test_run();
}
