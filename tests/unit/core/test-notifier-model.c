/* SPDX-License-Identifier: MIT */
/*
 * The notifier model with new mail: a popup per message, bursts summed up
 * per folder, popups withdrawn when read or removed, forgotten when
 * closed, the catch-up summary, content options, clipping and limits.
 * Popups about no message (account errors, resets) are tested in
 * test-notifier-model-notices.c.
 */
#include "notifier-model-harness.h"

#include <string.h>

static void test_single(void)
{
	static const struct {
		enum config_content content;
		bool show_location;
		const char *from_name;
		const char *from_addr;
		const char *subject;
		const char *summary;
		const char *body;
	} cases[] = {
	    {CONFIG_CONTENT_FULL, false, "Alice", "a@x", "Lunch?", "Alice", "Lunch?"},
	    {CONFIG_CONTENT_FULL, true, "Alice", "a@x", "Lunch?", "Alice", "Lunch?\nwork/INBOX"},
	    {CONFIG_CONTENT_FULL, false, "", "a@x", "", "a@x", "(no subject)"},
	    {CONFIG_CONTENT_FULL, false, NULL, NULL, NULL, "Unknown sender", "(no subject)"},
	    {CONFIG_CONTENT_SENDER, false, "Alice", "a@x", "Secret", "Alice", "New message"},
	    {CONFIG_CONTENT_SENDER, true, "Alice", "a@x", "Secret", "Alice",
	     "New message\nwork/INBOX"},
	    {CONFIG_CONTENT_COUNT, false, "Alice", "a@x", "Secret", "New message", ""},
	    {CONFIG_CONTENT_COUNT, true, "Alice", "a@x", "Secret", "New message", "work/INBOX"},
	    /* Controls and bidi overrides never reach the screen. */
	    {CONFIG_CONTENT_FULL, false, "\u202eecilA\u202c", "a@x", "a\x01\x1b[31mb\r\nc", "ecilA",
	     "a[31mb c"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct notifier_model_options options = default_options;
		struct fixture f;
		struct watch_event ev = {
		    .type = WATCH_EVENT_NEW,
		    .account = "work",
		    .folder = "INBOX",
		    .uidvalidity = 7,
		    .uid = 1,
		    .from_name = cases[i].from_name,
		    .from_addr = cases[i].from_addr,
		    .subject = cases[i].subject,
		};
		const struct notifier_op *op;

		options.show_location = cases[i].show_location;
		fixture_init(&f, &options);
		f.notice.content = cases[i].content;
		g_test_message("case %zu", i);
		feed(&f, &ev, 0);
		g_assert_cmpuint(f.ops->len, ==, 1);
		op = op_at(f.ops, 0);
		g_assert_cmpint(op->type, ==, NOTIFIER_OP_SHOW);
		g_assert_cmpuint(op->slot, >, 0);
		g_assert_cmpstr(op->summary, ==, cases[i].summary);
		g_assert_cmpstr(op->body, ==, cases[i].body);
		g_assert_cmpuint(op->count, ==, 1);
		g_assert_cmpstr(op->category, ==, "email.arrived");
		g_assert_cmpstr(op->sound, ==, "message-new-email");
		g_assert_cmpint(op->urgency, ==, CONFIG_URGENCY_NORMAL);
		g_assert_false(op->only_if_shown);
		fixture_clear(&f);
	}
}

static void test_burst(void)
{
	struct fixture f;
	guint64 singles[3];
	guint64 summary;
	const struct notifier_op *op;

	fixture_init(&f, NULL);
	/* The first max messages: a popup each, at once. */
	for (uint32_t uid = 1; uid <= 3; uid++) {
		g_autofree char *subject = g_strdup_printf("s%u", uid);

		feed_new(&f, "INBOX", uid, subject, uid * SEC);
		g_assert_cmpuint(f.ops->len, ==, 1);
		op = op_at(f.ops, 0);
		g_assert_cmpint(op->type, ==, NOTIFIER_OP_SHOW);
		g_assert_cmpstr(op->body, ==, subject);
		singles[uid - 1] = op->slot;
	}
	g_assert_cmpuint(singles[0], !=, singles[1]);

	/* One more within the window: the three fold into the summary. */
	feed_new(&f, "INBOX", 4, "s4", 4 * SEC);
	g_assert_cmpuint(f.ops->len, ==, 4);
	for (guint i = 0; i < 3; i++) {
		op = op_at(f.ops, i);
		g_assert_cmpint(op->type, ==, NOTIFIER_OP_CLOSE);
		g_assert_cmpuint(op->slot, ==, singles[i]);
	}
	op = op_at(f.ops, 3);
	g_assert_cmpint(op->type, ==, NOTIFIER_OP_SHOW);
	g_assert_cmpstr(op->summary, ==, "4 new messages in work/INBOX");
	g_assert_cmpstr(op->body, ==, "s4\ns3\ns2");
	g_assert_cmpuint(op->count, ==, 4);
	g_assert_cmpstr(op->sound, ==, "message-new-email");
	summary = op->slot;

	/* The rest of the burst updates the same popup. */
	for (uint32_t uid = 5; uid <= 10; uid++) {
		g_autofree char *subject = g_strdup_printf("s%u", uid);

		feed_new(&f, "INBOX", uid, subject, (4 + uid) * SEC);
		g_assert_cmpuint(f.ops->len, ==, 1);
		op = op_at(f.ops, 0);
		g_assert_cmpuint(op->slot, ==, summary);
		g_assert_cmpuint(op->count, ==, uid);
	}
	g_assert_cmpstr(op->summary, ==, "10 new messages in work/INBOX");
	g_assert_cmpstr(op->body, ==, "s10\ns9\ns8");

	/* Another folder counts on its own. */
	feed_new(&f, "Lists", 1, "l1", 15 * SEC);
	g_assert_cmpuint(f.ops->len, ==, 1);
	g_assert_cmpuint(op_at(f.ops, 0)->count, ==, 1);

	/* After a quiet window, single popups again. */
	feed_new(&f, "INBOX", 11, "s11", 14 * SEC + WINDOW + 1);
	g_assert_cmpuint(f.ops->len, ==, 1);
	op = op_at(f.ops, 0);
	g_assert_cmpuint(op->count, ==, 1);
	g_assert_cmpuint(op->slot, !=, summary);

	/* A second burst reuses the folder's summary popup, counting anew. */
	for (uint32_t uid = 12; uid <= 14; uid++) {
		feed_new(&f, "INBOX", uid, "x", 15 * SEC + WINDOW);
	}
	op = op_at(f.ops, f.ops->len - 1);
	g_assert_cmpuint(op->slot, ==, summary);
	g_assert_cmpstr(op->summary, ==, "4 new messages in work/INBOX");
	fixture_clear(&f);
}

static void test_withdraw(void)
{
	struct fixture f;
	guint64 single;
	guint64 summary;
	const struct notifier_op *op;
	g_auto(GStrv) shown = NULL;

	fixture_init(&f, NULL);
	feed_new(&f, "Lists", 1, "one", 0);
	single = op_at(f.ops, 0)->slot;
	for (uint32_t uid = 1; uid <= 5; uid++) {
		feed_new(&f, "INBOX", uid, "x", uid);
	}
	summary = op_at(f.ops, 0)->slot;

	shown = notifier_model_get_shown_ids(f.model);
	g_assert_cmpuint(g_strv_length(shown), ==, 6);
	g_assert_cmpstr(shown[0], ==, "work/INBOX/7/1");
	g_assert_cmpstr(shown[5], ==, "work/Lists/7/1");

	/* A message read elsewhere closes its popup. */
	feed_seen(&f, "Lists", 1, WATCH_EVENT_CHANGED);
	g_assert_cmpuint(f.ops->len, ==, 1);
	op = op_at(f.ops, 0);
	g_assert_cmpint(op->type, ==, NOTIFIER_OP_CLOSE);
	g_assert_cmpuint(op->slot, ==, single);
	/* Twice is nothing. */
	g_assert_cmpuint(feed_seen(&f, "Lists", 1, WATCH_EVENT_REMOVED)->len, ==, 0);

	/* Unseen again is not a withdrawal. */
	struct watch_event unseen = {.type = WATCH_EVENT_CHANGED,
	                             .account = "work",
	                             .folder = "INBOX",
	                             .uidvalidity = 7,
	                             .uid = 1,
	                             .seen = false};
	g_assert_cmpuint(feed(&f, &unseen, 0)->len, ==, 0);

	/* A summary shrinks, silently and only if still shown... */
	for (uint32_t uid = 1; uid <= 4; uid++) {
		feed_seen(&f, "INBOX", uid, uid % 2 ? WATCH_EVENT_CHANGED : WATCH_EVENT_REMOVED);
		g_assert_cmpuint(f.ops->len, ==, 1);
		op = op_at(f.ops, 0);
		g_assert_cmpint(op->type, ==, NOTIFIER_OP_SHOW);
		g_assert_cmpuint(op->slot, ==, summary);
		g_assert_cmpuint(op->count, ==, 5 - uid);
		g_assert_null(op->sound);
		g_assert_true(op->only_if_shown);
	}
	g_assert_cmpstr(op->summary, ==, "1 new message in work/INBOX");
	/* ...and closes with its last message. */
	feed_seen(&f, "INBOX", 5, WATCH_EVENT_CHANGED);
	op = op_at(f.ops, 0);
	g_assert_cmpint(op->type, ==, NOTIFIER_OP_CLOSE);
	g_assert_cmpuint(op->slot, ==, summary);
	g_strfreev(shown);
	shown = notifier_model_get_shown_ids(f.model);
	g_assert_cmpuint(g_strv_length(shown), ==, 0);
	fixture_clear(&f);
}

static void test_forget(void)
{
	struct fixture f;
	guint64 slot;
	GPtrArray *messages;

	fixture_init(&f, NULL);
	feed_new(&f, "INBOX", 1, "a", 0);
	slot = op_at(f.ops, 0)->slot;
	messages = notifier_model_get_messages(f.model, slot);
	g_assert_cmpuint(messages->len, ==, 1);
	const struct notifier_message *m = messages->pdata[0];
	g_assert_cmpstr(m->id, ==, "work/INBOX/7/1");
	g_assert_cmpstr(m->account, ==, "work");
	g_assert_cmpstr(m->folder, ==, "INBOX");
	g_assert_cmpuint(m->uid, ==, 1);
	g_assert_cmpstr(m->message_id, ==, "<1.INBOX@x>");
	g_ptr_array_unref(messages);

	/* The popup expired: reading the message later closes nothing. */
	notifier_model_forget(f.model, slot);
	g_assert_null(notifier_model_get_messages(f.model, slot));
	g_assert_cmpuint(feed_seen(&f, "INBOX", 1, WATCH_EVENT_CHANGED)->len, ==, 0);
	notifier_model_forget(f.model, 999);

	/* The same message is not announced twice; a seen one not at all. */
	feed_new(&f, "INBOX", 2, "b", 0);
	g_assert_cmpuint(feed_new(&f, "INBOX", 2, "b", 0)->len, ==, 0);
	struct watch_event seen = {.type = WATCH_EVENT_NEW,
	                           .account = "work",
	                           .folder = "INBOX",
	                           .uidvalidity = 7,
	                           .uid = 3,
	                           .seen = true};
	g_assert_cmpuint(feed(&f, &seen, 0)->len, ==, 0);

	/* Summaries list their messages newest first. */
	for (uint32_t uid = 4; uid <= 6; uid++) {
		feed_new(&f, "INBOX", uid, "c", 1);
	}
	slot = op_at(f.ops, f.ops->len - 1)->slot;
	messages = notifier_model_get_messages(f.model, slot);
	g_assert_cmpuint(messages->len, ==, 4);
	g_assert_cmpuint(((const struct notifier_message *)messages->pdata[0])->uid, ==, 6);
	g_assert_cmpuint(((const struct notifier_message *)messages->pdata[3])->uid, ==, 2);
	g_ptr_array_unref(messages);

	/* An expired summary still counts: a withdrawal updates it only if
	 * shown, the next message of the burst shows all that are unseen. */
	notifier_model_forget(f.model, slot);
	feed_seen(&f, "INBOX", 6, WATCH_EVENT_CHANGED);
	g_assert_cmpuint(f.ops->len, ==, 1);
	g_assert_true(op_at(f.ops, 0)->only_if_shown);
	g_assert_cmpuint(op_at(f.ops, 0)->count, ==, 3);
	feed_new(&f, "INBOX", 7, "d", 2);
	g_assert_cmpuint(f.ops->len, ==, 1);
	g_assert_cmpuint(op_at(f.ops, 0)->slot, ==, slot);
	g_assert_cmpuint(op_at(f.ops, 0)->count, ==, 4);
	g_assert_false(op_at(f.ops, 0)->only_if_shown);

	/* The server went away: single popups are forgotten. */
	feed_new(&f, "Lists", 1, "e", 2);
	notifier_model_forget_all(f.model);
	g_assert_cmpuint(feed_seen(&f, "Lists", 1, WATCH_EVENT_CHANGED)->len, ==, 0);
	fixture_clear(&f);
}

static void test_catchup(void)
{
	static const struct {
		enum config_startup startup;
		guint ops; /* after three catch-up messages */
	} cases[] = {
	    {CONFIG_STARTUP_SUMMARY, 3},
	    {CONFIG_STARTUP_EACH, 3},
	    {CONFIG_STARTUP_SILENT, 0},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct notifier_model_options options = default_options;
		g_autoptr(GPtrArray) all =
		    g_ptr_array_new_with_free_func((GDestroyNotify)notifier_op_free);
		struct notifier_model *model;
		const char *folders[] = {"INBOX", "INBOX", "Lists"};

		options.startup = cases[i].startup;
		model = notifier_model_create(&options);
		for (uint32_t uid = 1; uid <= 3; uid++) {
			g_autofree char *subject = g_strdup_printf("c%u", uid);
			struct watch_event ev = {
			    .type = WATCH_EVENT_NEW,
			    .account = "work",
			    .folder = folders[uid - 1],
			    .uidvalidity = 7,
			    .uid = uid,
			    .from_addr = "a@x",
			    .subject = subject,
			    .catchup = true,
			};

			notifier_model_feed(model, &ev, &default_notice, 0, all);
		}
		g_assert_cmpuint(all->len, ==, cases[i].ops);
		if (cases[i].startup == CONFIG_STARTUP_SUMMARY) {
			const struct notifier_op *first = all->pdata[0];
			const struct notifier_op *last = all->pdata[2];

			g_assert_cmpuint(first->slot, ==, last->slot);
			g_assert_cmpstr(first->sound, ==, "message-new-email");
			g_assert_null(last->sound);
			g_assert_cmpstr(first->summary, ==,
			                "1 new message since imapwatch last ran");
			g_assert_cmpstr(first->body, ==, "c1");
			g_assert_cmpstr(last->summary, ==,
			                "3 new messages since imapwatch last ran");
			g_assert_cmpstr(last->body, ==, "work/INBOX: 2\nwork/Lists: 1\nc3\nc2\nc1");
		}
		if (cases[i].startup == CONFIG_STARTUP_EACH) {
			g_assert_cmpstr(((struct notifier_op *)all->pdata[2])->body, ==, "c3");
		}
		notifier_model_destroy(model);
	}
}

static void test_options(void)
{
	struct fixture f;

	fixture_init(&f, NULL);
	f.notice.sound = NULL;
	f.notice.content = CONFIG_CONTENT_COUNT;
	for (uint32_t uid = 1; uid <= 4; uid++) {
		feed_new(&f, "INBOX", uid, "secret", 0);
	}
	const struct notifier_op *op = op_at(f.ops, f.ops->len - 1);
	g_assert_null(op->sound);
	g_assert_cmpstr(op->summary, ==, "4 new messages in work/INBOX");
	g_assert_cmpstr(op->body, ==, "");

	/* Sender only: the summary names the senders of the messages that
	 * allow it, and no more. */
	f.notice.content = CONFIG_CONTENT_SENDER;
	feed_new(&f, "INBOX", 5, "secret", 0);
	g_assert_cmpstr(op_at(f.ops, 0)->body, ==, "Alice Example");
	feed_new(&f, "INBOX", 6, "secret", 0);
	feed_new(&f, "INBOX", 7, "secret", 0);
	g_assert_cmpstr(op_at(f.ops, 0)->body, ==, "Alice Example\nAlice Example\nAlice Example");
	fixture_clear(&f);
}

static void test_clip(void)
{
	static const struct {
		const char *in;
		guint max;
		const char *out;
	} cases[] = {
	    {"short", 10, "short"},
	    {"exactly10!", 10, "exactly10!"},
	    {"eleven char", 10, "eleven ch…"},
	    /* Spaces before the ellipsis go. */
	    {"abc def ghijk", 9, "abc def…"},
	    /* Never inside a character. */
	    {"ééééééééééé", 5, "éééé…"},
	    {"日本語のテキストです", 4, "日本語…"},
	    {"a\u202eb\u2066c", 10, "abc"},
	    {"", 3, ""},
	    {NULL, 3, ""},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = notifier_model_clip(cases[i].in, cases[i].max);

		g_assert_cmpstr(out, ==, cases[i].out);
		g_assert_true(g_utf8_validate(out, -1, NULL));
	}

	/* A long subject in a popup. */
	struct fixture f;
	g_autofree char *subject = g_strnfill(300, 'x');
	fixture_init(&f, NULL);
	feed_new(&f, "INBOX", 1, subject, 0);
	const char *body = op_at(f.ops, 0)->body;
	g_assert_cmpint(g_utf8_strlen(body, -1), ==, NOTIFIER_MODEL_SUBJECT_CHARS);
	g_assert_true(g_str_has_suffix(body, "…"));
	fixture_clear(&f);
}

static void test_limits(void)
{
	struct notifier_model_options options = default_options;
	struct fixture f;
	guint64 first;
	g_auto(GStrv) shown = NULL;

	/* Singles beyond the limit are forgotten, oldest first. */
	options.max = 20;
	fixture_init(&f, &options);
	for (uint32_t uid = 1; uid <= NOTIFIER_MODEL_MAX_SINGLES + 20; uid++) {
		g_autofree char *folder = g_strdup_printf("F%u", uid % 40);

		feed_new(&f, folder, uid, "x", 0);
		if (uid == 1) {
			first = op_at(f.ops, 0)->slot;
		}
	}
	g_assert_null(notifier_model_get_messages(f.model, first));
	shown = notifier_model_get_shown_ids(f.model);
	g_assert_cmpuint(g_strv_length(shown), ==, NOTIFIER_MODEL_MAX_SINGLES);
	fixture_clear(&f);

	/* A summary counts past what it keeps. */
	fixture_init(&f, NULL);
	for (uint32_t uid = 1; uid <= NOTIFIER_MODEL_MAX_SUMMED + 10; uid++) {
		feed_new(&f, "INBOX", uid, "x", 0);
	}
	g_assert_cmpuint(op_at(f.ops, 0)->count, ==, NOTIFIER_MODEL_MAX_SUMMED + 10);
	fixture_clear(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/notifier-model/single", test_single);
	g_test_add_func("/notifier-model/burst", test_burst);
	g_test_add_func("/notifier-model/withdraw", test_withdraw);
	g_test_add_func("/notifier-model/forget", test_forget);
	g_test_add_func("/notifier-model/catchup", test_catchup);
	g_test_add_func("/notifier-model/options", test_options);
	g_test_add_func("/notifier-model/clip", test_clip);
	g_test_add_func("/notifier-model/limits", test_limits);
	return g_test_run();
}
