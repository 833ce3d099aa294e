/* SPDX-License-Identifier: MIT */
/*
 * The notifier model with rules and quiet time: what config_notice_for()
 * says of each message (notify, urgency, content, sound) in single popups
 * and in summaries; mail held while notifications are paused, in quiet
 * hours or under the desktop's do-not-disturb, and the one summary after;
 * and the quiet decision itself on a fake clock.
 */
#include "notifier-model-harness.h"

/* New mail of any account and folder, with its own Message-ID. */
static GPtrArray *feed_from(struct fixture *f, const char *account, const char *folder,
                            uint32_t uid, const char *subject, gint64 now)
{
	g_autofree char *message_id = g_strdup_printf("<%u.%s.%s@x>", uid, folder, account);
	struct watch_event ev = {
	    .type = WATCH_EVENT_NEW,
	    .account = account,
	    .folder = folder,
	    .uidvalidity = 7,
	    .uid = uid,
	    .message_id = message_id,
	    .from_name = "Alice Example",
	    .from_addr = "alice@example.com",
	    .subject = subject,
	};

	return feed(f, &ev, now);
}

/* notify = false: nothing on screen, not even as the first copy of a
 * message that another folder has too (N5). */
static void test_muted(void)
{
	struct fixture f;
	struct watch_event ev = {
	    .type = WATCH_EVENT_NEW,
	    .account = "work",
	    .folder = "Lists/dev",
	    .uidvalidity = 7,
	    .uid = 1,
	    .message_id = "<both@x>",
	    .subject = "copy",
	};
	g_auto(GStrv) shown = NULL;

	fixture_init(&f, NULL);
	f.notice.notify = false;
	g_assert_cmpuint(feed(&f, &ev, 0)->len, ==, 0);
	g_assert_cmpuint(feed_new(&f, "Lists/dev", 2, "more", 0)->len, ==, 0);
	shown = notifier_model_get_shown_ids(f.model);
	g_assert_cmpuint(g_strv_length(shown), ==, 0);

	f.notice = default_notice;
	ev.folder = "INBOX";
	ev.uid = 5;
	g_assert_cmpuint(feed(&f, &ev, SEC)->len, ==, 1);
	/* Reading the muted copy withdraws nothing. */
	g_assert_cmpuint(feed_seen(&f, "Lists/dev", 1, WATCH_EVENT_CHANGED)->len, ==, 0);

	/* A NEW event without a notice shows nothing either. */
	g_ptr_array_set_size(f.ops, 0);
	ev.uid = 6;
	ev.message_id = "<other@x>";
	notifier_model_feed(f.model, &ev, NULL, SEC, f.ops);
	g_assert_cmpuint(f.ops->len, ==, 0);
	fixture_clear(&f);
}

/* Urgency and sound per message; a summary takes the strongest urgency
 * among its messages, the sound of the news that joins it, and a line for
 * each message as far as its content allows. */
static void test_rules_in_summaries(void)
{
	struct fixture f;
	const struct notifier_op *op;

	fixture_init(&f, NULL);
	f.notice.urgency = CONFIG_URGENCY_LOW;
	f.notice.sound = NULL;
	op = op_at(feed_new(&f, "INBOX", 1, "newsletter", 0), 0);
	g_assert_cmpint(op->urgency, ==, CONFIG_URGENCY_LOW);
	g_assert_null(op->sound);

	f.notice.urgency = CONFIG_URGENCY_CRITICAL;
	f.notice.sound = "/usr/share/sounds/boss.oga";
	f.notice.content = CONFIG_CONTENT_COUNT;
	op = op_at(feed_new(&f, "INBOX", 2, "salary", SEC), 0);
	g_assert_cmpint(op->urgency, ==, CONFIG_URGENCY_CRITICAL);
	g_assert_cmpstr(op->sound, ==, "/usr/share/sounds/boss.oga");
	g_assert_cmpstr(op->summary, ==, "New message");
	g_assert_cmpstr(op->body, ==, "");

	f.notice = default_notice;
	feed_new(&f, "INBOX", 3, "lunch", 2 * SEC);
	feed_new(&f, "INBOX", 4, "coffee", 3 * SEC);
	op = op_at(f.ops, f.ops->len - 1);
	g_assert_cmpstr(op->summary, ==, "4 new messages in work/INBOX");
	g_assert_cmpint(op->urgency, ==, CONFIG_URGENCY_CRITICAL);
	g_assert_cmpstr(op->sound, ==, "message-new-email");
	/* The boss's subject stays hidden (content = count). */
	g_assert_cmpstr(op->body, ==, "coffee\nlunch\nnewsletter");

	/* The critical message read elsewhere: back to normal. */
	feed_seen(&f, "INBOX", 2, WATCH_EVENT_CHANGED);
	op = op_at(f.ops, 0);
	g_assert_true(op->only_if_shown);
	g_assert_cmpint(op->urgency, ==, CONFIG_URGENCY_NORMAL);
	g_assert_null(op->sound);

	/* Silent news updates the summary without a sound. */
	f.notice.sound = NULL;
	op = op_at(feed_new(&f, "INBOX", 5, "quiet one", 4 * SEC), 0);
	g_assert_null(op->sound);
	fixture_clear(&f);
}

/* The catch-up summary sounds once: with the first message that has a
 * sound. */
static void test_catchup_sound(void)
{
	struct fixture f;
	struct watch_event ev = {
	    .type = WATCH_EVENT_NEW,
	    .account = "work",
	    .folder = "INBOX",
	    .uidvalidity = 7,
	    .from_addr = "a@x",
	    .subject = "c",
	    .catchup = true,
	};

	fixture_init(&f, NULL);
	f.notice.sound = NULL;
	ev.uid = 1;
	g_assert_null(op_at(feed(&f, &ev, 0), 0)->sound);
	f.notice.sound = "bell";
	ev.uid = 2;
	g_assert_cmpstr(op_at(feed(&f, &ev, 0), 0)->sound, ==, "bell");
	ev.uid = 3;
	g_assert_null(op_at(feed(&f, &ev, 0), 0)->sound);
	fixture_clear(&f);
}

/* Quiet time: nothing new on screen, no sound; at its end one summary of
 * what is still unread, per account, with the strongest urgency and a
 * sound. */
static void test_quiet_summary(void)
{
	struct fixture f;
	const struct notifier_op *op;
	guint64 before;
	GPtrArray *messages;

	fixture_init(&f, NULL);
	before = op_at(feed_new(&f, "INBOX", 1, "before", 0), 0)->slot;
	g_assert_cmpuint(set_quiet(&f, NOTIFIER_QUIET_PAUSED)->len, ==, 0);

	for (uint32_t uid = 2; uid <= 6; uid++) {
		g_assert_cmpuint(feed_from(&f, "work", "INBOX", uid, "w", uid * SEC)->len, ==, 0);
	}
	f.notice.urgency = CONFIG_URGENCY_CRITICAL;
	f.notice.sound = "boss";
	g_assert_cmpuint(feed_from(&f, "home", "INBOX", 1, "boss", 7 * SEC)->len, ==, 0);
	f.notice = default_notice;
	g_assert_cmpuint(feed_from(&f, "home", "INBOX", 2, "h2", 8 * SEC)->len, ==, 0);
	g_assert_cmpuint(feed_from(&f, "home", "INBOX", 3, "h3", 9 * SEC)->len, ==, 0);

	/* A popup from before closes as usual; one held leaves the summary. */
	feed_seen(&f, "INBOX", 1, WATCH_EVENT_CHANGED);
	g_assert_cmpuint(f.ops->len, ==, 1);
	g_assert_cmpint(op_at(f.ops, 0)->type, ==, NOTIFIER_OP_CLOSE);
	g_assert_cmpuint(op_at(f.ops, 0)->slot, ==, before);
	g_assert_cmpuint(feed_seen(&f, "INBOX", 2, WATCH_EVENT_REMOVED)->len, ==, 0);

	/* Another reason joins, one ends: still quiet. */
	g_assert_cmpuint(set_quiet(&f, NOTIFIER_QUIET_PAUSED | NOTIFIER_QUIET_DND)->len, ==, 0);
	g_assert_cmpuint(set_quiet(&f, NOTIFIER_QUIET_DND)->len, ==, 0);

	set_quiet(&f, 0);
	g_assert_cmpuint(f.ops->len, ==, 1);
	op = op_at(f.ops, 0);
	g_assert_cmpint(op->type, ==, NOTIFIER_OP_SHOW);
	g_assert_cmpstr(op->summary, ==, "7 new messages while notifications were paused");
	g_assert_cmpstr(op->body, ==, "work: 4\nhome: 3\nh3\nh2\nboss");
	g_assert_cmpuint(op->count, ==, 7);
	g_assert_cmpint(op->urgency, ==, CONFIG_URGENCY_CRITICAL);
	g_assert_cmpstr(op->sound, ==, "boss");
	g_assert_false(op->only_if_shown);
	messages = notifier_model_get_messages(f.model, op->slot);
	g_assert_cmpuint(messages->len, ==, 7);
	g_ptr_array_unref(messages);

	/* Afterwards an ordinary summary: withdrawals update it if shown. */
	guint64 summary = op->slot;
	feed_seen(&f, "INBOX", 3, WATCH_EVENT_CHANGED);
	g_assert_true(op_at(f.ops, 0)->only_if_shown);
	g_assert_cmpuint(op_at(f.ops, 0)->slot, ==, summary);
	/* New mail pops up again. */
	op = op_at(feed_new(&f, "INBOX", 20, "after", 20 * SEC), 0);
	g_assert_cmpuint(op->count, ==, 1);
	g_assert_cmpstr(op->sound, ==, "message-new-email");
	/* Dismissed: nothing more of it. */
	notifier_model_forget(f.model, summary);
	g_assert_null(notifier_model_get_messages(f.model, summary));
	fixture_clear(&f);
}

/* Everything read or removed meanwhile: no summary at all. Quiet hours and
 * do-not-disturb say so in the summary. */
static void test_quiet_read_meanwhile(void)
{
	static const struct {
		guint quiet;
		const char *summary;
	} cases[] = {
	    {NOTIFIER_QUIET_HOURS, "2 new messages during quiet hours"},
	    {NOTIFIER_QUIET_DND, "2 new messages while Do Not Disturb was on"},
	};
	struct fixture f;

	fixture_init(&f, NULL);
	set_quiet(&f, NOTIFIER_QUIET_HOURS);
	feed_new(&f, "INBOX", 1, "a", 0);
	feed_new(&f, "Lists", 2, "b", 0);
	feed_seen(&f, "INBOX", 1, WATCH_EVENT_CHANGED);
	g_assert_cmpuint(f.ops->len, ==, 0);
	feed_seen(&f, "Lists", 2, WATCH_EVENT_REMOVED);
	g_assert_cmpuint(f.ops->len, ==, 0);
	g_assert_cmpuint(set_quiet(&f, 0)->len, ==, 0);
	fixture_clear(&f);

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		fixture_init(&f, NULL);
		set_quiet(&f, cases[i].quiet);
		feed_new(&f, "INBOX", 1, "a", 0);
		feed_new(&f, "Lists", 2, "b", 0);
		const struct notifier_op *op = op_at(set_quiet(&f, 0), 0);
		g_assert_cmpstr(op->summary, ==, cases[i].summary);
		/* One account: per folder. */
		g_assert_cmpstr(op->body, ==, "work/INBOX: 1\nwork/Lists: 1\nb\na");
		fixture_clear(&f);
	}
}

/* Popups about no message wait for the end of quiet time, and only those
 * that still apply are shown then. */
static void test_quiet_notices(void)
{
	struct fixture f;
	struct watch_event error = {.type = WATCH_EVENT_STATE, .account = "work", .state = "error"};
	struct watch_event idle = {.type = WATCH_EVENT_STATE, .account = "work", .state = "idle"};
	struct watch_event home = {.type = WATCH_EVENT_STATE, .account = "home", .state = "error"};

	fixture_init(&f, NULL);
	set_quiet(&f, NOTIFIER_QUIET_PAUSED);
	g_assert_cmpuint(feed(&f, &error, 0)->len, ==, 0);
	g_assert_cmpuint(feed(&f, &home, 0)->len, ==, 0);
	/* work recovers meanwhile: its popup is closed (harmless) and
	 * dropped. */
	feed(&f, &idle, 0);
	g_assert_cmpuint(f.ops->len, ==, 1);
	g_assert_cmpint(op_at(f.ops, 0)->type, ==, NOTIFIER_OP_CLOSE);
	set_quiet(&f, 0);
	g_assert_cmpuint(f.ops->len, ==, 1);
	g_assert_cmpstr(op_at(f.ops, 0)->summary, ==, "Mail account home needs attention");
	g_assert_cmpuint(set_quiet(&f, 0)->len, ==, 0);
	fixture_clear(&f);
}

/* Catch-up mail during quiet time joins the quiet summary; startup =
 * silent still says nothing of it. */
static void test_quiet_catchup(void)
{
	struct notifier_model_options options = default_options;
	struct fixture f;
	struct watch_event ev = {
	    .type = WATCH_EVENT_NEW,
	    .account = "work",
	    .folder = "INBOX",
	    .uidvalidity = 7,
	    .uid = 1,
	    .subject = "c",
	    .catchup = true,
	};

	fixture_init(&f, NULL);
	set_quiet(&f, NOTIFIER_QUIET_HOURS);
	g_assert_cmpuint(feed(&f, &ev, 0)->len, ==, 0);
	g_assert_cmpstr(op_at(set_quiet(&f, 0), 0)->summary, ==,
	                "1 new message during quiet hours");
	fixture_clear(&f);

	options.startup = CONFIG_STARTUP_SILENT;
	fixture_init(&f, &options);
	set_quiet(&f, NOTIFIER_QUIET_HOURS);
	feed(&f, &ev, 0);
	g_assert_cmpuint(set_quiet(&f, 0)->len, ==, 0);
	fixture_clear(&f);
}

static gint64 unix_at(GTimeZone *tz, int y, int mo, int d, int h, int mi)
{
	g_autoptr(GDateTime) t = g_date_time_new(tz, y, mo, d, h, mi, 0);

	g_assert_nonnull(t);
	return g_date_time_to_unix(t);
}

/* The decision on a fake clock: quiet_hours in local time (across
 * midnight, and on the nights the clocks change), a pause that ends, and
 * the desktop's do-not-disturb. */
static void test_quiet_at(void)
{
	struct config cfg = {
	    .has_quiet_hours = true,
	    .quiet_start = 22 * 60,
	    .quiet_end = 7 * 60,
	};
	struct config none = {0};
	g_autoptr(GTimeZone) berlin = g_time_zone_new_identifier("Europe/Berlin");
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	gint64 next = -5;
	gint64 t;

	g_assert_nonnull(berlin);
	/* 21:59 in Berlin (summer): not yet; next look at 22:00. */
	t = unix_at(berlin, 2026, 7, 1, 21, 59);
	g_assert_cmpuint(notifier_model_quiet_at(&cfg, 0, false, t, berlin, &next), ==, 0);
	g_assert_cmpint(next, ==, t + 60);
	/* 22:00 and 03:00: quiet hours; they end at 07:00. */
	t = unix_at(berlin, 2026, 7, 1, 22, 0);
	g_assert_cmpuint(notifier_model_quiet_at(&cfg, 0, false, t, berlin, &next), ==,
	                 NOTIFIER_QUIET_HOURS);
	g_assert_cmpint(next, ==, unix_at(berlin, 2026, 7, 2, 7, 0));
	t = unix_at(berlin, 2026, 7, 2, 3, 0);
	g_assert_cmpuint(notifier_model_quiet_at(&cfg, 0, false, t, berlin, &next), ==,
	                 NOTIFIER_QUIET_HOURS);
	g_assert_cmpint(next, ==, t + 4 * 3600);
	/* The same instant is 01:00 UTC: quiet there too; 07:00 Berlin is
	 * 05:00 UTC, quiet in UTC only. */
	g_assert_cmpuint(notifier_model_quiet_at(&cfg, 0, false, t, utc, NULL), ==,
	                 NOTIFIER_QUIET_HOURS);
	t = unix_at(berlin, 2026, 7, 2, 7, 0);
	g_assert_cmpuint(notifier_model_quiet_at(&cfg, 0, false, t, berlin, &next), ==, 0);
	g_assert_cmpint(next, ==, unix_at(berlin, 2026, 7, 2, 22, 0));
	g_assert_cmpuint(notifier_model_quiet_at(&cfg, 0, false, t, utc, NULL), ==,
	                 NOTIFIER_QUIET_HOURS);

	/* The night the clocks go forward (29 March 2026, 02:00 → 03:00)
	 * is an hour shorter: 22:00 to 07:00 is 8 hours. */
	t = unix_at(berlin, 2026, 3, 28, 22, 0);
	notifier_model_quiet_at(&cfg, 0, false, t, berlin, &next);
	g_assert_cmpint(next - t, ==, 8 * 3600);
	/* ... and back (25 October 2026): 10 hours. */
	t = unix_at(berlin, 2026, 10, 24, 22, 0);
	notifier_model_quiet_at(&cfg, 0, false, t, berlin, &next);
	g_assert_cmpint(next - t, ==, 10 * 3600);

	/* A span within a day. */
	struct config day = {.has_quiet_hours = true, .quiet_start = 12 * 60, .quiet_end = 13 * 60};
	t = unix_at(utc, 2026, 1, 5, 12, 30);
	g_assert_cmpuint(notifier_model_quiet_at(&day, 0, false, t, utc, &next), ==,
	                 NOTIFIER_QUIET_HOURS);
	g_assert_cmpint(next, ==, t + 30 * 60);
	g_assert_cmpuint(notifier_model_quiet_at(&day, 0, false, t + 30 * 60, utc, &next), ==, 0);
	g_assert_cmpint(next, ==, t + 30 * 60 + 23 * 3600);

	/* Pause and do-not-disturb, with or without quiet hours. */
	t = unix_at(utc, 2026, 1, 5, 12, 0);
	g_assert_cmpuint(notifier_model_quiet_at(&none, -1, false, t, utc, &next), ==,
	                 NOTIFIER_QUIET_PAUSED);
	g_assert_cmpint(next, ==, 0);
	g_assert_cmpuint(notifier_model_quiet_at(&none, t + 1, false, t, utc, NULL), ==,
	                 NOTIFIER_QUIET_PAUSED);
	g_assert_cmpuint(notifier_model_quiet_at(&none, t, false, t, utc, NULL), ==, 0);
	g_assert_cmpuint(notifier_model_quiet_at(&none, 0, true, t, utc, NULL), ==,
	                 NOTIFIER_QUIET_DND);
	g_assert_cmpuint(notifier_model_quiet_at(&day, -1, true, t + 1800, utc, NULL), ==,
	                 NOTIFIER_QUIET_PAUSED | NOTIFIER_QUIET_HOURS | NOTIFIER_QUIET_DND);

	g_assert_cmpstr(notifier_quiet_name(NOTIFIER_QUIET_PAUSED), ==, "paused");
	g_assert_cmpstr(notifier_quiet_name(NOTIFIER_QUIET_HOURS), ==, "quiet-hours");
	g_assert_cmpstr(notifier_quiet_name(NOTIFIER_QUIET_DND), ==, "do-not-disturb");
	g_assert_null(notifier_quiet_name(1 << NOTIFIER_QUIET_N));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/notifier-model/muted", test_muted);
	g_test_add_func("/notifier-model/rules-in-summaries", test_rules_in_summaries);
	g_test_add_func("/notifier-model/catchup-sound", test_catchup_sound);
	g_test_add_func("/notifier-model/quiet-summary", test_quiet_summary);
	g_test_add_func("/notifier-model/quiet-read-meanwhile", test_quiet_read_meanwhile);
	g_test_add_func("/notifier-model/quiet-notices", test_quiet_notices);
	g_test_add_func("/notifier-model/quiet-catchup", test_quiet_catchup);
	g_test_add_func("/notifier-model/quiet-at", test_quiet_at);
	return g_test_run();
}
