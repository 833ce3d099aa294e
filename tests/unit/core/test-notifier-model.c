/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/notifier-model.h"

#include <string.h>

#define SEC    G_USEC_PER_SEC
#define WINDOW (30 * SEC)

static const struct notifier_model_options default_options = {
    .max = 3,
    .window = WINDOW,
    .startup = CONFIG_STARTUP_SUMMARY,
    .content = CONFIG_CONTENT_FULL,
    .show_location = false,
    .sound = true,
};

struct fixture {
	struct notifier_model *model;
	GPtrArray *ops;
};

static void fixture_init(struct fixture *f, const struct notifier_model_options *options)
{
	f->model = notifier_model_create(options ? options : &default_options);
	f->ops = g_ptr_array_new_with_free_func((GDestroyNotify)notifier_op_free);
}

static void fixture_clear(struct fixture *f)
{
	notifier_model_destroy(f->model);
	g_ptr_array_unref(f->ops);
}

/* Feeds one event and returns the ops it produced (reset per call). */
static GPtrArray *feed(struct fixture *f, const struct watch_event *ev, gint64 now)
{
	g_ptr_array_set_size(f->ops, 0);
	notifier_model_feed(f->model, ev, now, f->ops);
	return f->ops;
}

static GPtrArray *feed_new(struct fixture *f, const char *folder, uint32_t uid, const char *subject,
                           gint64 now)
{
	struct watch_event ev = {
	    .type = WATCH_EVENT_NEW,
	    .account = "work",
	    .folder = folder,
	    .uidvalidity = 7,
	    .uid = uid,
	    .message_id = "<m@x>",
	    .from_name = "Alice Example",
	    .from_addr = "alice@example.com",
	    .subject = subject,
	};

	return feed(f, &ev, now);
}

static GPtrArray *feed_seen(struct fixture *f, const char *folder, uint32_t uid,
                            enum watch_event_type type)
{
	struct watch_event ev = {
	    .type = type,
	    .account = "work",
	    .folder = folder,
	    .uidvalidity = 7,
	    .uid = uid,
	    .seen = true,
	};

	return feed(f, &ev, 0);
}

static const struct notifier_op *op_at(GPtrArray *ops, guint i)
{
	g_assert_cmpuint(i, <, ops->len);
	return ops->pdata[i];
}

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

		options.content = cases[i].content;
		options.show_location = cases[i].show_location;
		fixture_init(&f, &options);
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
		g_assert_true(op->sound);
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
	g_assert_true(op->sound);
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
		g_assert_false(op->sound);
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
	g_assert_cmpstr(m->message_id, ==, "<m@x>");
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

			notifier_model_feed(model, &ev, 0, all);
		}
		g_assert_cmpuint(all->len, ==, cases[i].ops);
		if (cases[i].startup == CONFIG_STARTUP_SUMMARY) {
			const struct notifier_op *first = all->pdata[0];
			const struct notifier_op *last = all->pdata[2];

			g_assert_cmpuint(first->slot, ==, last->slot);
			g_assert_true(first->sound);
			g_assert_false(last->sound);
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
	struct notifier_model_options options = default_options;
	struct fixture f;

	options.sound = false;
	options.content = CONFIG_CONTENT_COUNT;
	fixture_init(&f, &options);
	for (uint32_t uid = 1; uid <= 4; uid++) {
		feed_new(&f, "INBOX", uid, "secret", 0);
	}
	const struct notifier_op *op = op_at(f.ops, f.ops->len - 1);
	g_assert_false(op->sound);
	g_assert_cmpstr(op->summary, ==, "4 new messages in work/INBOX");
	g_assert_cmpstr(op->body, ==, "");

	/* Reload: sender only. */
	options.content = CONFIG_CONTENT_SENDER;
	notifier_model_set_options(f.model, &options);
	feed_new(&f, "INBOX", 5, "secret", 0);
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

static GPtrArray *feed_state(struct fixture *f, const char *state, const char *detail)
{
	struct watch_event ev = {
	    .type = WATCH_EVENT_STATE,
	    .account = "work",
	    .state = state,
	    .detail = detail,
	};

	return feed(f, &ev, 0);
}

static void test_account_error(void)
{
	struct fixture f;
	GPtrArray *ops;

	fixture_init(&f, NULL);
	g_assert_cmpuint(feed_state(&f, "connecting", "")->len, ==, 0);
	ops = feed_state(&f, "error", "authentication failed for user 'me': wrong\x1b[31m");
	g_assert_cmpuint(ops->len, ==, 1);
	const struct notifier_op *shown = op_at(ops, 0);
	guint64 slot = shown->slot;
	g_assert_cmpint(shown->type, ==, NOTIFIER_OP_SHOW);
	g_assert_cmpuint(shown->count, ==, 0);
	g_assert_cmpstr(shown->category, ==, "network.error");
	g_assert_false(shown->sound);
	g_assert_cmpstr(shown->summary, ==, "Mail account work needs attention");
	g_assert_cmpstr(shown->body, ==, "authentication failed for user 'me': wrong[31m");
	/* One notification per episode: staying in error says nothing more. */
	g_assert_cmpuint(feed_state(&f, "error", "other detail")->len, ==, 0);
	g_assert_cmpuint(feed_state(&f, "connecting", "")->len, ==, 0);
	g_assert_null(notifier_model_get_messages(f.model, slot));
	/* Recovery closes it; a later error shows a new one. */
	ops = feed_state(&f, "idle", "");
	g_assert_cmpuint(ops->len, ==, 1);
	g_assert_cmpint(op_at(ops, 0)->type, ==, NOTIFIER_OP_CLOSE);
	g_assert_cmpuint(op_at(ops, 0)->slot, ==, slot);
	ops = feed_state(&f, "error", "again");
	g_assert_cmpuint(ops->len, ==, 1);
	g_assert_cmpuint(op_at(ops, 0)->slot, !=, slot);
	fixture_clear(&f);
}

/* New mail of any account, folder and UIDVALIDITY. */
static GPtrArray *feed_message(struct fixture *f, const char *account, const char *folder,
                               uint32_t uidvalidity, uint32_t uid, gint64 now, bool catchup)
{
	struct watch_event ev = {
	    .type = WATCH_EVENT_NEW,
	    .account = account,
	    .folder = folder,
	    .uidvalidity = uidvalidity,
	    .uid = uid,
	    .from_addr = "a@x",
	    .subject = "s",
	    .catchup = catchup,
	};

	return feed(f, &ev, now);
}

static GPtrArray *feed_reset(struct fixture *f, const char *folder, uint32_t uidvalidity,
                             bool announce)
{
	struct watch_event ev = {
	    .type = WATCH_EVENT_RESET,
	    .account = "work",
	    .folder = folder,
	    .uidvalidity = uidvalidity,
	    .previous_uidvalidity = 7,
	    .count = 12,
	    .unseen = 3,
	};

	g_ptr_array_set_size(f->ops, 0);
	notifier_model_reset(f->model, &ev, announce, f->ops);
	return f->ops;
}

static void assert_close(GPtrArray *ops, guint i, guint64 slot)
{
	g_assert_cmpint(op_at(ops, i)->type, ==, NOTIFIER_OP_CLOSE);
	g_assert_cmpuint(op_at(ops, i)->slot, ==, slot);
}

/* M3: a reset withdraws every popup of the folder's old messages at once —
 * singles and the burst's summary — and shows one popup with the counts. */
static void test_reset(void)
{
	struct fixture f;
	guint64 lists, summary, single, reset, fresh;
	const struct notifier_op *op;
	g_auto(GStrv) shown = NULL;

	fixture_init(&f, NULL);
	lists = op_at(feed_new(&f, "Lists", 1, "l", 0), 0)->slot;
	feed_message(&f, "home", "INBOX", 7, 1, 0, false);
	for (uint32_t uid = 1; uid <= 5; uid++) {
		feed_new(&f, "INBOX", uid, "x", uid);
	}
	summary = op_at(f.ops, 0)->slot;
	single = op_at(feed_new(&f, "INBOX", 6, "y", 6 + WINDOW), 0)->slot;

	feed_reset(&f, "INBOX", 9, true);
	g_assert_cmpuint(f.ops->len, ==, 3);
	assert_close(f.ops, 0, summary);
	assert_close(f.ops, 1, single);
	op = op_at(f.ops, 2);
	reset = op->slot;
	g_assert_cmpint(op->type, ==, NOTIFIER_OP_SHOW);
	g_assert_cmpuint(reset, !=, summary);
	g_assert_cmpstr(op->summary, ==, "work/INBOX was reset by the server");
	g_assert_cmpstr(op->body, ==, "It now holds 12 messages, 3 unread");
	g_assert_cmpstr(op->category, ==, "email");
	/* About no message: no actions, no sound. */
	g_assert_cmpuint(op->count, ==, 0);
	g_assert_false(op->sound);
	g_assert_false(op->only_if_shown);
	g_assert_null(notifier_model_get_messages(f.model, reset));

	/* Other folders and accounts keep their popups; the old ids are void. */
	shown = notifier_model_get_shown_ids(f.model);
	g_assert_cmpuint(g_strv_length(shown), ==, 2);
	g_assert_cmpstr(shown[0], ==, "home/INBOX/7/1");
	g_assert_cmpstr(shown[1], ==, "work/Lists/7/1");
	g_assert_cmpuint(feed_seen(&f, "INBOX", 6, WATCH_EVENT_CHANGED)->len, ==, 0);
	g_assert_nonnull(notifier_model_get_messages(f.model, lists));
	g_ptr_array_unref(notifier_model_get_messages(f.model, lists));

	/* Mail under the new UIDVALIDITY is news as usual, and is kept by a
	 * reset to that same value. */
	fresh = op_at(feed_message(&f, "work", "INBOX", 9, 1, 7 + 2 * WINDOW, false), 0)->slot;
	g_assert_cmpuint(f.ops->len, ==, 1);
	g_assert_cmpuint(feed_reset(&f, "INBOX", 9, false)->len, ==, 0);

	/* A quiet folder: the old popups go, nothing is shown. */
	feed_reset(&f, "INBOX", 11, false);
	g_assert_cmpuint(f.ops->len, ==, 1);
	assert_close(f.ops, 0, fresh);

	/* A later reset updates the folder's reset popup in place. */
	feed_reset(&f, "INBOX", 12, true);
	g_assert_cmpuint(f.ops->len, ==, 1);
	g_assert_cmpuint(op_at(f.ops, 0)->slot, ==, reset);
	fixture_clear(&f);
}

/* Messages of the folder in the catch-up summary leave it; the summary is
 * updated only if still shown, and content settings do not matter: the
 * reset popup names no message. */
static void test_reset_catchup(void)
{
	struct notifier_model_options options = default_options;
	struct fixture f;
	const struct notifier_op *op;

	options.content = CONFIG_CONTENT_COUNT;
	fixture_init(&f, &options);
	feed_message(&f, "work", "INBOX", 7, 1, 0, true);
	feed_message(&f, "work", "INBOX", 7, 2, 0, true);
	guint64 catchup = op_at(feed_message(&f, "work", "Lists", 7, 1, 0, true), 0)->slot;

	feed_reset(&f, "INBOX", 9, true);
	g_assert_cmpuint(f.ops->len, ==, 2);
	op = op_at(f.ops, 0);
	g_assert_cmpuint(op->slot, ==, catchup);
	g_assert_cmpint(op->type, ==, NOTIFIER_OP_SHOW);
	g_assert_true(op->only_if_shown);
	g_assert_cmpstr(op->summary, ==, "1 new message since imapwatch last ran");
	op = op_at(f.ops, 1);
	g_assert_cmpstr(op->summary, ==, "work/INBOX was reset by the server");
	g_assert_cmpstr(op->body, ==, "It now holds 12 messages, 3 unread");

	/* Feeding the event the ordinary way changes nothing. */
	struct watch_event ev = {.type = WATCH_EVENT_RESET, .account = "work", .folder = "Lists"};
	g_assert_cmpuint(feed(&f, &ev, 0)->len, ==, 0);
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
	g_test_add_func("/notifier-model/account-error", test_account_error);
	g_test_add_func("/notifier-model/reset", test_reset);
	g_test_add_func("/notifier-model/reset-catchup", test_reset_catchup);
	return g_test_run();
}
