/* SPDX-License-Identifier: MIT */
/*
 * The JSON form of watch events: the fixed contract of the README ("Events") that
 * `imapwatchd --print-events` and `imapwatch monitor --json` print.
 */
#include "imapwatch/core/event.h"

#include <glib.h>

static void test_json(void)
{
	static const char *const seen[] = {"\\Seen", NULL};
	static const char *const none[] = {NULL};
	static const struct {
		struct watch_event event;
		const char *json;
	} cases[] = {
	    {{.type = WATCH_EVENT_NEW,
	      .account = "w",
	      .folder = "INBOX",
	      .uidvalidity = 7,
	      .uid = 42,
	      .message_id = "<m@x>",
	      .from_name = "Al",
	      .from_addr = "a@x",
	      .subject = "Hi",
	      .date = 1764000000,
	      .flags = none},
	     "{\"event\":\"new\",\"account\":\"w\",\"folder\":\"INBOX\",\"uidvalidity\":7,\"uid\":"
	     "42,"
	     "\"id\":\"w/INBOX/7/42\",\"message_id\":\"<m@x>\",\"from_name\":\"Al\",\"from_addr\":"
	     "\"a@x\",\"subject\":\"Hi\",\"date\":1764000000,\"flags\":[],\"seen\":false}"},
	    /* Gmail's id, as a string (beyond a double's precision). */
	    {{.type = WATCH_EVENT_NEW,
	      .account = "g",
	      .folder = "INBOX",
	      .uidvalidity = 1,
	      .uid = 2,
	      .message_id = "",
	      .from_name = "",
	      .from_addr = "",
	      .subject = "",
	      .gm_msgid = 1278455344230334865u,
	      .flags = none},
	     "{\"event\":\"new\",\"account\":\"g\",\"folder\":\"INBOX\",\"uidvalidity\":1,\"uid\":"
	     "2,"
	     "\"id\":\"g/INBOX/1/2\",\"message_id\":\"\",\"from_name\":\"\",\"from_addr\":\"\","
	     "\"subject\":\"\",\"date\":0,\"gm_msgid\":\"1278455344230334865\",\"flags\":[],"
	     "\"seen\":false}"},
	    {{.type = WATCH_EVENT_CHANGED,
	      .account = "w",
	      .folder = "INBOX",
	      .uidvalidity = 7,
	      .uid = 42,
	      .flags = seen,
	      .seen = true},
	     "{\"event\":\"changed\",\"account\":\"w\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
	     "\"uid\":42,\"id\":\"w/INBOX/7/42\",\"flags\":[\"\\\\Seen\"],\"seen\":true}"},
	    {{.type = WATCH_EVENT_REMOVED,
	      .account = "w",
	      .folder = "INBOX",
	      .uidvalidity = 7,
	      .uid = 42},
	     "{\"event\":\"removed\",\"account\":\"w\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
	     "\"uid\":42,\"id\":\"w/INBOX/7/42\"}"},
	    {{.type = WATCH_EVENT_UNSEEN, .account = "w", .folder = "INBOX", .count = 3},
	     "{\"event\":\"unseen\",\"account\":\"w\",\"folder\":\"INBOX\",\"count\":3}"},
	    {{.type = WATCH_EVENT_STATE, .account = "w", .state = "backoff", .detail = "a \"b\""},
	     "{\"event\":\"state\",\"account\":\"w\",\"state\":\"backoff\",\"detail\":\"a "
	     "\\\"b\\\"\"}"},
	    {{.type = WATCH_EVENT_RESET,
	      .account = "w",
	      .folder = "INBOX",
	      .uidvalidity = 1700000002,
	      .previous_uidvalidity = 1700000001,
	      .count = 12,
	      .unseen = 3},
	     "{\"event\":\"reset\",\"account\":\"w\",\"folder\":\"INBOX\",\"uidvalidity\":"
	     "1700000002,"
	     "\"previous_uidvalidity\":1700000001,\"count\":12,\"unseen\":3}"},
	    /* An emptied folder, and the largest values a server can send. */
	    {{.type = WATCH_EVENT_RESET,
	      .account = "w",
	      .folder = "Lists/dev",
	      .uidvalidity = 4294967295u,
	      .previous_uidvalidity = 1},
	     "{\"event\":\"reset\",\"account\":\"w\",\"folder\":\"Lists/dev\",\"uidvalidity\":"
	     "4294967295,\"previous_uidvalidity\":1,\"count\":0,\"unseen\":0}"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *json = watch_event_to_json(&cases[i].event);

		g_test_message("case %zu", i);
		g_assert_cmpstr(json, ==, cases[i].json);
	}
}

static void test_type_names(void)
{
	g_assert_cmpstr(watch_event_type_name(WATCH_EVENT_NEW), ==, "new");
	g_assert_cmpstr(watch_event_type_name(WATCH_EVENT_CHANGED), ==, "changed");
	g_assert_cmpstr(watch_event_type_name(WATCH_EVENT_REMOVED), ==, "removed");
	g_assert_cmpstr(watch_event_type_name(WATCH_EVENT_UNSEEN), ==, "unseen");
	g_assert_cmpstr(watch_event_type_name(WATCH_EVENT_STATE), ==, "state");
	g_assert_cmpstr(watch_event_type_name(WATCH_EVENT_RESET), ==, "reset");
	g_assert_cmpstr(watch_event_type_name((enum watch_event_type)99), ==, "unknown");
}

static void test_escaping(void)
{
	struct watch_event ev = {
	    .type = WATCH_EVENT_RESET,
	    .account = "a\\b",
	    .folder = "tab\there\x01",
	    .uidvalidity = 2,
	    .previous_uidvalidity = 1,
	};
	g_autofree char *json = watch_event_to_json(&ev);

	g_assert_cmpstr(
	    json, ==,
	    "{\"event\":\"reset\",\"account\":\"a\\\\b\",\"folder\":\"tab\\there\\u0001\","
	    "\"uidvalidity\":2,\"previous_uidvalidity\":1,\"count\":0,\"unseen\":0}");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/event/json", test_json);
	g_test_add_func("/event/type-names", test_type_names);
	g_test_add_func("/event/escaping", test_escaping);
	return g_test_run();
}
