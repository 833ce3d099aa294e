/* SPDX-License-Identifier: MIT */
/*
 * The CLI's pure helpers: times for people, terminal widths, aligned
 * tables, JSON from GVariants, and watch events rebuilt from signal
 * dictionaries (which must print exactly as --print-events does).
 */
#include "imapwatch/ctl/ctl-format.h"
#include "imapwatch/ctl/ctl-table.h"

#include <string.h>

static void test_ago(void)
{
	static const struct {
		gint64 when;
		const char *text;
	} cases[] = {
	    {0, "never"},
	    {1000, "just now"},
	    {996, "just now"},
	    {990, "10 s ago"},
	    {940, "1 min ago"},
	    {1000 - 3599, "59 min ago"},
	    {1000 - 3600, "1 h ago"},
	    {1000 - 2 * 86400 + 1, "47 h ago"},
	    {1000 - 3 * 86400, "3 days ago"},
	    {1061, "in the future"},
	    {1030, "just now"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = ctl_format_ago(cases[i].when, 1000);

		g_assert_cmpstr(text, ==, cases[i].text);
	}
}

static void test_duration(void)
{
	static const struct {
		guint64 seconds;
		const char *text;
	} cases[] = {
	    {0, "0 s"},           {59, "59 s"},
	    {60, "1 min"},        {3599, "59 min"},
	    {3600, "1 h 0 min"},  {7322, "2 h 2 min"},
	    {86400, "1 day 0 h"}, {3 * 86400 + 7200, "3 days 2 h"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = ctl_format_duration(cases[i].seconds);

		g_assert_cmpstr(text, ==, cases[i].text);
	}
}

static void test_width(void)
{
	g_assert_cmpuint(ctl_format_width(""), ==, 0);
	g_assert_cmpuint(ctl_format_width("INBOX"), ==, 5);
	g_assert_cmpuint(ctl_format_width("Ünïcødé"), ==, 7);
	g_assert_cmpuint(ctl_format_width("e\xcc\x81"), ==, 1); /* e + combining acute */
	g_assert_cmpuint(ctl_format_width("\xe6\x97\xa5\xe6\x9c\xac"), ==, 4); /* 日本 */
	g_assert_cmpuint(ctl_format_width("a\xff"), ==, 2);                    /* invalid: bytes */
}

static void test_table(void)
{
	struct ctl_table *t = ctl_table_new(3, false);
	const char *cells[] = {"A", "BB", "C", "Ünï", "x", "", "long one", "", "end"};

	for (size_t i = 0; i < G_N_ELEMENTS(cells); i++) {
		ctl_table_add(t, cells[i], "1");
	}
	g_autofree char *text = ctl_table_render(t);
	ctl_table_free(t);
	g_assert_cmpstr(text, ==,
	                "A         BB  C\n"
	                "Ünï       x\n"
	                "long one      end\n");
}

static void test_table_colour(void)
{
	struct ctl_table *t = ctl_table_new(2, true);

	ctl_table_add(t, "a", "31");
	ctl_table_add(t, "b", NULL);
	ctl_table_add(t, "ccc", NULL);
	ctl_table_add(t, "d", "1");
	g_autofree char *text = ctl_table_render(t);
	ctl_table_free(t);
	/* Escape codes do not count towards widths. */
	g_assert_cmpstr(text, ==, "\033[31ma\033[0m    b\nccc  \033[1md\033[0m\n");
}

static void test_ellipsize(void)
{
	static const struct {
		const char *text;
		gsize width;
		const char *cut;
	} cases[] = {
	    {"Lunch?", 6, "Lunch?"},
	    {"Lunch?", 5, "Lunc…"},
	    {"Lunch?", 1, "…"},
	    {"Lunch?", 0, ""},
	    {"", 0, ""},
	    {"Grüße aus Köln", 7, "Grüße…"}, /* the blank before the cut goes */
	    {"Grüße aus Köln", 8, "Grüße a…"},
	    /* 日本語のメール: two columns a character; one that would end
	     * past the width is left out whole. */
	    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae", 8,
	     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae"},
	    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae", 7,
	     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e…"},
	    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae", 6, "\xe6\x97\xa5\xe6\x9c\xac…"},
	    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae", 2, "…"},
	    /* Combining marks stay with their letter. */
	    {"Cafe\xcc\x81 au lait", 6, "Cafe\xcc\x81…"},
	    {"a\377bcdef", 4, "a\357\277\275b…"}, /* invalid: made valid first (U+FFFD) */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *cut = ctl_format_ellipsize(cases[i].text, cases[i].width);

		g_assert_cmpstr(cut, ==, cases[i].cut);
		g_assert_cmpuint(ctl_format_width(cut), <=, cases[i].width);
	}
}

/* A row of the list: the id and date stay whole, sender and subject give
 * up columns, the widest first, down to their minimum. */
static char *fitted(gsize width, const char *from, const char *subject)
{
	struct ctl_table *t = ctl_table_new(4, false);
	const char *cells[] = {"ID", "DATE", "FROM", "SUBJECT", "w/INBOX/7/42", "2025-11-25 10:00",
	                       from, subject};

	ctl_table_set_shrinkable(t, 2, 6);
	ctl_table_set_shrinkable(t, 3, 8);
	for (size_t i = 0; i < G_N_ELEMENTS(cells); i++) {
		ctl_table_add(t, cells[i], NULL);
	}
	char *text = ctl_table_render_width(t, width);
	ctl_table_free(t);
	return text;
}

static void test_table_fit(void)
{
	/* 12 + 2 + 16 + 2 = 32 columns before the sender. */
	g_autofree char *whole = fitted(0, "Alice Example", "Lunch on Friday?");
	g_assert_cmpstr(whole, ==,
	                "ID            DATE              FROM           SUBJECT\n"
	                "w/INBOX/7/42  2025-11-25 10:00  Alice Example  Lunch on Friday?\n");
	g_autofree char *roomy = fitted(63, "Alice Example", "Lunch on Friday?");
	g_assert_cmpstr(roomy, ==, whole);
	/* One column short: the subject, the wider, gives it. */
	g_autofree char *one = fitted(62, "Alice Example", "Lunch on Friday?");
	g_assert_cmpstr(one, ==,
	                "ID            DATE              FROM           SUBJECT\n"
	                "w/INBOX/7/42  2025-11-25 10:00  Alice Example  Lunch on Frida…\n");
	/* Both shrink once they are as wide. */
	g_autofree char *both = fitted(54, "Alice Example", "Lunch on Friday?");
	g_assert_cmpstr(both, ==,
	                "ID            DATE              FROM        SUBJECT\n"
	                "w/INBOX/7/42  2025-11-25 10:00  Alice Exa…  Lunch on…\n");
	/* Never below the minimum: the row is then wider than asked. */
	g_autofree char *narrow = fitted(20, "Alice Example", "Lunch on Friday?");
	g_assert_cmpstr(narrow, ==,
	                "ID            DATE              FROM    SUBJECT\n"
	                "w/INBOX/7/42  2025-11-25 10:00  Alice…  Lunch o…\n");
	/* Wide characters: the row fits the width however the cut falls. */
	const char *kanji = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe4\xbb\xb6"
	                    "\xe5\x90\x8d\xe3\x81\xa7\xe3\x81\x99";
	for (gsize width = 50; width <= 60; width++) {
		g_autofree char *text = fitted(width, "Grüße aus Köln", kanji);
		g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

		for (size_t i = 0; lines[i] != NULL; i++) {
			g_assert_cmpuint(ctl_format_width(lines[i]), <=, width);
		}
		g_assert_nonnull(strstr(lines[1], "w/INBOX/7/42  2025-11-25 10:00  "));
	}
}

static void test_json(void)
{
	static const struct {
		const char *variant;
		const char *json;
	} cases[] = {
	    {"{'a': <uint32 1>, 'b': <[{'c': <int64 -2>}]>}", "{\"a\":1,\"b\":[{\"c\":-2}]}"},
	    {"@a{sv} {}", "{}"},
	    {"@aa{sv} []", "[]"},
	    {"['x\"y', 'tab\\there']", "[\"x\\\"y\",\"tab\\there\"]"},
	    {"(true, false, uint64 18446744073709551615)", "[true,false,18446744073709551615]"},
	    {"{'ctl': <'\\u0001'>}", "{\"ctl\":\"\\u0001\"}"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) v = g_variant_parse(NULL, cases[i].variant, NULL, NULL, &error);
		g_autoptr(GString) out = g_string_new(NULL);

		g_assert_no_error(error);
		ctl_format_json(out, v);
		g_assert_cmpstr(out->str, ==, cases[i].json);
	}
}

static void test_event_from_dict(void)
{
	static const struct {
		enum watch_event_type type;
		const char *dict;
		const char *json;
	} cases[] = {
	    {WATCH_EVENT_NEW,
	     "{'id': <'w/INBOX/7/42'>, 'account': <'w'>, 'folder': <'INBOX'>, 'uid': <uint32 42>,"
	     " 'uidvalidity': <uint32 7>, 'message_id': <'<m@x>'>, 'from_name': <'Al \"A\"'>,"
	     " 'from_addr': <'a@x'>, 'subject': <'Hi'>, 'date': <int64 1764000000>,"
	     " 'flags': <@as []>, 'seen': <false>}",
	     "{\"event\":\"new\",\"account\":\"w\",\"folder\":\"INBOX\",\"uidvalidity\":7,\"uid\":"
	     "42,"
	     "\"id\":\"w/INBOX/7/42\",\"message_id\":\"<m@x>\",\"from_name\":\"Al \\\"A\\\"\","
	     "\"from_addr\":\"a@x\",\"subject\":\"Hi\",\"date\":1764000000,\"flags\":[],"
	     "\"seen\":false}"},
	    {WATCH_EVENT_NEW,
	     "{'account': <'w'>, 'folder': <'INBOX'>, 'uid': <uint32 1>, 'uidvalidity': <uint32 7>,"
	     " 'catchup': <true>, 'flags': <['\\\\Seen']>, 'seen': <true>}",
	     "{\"event\":\"new\",\"account\":\"w\",\"folder\":\"INBOX\",\"uidvalidity\":7,\"uid\":"
	     "1,"
	     "\"id\":\"w/INBOX/7/1\",\"message_id\":\"\",\"from_name\":\"\",\"from_addr\":\"\","
	     "\"subject\":\"\",\"date\":0,\"catchup\":true,\"flags\":[\"\\\\Seen\"],\"seen\":"
	     "true}"},
	    {WATCH_EVENT_CHANGED,
	     "{'account': <'w'>, 'folder': <'A/B'>, 'uid': <uint32 3>, 'uidvalidity': <uint32 9>,"
	     " 'flags': <['\\\\Seen', '$Junk']>, 'seen': <true>}",
	     "{\"event\":\"changed\",\"account\":\"w\",\"folder\":\"A/B\",\"uidvalidity\":9,"
	     "\"uid\":3,\"id\":\"w/A/B/9/3\",\"flags\":[\"\\\\Seen\",\"$Junk\"],\"seen\":true}"},
	    {WATCH_EVENT_REMOVED,
	     "{'account': <'w'>, 'folder': <'INBOX'>, 'uid': <uint32 3>, 'uidvalidity': <uint32 "
	     "9>}",
	     "{\"event\":\"removed\",\"account\":\"w\",\"folder\":\"INBOX\",\"uidvalidity\":9,"
	     "\"uid\":3,\"id\":\"w/INBOX/9/3\"}"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) dict =
		    g_variant_parse(G_VARIANT_TYPE_VARDICT, cases[i].dict, NULL, NULL, &error);
		struct watch_event ev;
		g_autofree const char **flags = NULL;

		g_assert_no_error(error);
		ctl_format_event_from_dict(dict, cases[i].type, &ev, &flags);
		g_autofree char *json = watch_event_to_json(&ev);
		g_assert_cmpstr(json, ==, cases[i].json);
	}
}

/* FolderReset's arguments: the same JSON as --print-events, and a line
 * for people. */
static void test_reset(void)
{
	static const struct {
		const char *args;
		const char *json;
		const char *text;
	} cases[] = {
	    {"('work', 'INBOX', uint32 1700000002, uint32 1700000001, uint32 12, uint32 3)",
	     "{\"event\":\"reset\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":"
	     "1700000002,\"previous_uidvalidity\":1700000001,\"count\":12,\"unseen\":3}",
	     "was reset by the server: 12 messages, 3 unread"},
	    {"('w', 'Lists/dev \"x\"', uint32 9, uint32 7, uint32 1, uint32 0)",
	     "{\"event\":\"reset\",\"account\":\"w\",\"folder\":\"Lists/dev \\\"x\\\"\","
	     "\"uidvalidity\":9,\"previous_uidvalidity\":7,\"count\":1,\"unseen\":0}",
	     "was reset by the server: 1 message, 0 unread"},
	};
	static const char *const wrong[] = {
	    "('w', 'INBOX', uint32 3)",
	    "('w', 'INBOX', uint32 9, uint32 7, uint32 1)",
	    "('w', 'INBOX', 9, 7, 1, 0)",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) args = g_variant_parse(NULL, cases[i].args, NULL, NULL, &error);
		struct watch_event ev;

		g_assert_no_error(error);
		g_assert_true(ctl_format_event_from_reset(args, &ev));
		g_autofree char *json = watch_event_to_json(&ev);
		g_autofree char *text = ctl_format_reset_text(&ev);
		g_assert_cmpstr(json, ==, cases[i].json);
		g_assert_cmpstr(text, ==, cases[i].text);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(wrong); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) args = g_variant_parse(NULL, wrong[i], NULL, NULL, &error);
		struct watch_event ev = {.type = WATCH_EVENT_STATE};

		g_assert_no_error(error);
		g_assert_false(ctl_format_event_from_reset(args, &ev));
		g_assert_cmpint(ev.type, ==, WATCH_EVENT_STATE);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ctl-format/ago", test_ago);
	g_test_add_func("/ctl-format/duration", test_duration);
	g_test_add_func("/ctl-format/width", test_width);
	g_test_add_func("/ctl-format/table", test_table);
	g_test_add_func("/ctl-format/table-colour", test_table_colour);
	g_test_add_func("/ctl-format/ellipsize", test_ellipsize);
	g_test_add_func("/ctl-format/table-fit", test_table_fit);
	g_test_add_func("/ctl-format/json", test_json);
	g_test_add_func("/ctl-format/event-from-dict", test_event_from_dict);
	g_test_add_func("/ctl-format/reset", test_reset);
	return g_test_run();
}
