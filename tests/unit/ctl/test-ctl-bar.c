/* SPDX-License-Identifier: MIT */
/*
 * What status bars show: the daemon's GetStatus reduced (ctl_bar), the
 * overall state in the daemon's order of precedence, waybar's objects.
 */
#include "imapwatch/ctl/ctl-bar.h"

#include "ctl-bar-harness.h"

#include <string.h>

static void test_status(void)
{
	g_autoptr(ctl_bar_status) s = status_of("idle", "error", "'wrong password'");
	const struct ctl_bar_account *work = ctl_bar_status_account(s, "work");
	const struct ctl_bar_account *home = ctl_bar_status_account(s, "home");

	g_assert_true(s->running);
	g_assert_cmpuint(s->unseen, ==, 4);
	g_assert_cmpuint(s->accounts->len, ==, 2);
	g_assert_nonnull(work);
	g_assert_cmpuint(work->unseen, ==, 4);
	g_assert_cmpstr(work->state, ==, "idle");
	g_assert_cmpuint(ctl_bar_account_folder(work, "Lists/dev")->unseen, ==, 1);
	g_assert_null(ctl_bar_account_folder(work, "Lists"));
	g_assert_cmpstr(home->detail, ==, "wrong password");
	g_assert_null(ctl_bar_status_account(s, "Work"));

	/* Missing keys and other types read as empty. */
	g_autoptr(GVariant) odd = g_variant_ref_sink(
	    g_variant_new_parsed("{'total_unseen': <'many'>, 'accounts': <[{'name': <7>}]>}"));
	g_autoptr(ctl_bar_status) o = ctl_bar_status_new(odd);
	g_assert_cmpuint(o->unseen, ==, 0);
	const struct ctl_bar_account *a = g_ptr_array_index(o->accounts, 0);
	g_assert_cmpstr(a->name, ==, "");
	g_assert_cmpuint(a->folders->len, ==, 0);
}

static void test_state(void)
{
	/* Two accounts: the worse state wins, in the daemon's order. */
	static const struct {
		const char *a, *b, *overall;
	} cases[] = {
	    {"idle", "idle", "idle"},
	    {"idle", "polling", "polling"},
	    {"syncing", "polling", "syncing"},
	    {"authenticating", "syncing", "authenticating"},
	    {"connecting", "authenticating", "connecting"},
	    {"disconnected", "connecting", "disconnected"},
	    {"backoff", "disconnected", "backoff"},
	    {"backoff", "error", "error"},
	    {"error", "idle", "error"},
	    {"disabled", "idle", "idle"},
	    {"disabled", "disabled", "disabled"},
	    /* A state of a newer daemon: ranked as disconnected, shown as is. */
	    {"paused", "idle", "paused"},
	    {"paused", "backoff", "backoff"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(ctl_bar_status) s = status_of(cases[i].a, cases[i].b, "''");

		g_assert_cmpstr(ctl_bar_state(s), ==, cases[i].overall);
	}
	g_autoptr(ctl_bar_status) none = ctl_bar_status_new_offline();
	g_assert_cmpstr(ctl_bar_state(none), ==, "offline");
	g_assert_cmpstr(ctl_bar_alt(none), ==, "offline");
	g_autoptr(GVariant) empty = g_variant_ref_sink(g_variant_new_parsed("@a{sv} {}"));
	g_autoptr(ctl_bar_status) no_accounts = ctl_bar_status_new(empty);
	g_assert_cmpstr(ctl_bar_state(no_accounts), ==, "disabled");
	g_assert_cmpstr(ctl_bar_alt(no_accounts), ==, "read");
}

static void test_tooltip_and_waybar(void)
{
	g_autoptr(ctl_bar_status) s = status_of("idle", "error", "'bad <cert> & \"name\"'");
	g_autofree char *tooltip = ctl_bar_tooltip(s);
	g_autofree char *waybar = ctl_bar_waybar(s, "<b>4</b>");

	g_assert_cmpstr(tooltip, ==,
	                "work: 4 unseen, idle\n"
	                "  INBOX: 3\n"
	                "  Lists/dev: 1\n"
	                "home: 0 unseen, error: bad <cert> & \"name\"\n"
	                "  INBOX: 0");
	g_assert_cmpstr(ctl_bar_alt(s), ==, "error");
	/* The text is the user's (markup kept); the tooltip is escaped. */
	g_assert_cmpstr(
	    waybar, ==,
	    "{\"text\":\"<b>4</b>\",\"alt\":\"error\",\"tooltip\":\"work: 4 unseen, "
	    "idle\\n  INBOX: 3\\n  Lists/dev: 1\\nhome: 0 unseen, error: bad &lt;cert&gt; "
	    "&amp; &quot;name&quot;\\n  INBOX: 0\",\"class\":[\"unread\",\"error\"]}");

	g_autoptr(ctl_bar_status) read = status_of("idle", "backoff", "'timed out'");
	read->unseen = 0;
	g_autofree char *read_line = ctl_bar_waybar(read, "0");
	g_assert_true(strstr(read_line, "\"alt\":\"read\"") != NULL);
	g_assert_true(g_str_has_suffix(read_line, "\"class\":[\"read\",\"backoff\"]}"));

	g_autoptr(ctl_bar_status) none = ctl_bar_status_new_offline();
	g_autofree char *offline = ctl_bar_waybar(none, "");
	g_assert_cmpstr(offline, ==,
	                "{\"text\":\"\",\"alt\":\"offline\",\"tooltip\":\"imapwatchd is not "
	                "running\",\"class\":[\"offline\"]}");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ctl-bar/status", test_status);
	g_test_add_func("/ctl-bar/state", test_state);
	g_test_add_func("/ctl-bar/tooltip-and-waybar", test_tooltip_and_waybar);
	return g_test_run();
}
