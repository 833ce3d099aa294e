/* SPDX-License-Identifier: MIT */
/*
 * The templates of --format and --offline (ctl_template): parsing and its
 * errors, the check against the daemon's accounts, rendering.
 */
#include "imapwatch/ctl/ctl-template.h"

#include "ctl-bar-harness.h"

#include <string.h>

static char *render(const char *text, const struct ctl_bar_status *s)
{
	g_autofree char *error = NULL;
	g_autoptr(ctl_template) t = ctl_template_parse(text, false, &error);

	g_assert_null(error);
	g_assert_nonnull(t);
	return ctl_template_render(t, s);
}

static void test_template_render(void)
{
	static const struct {
		const char *template, *text;
	} cases[] = {
	    {"", ""},
	    {"plain", "plain"},
	    {"{unseen}", "4"},
	    {"✉ {unseen} ({state})", "✉ 4 (error)"},
	    {"{accounts}", "2"},
	    {"{unseen:work}/{unseen:home}", "4/0"},
	    {"{unseen:work/INBOX}+{unseen:work/Lists/dev}", "3+1"},
	    /* INBOX in any case (RFC 3501 §5.1), other folders exactly. */
	    {"{unseen:work/inbox} {unseen:work/Inbox} {unseen:work/lists/dev}", "3 3 ?"},
	    {"{state:work} {state:home}", "idle error"},
	    {"{{unseen}} {{{unseen}}} }}{{", "{unseen} {4} }{"},
	    {"{unseen:nobody} {unseen:work/Nope} {state:nobody}", "? ? ?"},
	    {"%{{F#f00}}{unseen}%{{F-}}", "%{F#f00}4%{F-}"},
	};
	g_autoptr(ctl_bar_status) s = status_of("idle", "error", "'x'");
	g_autoptr(ctl_bar_status) none = ctl_bar_status_new_offline();

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = render(cases[i].template, s);

		g_assert_cmpstr(text, ==, cases[i].text);
	}
	/* Against a daemon that is not running (a template rendered where
	 * the offline text would be): nothing known. */
	g_autofree char *off = render("{unseen} {state} {state:work} {accounts}", none);
	g_assert_cmpstr(off, ==, "0 offline offline 0");
}

static void test_template_errors(void)
{
	static const struct {
		const char *template;
		bool offline;
		const char *error; /* a part of the message */
	} cases[] = {
	    {"{unseen", false, "the '{' at character 1 opens a field that is not closed"},
	    {"a{b{unseen}", false, "the '{' at character 2"},
	    {"日本{", false, "character 3"},
	    {"}", false, "the '}' at character 1 closes no field; write }} for a brace"},
	    {"{unseen}}", false, "character 9"},
	    {"{}", false, "unknown field '{}'"},
	    {"{Unseen}", false,
	     "unknown field '{Unseen}'; the fields are {unseen}, {state}, "
	     "{accounts}, {unseen:ACCOUNT}, {state:ACCOUNT} and "
	     "{unseen:ACCOUNT/FOLDER}"},
	    {"{accounts:work}", false, "unknown field '{accounts:work}'"},
	    {"{state:work/INBOX}", false, "a state is an account's, not a folder's"},
	    {"{unseen:}", false, "'{unseen:}' names no account"},
	    {"{unseen:/INBOX}", false, "names no account"},
	    {"{unseen:work/}", false, "'{unseen:work/}' names no folder"},
	    {"\xff", false, "not valid UTF-8"},
	    {"{unseen}", true, "'{unseen}' is not known while imapwatchd is not running"},
	    {"{accounts}", true, "knows only {state} and {state:ACCOUNT}"},
	    {"{unseen:work/INBOX}", true, "not known"},
	    {"{bogus}", true, "unknown field '{bogus}'"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *error = NULL;
		g_autoptr(ctl_template) t =
		    ctl_template_parse(cases[i].template, cases[i].offline, &error);

		g_assert_null(t);
		g_assert_nonnull(error);
		if (strstr(error, cases[i].error) == NULL) {
			g_error("template '%s': '%s' is not in '%s'", cases[i].template,
			        cases[i].error, error);
		}
	}
	/* What the offline text may say. */
	g_autofree char *error = NULL;
	g_autoptr(ctl_template) t = ctl_template_parse("{state} {state:work} {{x}}", true, &error);
	g_assert_nonnull(t);
	g_autoptr(ctl_bar_status) none = ctl_bar_status_new_offline();
	g_autofree char *text = ctl_template_render(t, none);
	g_assert_cmpstr(text, ==, "offline offline {x}");
}

static void test_template_check(void)
{
	static const struct {
		const char *template;
		const char *error; /* NULL: fine */
	} cases[] = {
	    {"{unseen} {state} {accounts}", NULL},
	    {"{unseen:work} {state:home} {unseen:work/Lists/dev}", NULL},
	    {"{unseen:nobody}",
	     "the field '{unseen:nobody}' names no account of imapwatchd's; its accounts are: "
	     "work, home"},
	    {"{state:Work}", "'{state:Work}' names no account"},
	    {"{unseen:work/Lists}",
	     "the field '{unseen:work/Lists}' names a folder that account 'work' does not watch; "
	     "it watches: INBOX, Lists/dev"},
	    {"{unseen:home/INBOX} {unseen:home/Sent}", "'{unseen:home/Sent}'"},
	    {"{unseen:home/inbox}", NULL},
	    {"{unseen:work/lists/dev}", "'{unseen:work/lists/dev}' names a folder"},
	};
	g_autoptr(ctl_bar_status) s = status_of("idle", "idle", "''");

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *parse_error = NULL, *error = NULL;
		g_autoptr(ctl_template) t =
		    ctl_template_parse(cases[i].template, false, &parse_error);

		g_assert_nonnull(t);
		if (cases[i].error == NULL) {
			g_assert_true(ctl_template_check(t, s, &error));
			g_assert_null(error);
		} else {
			g_assert_false(ctl_template_check(t, s, &error));
			g_assert_nonnull(strstr(error, cases[i].error));
		}
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ctl-template/render", test_template_render);
	g_test_add_func("/ctl-template/errors", test_template_errors);
	g_test_add_func("/ctl-template/check", test_template_check);
	return g_test_run();
}
