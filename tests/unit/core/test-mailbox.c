/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/mailbox.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

struct fixture {
	struct mailbox *mb;
	GString *log; /* one short line per event: "new 5", "unseen 2", ... */
};

static void sink(const struct watch_event *ev, void *user_data)
{
	struct fixture *fx = user_data;

	switch (ev->type) {
	case WATCH_EVENT_NEW:
		g_string_append_printf(fx->log, "%s %u %s|", ev->catchup ? "catchup" : "new",
		                       ev->uid, ev->subject);
		break;
	case WATCH_EVENT_CHANGED:
		g_string_append_printf(fx->log, "changed %u %s|", ev->uid,
		                       ev->seen ? "seen" : "unseen");
		break;
	case WATCH_EVENT_REMOVED:
		g_string_append_printf(fx->log, "removed %u|", ev->uid);
		break;
	case WATCH_EVENT_UNSEEN:
		g_string_append_printf(fx->log, "unseen %u|", ev->count);
		break;
	case WATCH_EVENT_RESET:
		g_string_append_printf(fx->log, "reset %u from %u: %u messages %u unseen|",
		                       ev->uidvalidity, ev->previous_uidvalidity, ev->count,
		                       ev->unseen);
		break;
	case WATCH_EVENT_STATE:
		g_assert_not_reached();
	}
}

static void fx_setup(struct fixture *fx, gconstpointer data)
{
	(void)data;
	fx->log = g_string_new(NULL);
	fx->mb = mailbox_create("acct", "INBOX", sink, fx);
}

static void fx_teardown(struct fixture *fx, gconstpointer data)
{
	(void)data;
	mailbox_destroy(fx->mb);
	g_string_free(fx->log, TRUE);
}

static const char *const SEEN[] = {"\\Seen", NULL};
static const char *const NONE[] = {NULL};

static void fetch_flags(struct fixture *fx, uint32_t seq, uint32_t uid, const char *const *flags)
{
	struct mailbox_fetch f = {
	    .seq = seq,
	    .has_uid = uid != 0,
	    .uid = uid,
	    .has_flags = true,
	    .flags = flags,
	};
	mailbox_fetch(fx->mb, &f);
}

static void fetch_header(struct fixture *fx, uint32_t seq, uint32_t uid, const char *subject)
{
	struct header_fields h = {
	    .from_name = (char *)"",
	    .from_addr = (char *)"",
	    .subject = (char *)subject,
	    .message_id = (char *)"",
	};
	struct mailbox_fetch f = {
	    .seq = seq,
	    .has_uid = true,
	    .uid = uid,
	    .has_flags = true,
	    .flags = NONE,
	    .has_header = true,
	    .header = &h,
	};
	mailbox_fetch(fx->mb, &f);
}

/* Selects with the given UIDs (odd ones seen). */
static void select_with(struct fixture *fx, uint32_t uidvalidity, const uint32_t *uids, size_t n)
{
	mailbox_select_begin(fx->mb);
	mailbox_set_uidvalidity(fx->mb, uidvalidity);
	mailbox_exists(fx->mb, n);
	for (size_t i = 0; i < n; i++) {
		fetch_flags(fx, i + 1, uids[i], uids[i] % 2 ? SEEN : NONE);
	}
	mailbox_select_end(fx->mb);
}

static void assert_log(struct fixture *fx, const char *expected)
{
	g_assert_cmpstr(fx->log->str, ==, expected);
	g_string_truncate(fx->log, 0);
}

static void test_baseline_is_not_news(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1, 2, 3, 4};

	(void)data;
	select_with(fx, 10, uids, 4);
	assert_log(fx, "unseen 2|");
	g_assert_cmpuint(mailbox_get_watermark(fx->mb), ==, 4);
	g_assert_false(mailbox_wants_new(fx->mb));
	g_assert_true(mailbox_is_synced(fx->mb));
}

static void test_expunge_renumbers(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {10, 20, 30, 40, 50};

	(void)data;
	select_with(fx, 1, uids, 5);
	assert_log(fx, "unseen 5|");
	/* H2: "5,5,5" style: each EXPUNGE shifts the later ones down. */
	mailbox_expunge(fx->mb, 2);
	mailbox_expunge(fx->mb, 2);
	assert_log(fx, "removed 20|removed 30|");
	g_assert_cmpuint(mailbox_get_exists(fx->mb), ==, 3);
	/* seq 2 is now UID 40; a FETCH without UID resolves through the map. */
	fetch_flags(fx, 2, 0, SEEN);
	assert_log(fx, "changed 40 seen|");
	mailbox_flush_unseen(fx->mb);
	assert_log(fx, "unseen 2|");
	/* Out of range: ignored, not a crash. */
	mailbox_expunge(fx->mb, 0);
	mailbox_expunge(fx->mb, 99);
	fetch_flags(fx, 99, 0, SEEN);
	assert_log(fx, "");
}

static void vanished(struct fixture *fx, const char *set, bool earlier)
{
	g_autoptr(uidset) uids = uidset_new();

	g_assert_true(uidset_parse(uids, set, 100));
	mailbox_vanished(fx->mb, uids, earlier);
}

static void test_vanished(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {10, 20, 30};

	(void)data;
	select_with(fx, 1, uids, 3);
	assert_log(fx, "unseen 3|");
	mailbox_exists(fx->mb, 4); /* a new one, UID not yet known */
	vanished(fx, "30,10,77", false);
	assert_log(fx, "removed 10|removed 30|");
	/* 77 was the unknown new message: the count drops too (N9). */
	g_assert_cmpuint(mailbox_get_exists(fx->mb), ==, 1);
	vanished(fx, "10", true); /* EARLIER: no renumbering */
	g_assert_cmpuint(mailbox_get_exists(fx->mb), ==, 1);
	assert_log(fx, "");
}

/* N9, liberal: Cyrus names 1:7 for a folder holding 1,2,3,6,7. */
static void test_vanished_wide_set(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1, 2, 3, 6, 7};

	(void)data;
	select_with(fx, 1, uids, 5);
	assert_log(fx, "unseen 2|");
	vanished(fx, "1:7", false);
	assert_log(fx, "removed 1|removed 2|removed 3|removed 6|removed 7|");
	g_assert_cmpuint(mailbox_get_exists(fx->mb), ==, 0);
	/* A set far wider than anything: nothing held, nothing happens. */
	select_with(fx, 1, uids, 5);
	assert_log(fx, "");
	mailbox_exists(fx->mb, 6);
	vanished(fx, "8:4294967295", false);
	/* Only the one announced message above every known UID goes. */
	g_assert_cmpuint(mailbox_get_exists(fx->mb), ==, 5);
	assert_log(fx, "");
}

static void test_new_in_uid_order_once(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1, 2};

	(void)data;
	select_with(fx, 1, uids, 2);
	assert_log(fx, "unseen 1|");
	mailbox_exists(fx->mb, 5);
	g_assert_true(mailbox_wants_new(fx->mb));
	g_assert_cmpuint(mailbox_get_fetch_start(fx->mb), ==, 3);
	/* H5: any order, split over several FETCH responses; M5: UID 2 is the
	 * n:* artefact. */
	fetch_header(fx, 5, 7, "seven");
	fetch_flags(fx, 2, 2, NONE);
	fetch_header(fx, 3, 3, "three");
	fetch_header(fx, 4, 5, "five");
	fetch_flags(fx, 4, 5, SEEN); /* later data wins */
	mailbox_new_end(fx->mb);
	assert_log(fx, "new 3 three|new 5 five|new 7 seven|unseen 3|");
	g_assert_cmpuint(mailbox_get_watermark(fx->mb), ==, 7);
	g_assert_false(mailbox_wants_new(fx->mb));
	/* The same data again reports nothing twice. */
	fetch_header(fx, 5, 7, "seven");
	mailbox_new_end(fx->mb);
	assert_log(fx, "");
}

static void test_abort_keeps_news_for_later(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1};

	(void)data;
	select_with(fx, 1, uids, 1);
	assert_log(fx, "unseen 0|");
	mailbox_exists(fx->mb, 2);
	fetch_header(fx, 2, 2, "two");
	mailbox_abort(fx->mb); /* connection dropped before the fetch ended */
	assert_log(fx, "");
	g_assert_cmpuint(mailbox_get_watermark(fx->mb), ==, 1);

	/* Reconnect: listing, then the header fetch reports it exactly once. */
	static const uint32_t again[] = {1, 2};
	mailbox_select_begin(fx->mb);
	mailbox_set_uidvalidity(fx->mb, 1);
	mailbox_exists(fx->mb, 2);
	fetch_flags(fx, 1, again[0], SEEN);
	fetch_flags(fx, 2, again[1], NONE);
	mailbox_select_end(fx->mb);
	assert_log(fx, "unseen 1|");
	g_assert_true(mailbox_wants_new(fx->mb));
	fetch_header(fx, 2, 2, "two");
	mailbox_new_end(fx->mb);
	assert_log(fx, "new 2 two|");
}

static void test_expunged_before_fetch(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1};

	(void)data;
	select_with(fx, 1, uids, 1);
	assert_log(fx, "unseen 0|");
	mailbox_exists(fx->mb, 2);
	fetch_header(fx, 2, 2, "two");
	mailbox_expunge(fx->mb, 2);
	mailbox_new_end(fx->mb);
	/* Gone before it was reported: never announced, never "removed". */
	assert_log(fx, "");
	g_assert_cmpuint(mailbox_get_watermark(fx->mb), ==, 1);
}

static void test_resync_reports_changes_while_away(struct fixture *fx, gconstpointer data)
{
	static const uint32_t before[] = {1, 2, 3, 4};

	(void)data;
	select_with(fx, 9, before, 4);
	assert_log(fx, "unseen 2|");
	/* Away: 2 expunged, 4 read elsewhere, 5 and 6 arrived. */
	mailbox_select_begin(fx->mb);
	g_assert_false(mailbox_set_uidvalidity(fx->mb, 9));
	mailbox_exists(fx->mb, 5);
	fetch_flags(fx, 1, 1, SEEN);
	fetch_flags(fx, 2, 3, SEEN);
	fetch_flags(fx, 3, 4, SEEN);
	fetch_flags(fx, 4, 5, NONE);
	fetch_flags(fx, 5, 6, NONE);
	mailbox_select_end(fx->mb);
	assert_log(fx,
	           "changed 4 seen|removed 2|"); /* still 2 unseen: 2 and 4 went, 5 and 6 came */
	g_assert_true(mailbox_wants_new(fx->mb));
	fetch_header(fx, 4, 5, "five");
	fetch_header(fx, 5, 6, "six");
	mailbox_new_end(fx->mb);
	assert_log(fx, "new 5 five|new 6 six|");
}

static void test_uidvalidity_change_rebaselines(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1, 2, 3};

	(void)data;
	select_with(fx, 1, uids, 3);
	assert_log(fx, "unseen 1|");
	mailbox_select_begin(fx->mb);
	g_assert_true(mailbox_set_uidvalidity(fx->mb, 2));
	mailbox_exists(fx->mb, 2);
	fetch_flags(fx, 1, 100, NONE);
	fetch_flags(fx, 2, 101, NONE);
	mailbox_select_end(fx->mb);
	/* No flood of "new" and no "removed" for the old UIDs (N2): one
	 * summary, then the unseen count that agrees with it. */
	assert_log(fx, "reset 2 from 1: 2 messages 2 unseen|unseen 2|");
	g_assert_cmpuint(mailbox_get_watermark(fx->mb), ==, 101);
	g_assert_cmpuint(mailbox_get_uidvalidity(fx->mb), ==, 2);
	g_assert_false(mailbox_wants_new(fx->mb));
}

/* Dovecot sends EXISTS before [UIDVALIDITY]: a changed UIDVALIDITY must not
 * lose the count of the new selection. */
static void test_uidvalidity_after_exists(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1, 2};

	(void)data;
	select_with(fx, 1, uids, 2);
	assert_log(fx, "unseen 1|");
	mailbox_select_begin(fx->mb);
	mailbox_exists(fx->mb, 3);
	g_assert_true(mailbox_set_uidvalidity(fx->mb, 2));
	g_assert_cmpuint(mailbox_get_exists(fx->mb), ==, 3);
	fetch_flags(fx, 1, 1, NONE);
	fetch_flags(fx, 2, 2, NONE);
	fetch_flags(fx, 3, 3, SEEN);
	mailbox_select_end(fx->mb);
	assert_log(fx, "reset 2 from 1: 3 messages 2 unseen|unseen 2|");
	g_assert_cmpuint(mailbox_get_watermark(fx->mb), ==, 3);
	mailbox_expunge(fx->mb, 3);
	assert_log(fx, "removed 3|");
}

/* The reset is reported once; later selections of the same UIDVALIDITY
 * compare as usual, and mail above the new baseline is news. */
static void test_reset_once_then_news(struct fixture *fx, gconstpointer data)
{
	static const uint32_t before[] = {5, 6};
	static const uint32_t after[] = {1, 2, 3};

	(void)data;
	select_with(fx, 1, before, 2);
	assert_log(fx, "unseen 1|");
	select_with(fx, 2, after, 3);
	/* The unseen count did not change: the reset alone says it. */
	assert_log(fx, "reset 2 from 1: 3 messages 1 unseen|");
	g_assert_false(mailbox_wants_new(fx->mb));
	select_with(fx, 2, after, 3);
	assert_log(fx, "");
	mailbox_exists(fx->mb, 4);
	g_assert_true(mailbox_wants_new(fx->mb));
	fetch_header(fx, 4, 4, "four");
	mailbox_new_end(fx->mb);
	assert_log(fx, "new 4 four|unseen 2|");
}

/* A re-baseline whose selection is aborted (the connection dropped after
 * [UIDVALIDITY]) is reported by the next selection that completes, naming
 * the UIDVALIDITY the outputs knew — also across a second change. */
static void test_reset_after_abort(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1, 2};

	(void)data;
	select_with(fx, 1, uids, 2);
	assert_log(fx, "unseen 1|");
	mailbox_select_begin(fx->mb);
	mailbox_exists(fx->mb, 2);
	g_assert_true(mailbox_set_uidvalidity(fx->mb, 2));
	mailbox_abort(fx->mb);
	assert_log(fx, "");
	g_assert_false(mailbox_is_synced(fx->mb));

	mailbox_select_begin(fx->mb);
	g_assert_false(mailbox_set_uidvalidity(fx->mb, 2));
	mailbox_abort(fx->mb);
	assert_log(fx, "");

	mailbox_select_begin(fx->mb);
	mailbox_exists(fx->mb, 1);
	g_assert_true(mailbox_set_uidvalidity(fx->mb, 3));
	fetch_flags(fx, 1, 1, NONE);
	mailbox_select_end(fx->mb);
	assert_log(fx, "reset 3 from 1: 1 messages 1 unseen|");
	g_assert_cmpuint(mailbox_get_watermark(fx->mb), ==, 1);
	g_assert_false(mailbox_wants_new(fx->mb));
}

/* After a restart the stored UIDVALIDITY is the old one: the folder was
 * recreated while imapwatch was not running. One reset, no catch-up flood. */
static void test_reset_after_restore(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1, 2, 3};

	(void)data;
	mailbox_restore(fx->mb, 3, 8);
	select_with(fx, 5, uids, 3);
	assert_log(fx, "reset 5 from 3: 3 messages 1 unseen|unseen 1|");
	g_assert_cmpuint(mailbox_get_uidvalidity(fx->mb), ==, 5);
	g_assert_cmpuint(mailbox_get_watermark(fx->mb), ==, 3);
	g_assert_false(mailbox_wants_new(fx->mb));
	/* The first mail after that is plain news, not catch-up. */
	mailbox_exists(fx->mb, 4);
	fetch_header(fx, 4, 4, "four");
	mailbox_new_end(fx->mb);
	assert_log(fx, "new 4 four|unseen 2|");
}

/* A folder recreated empty: the reset says so; UIDNEXT sets the baseline. */
static void test_reset_to_empty(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1, 2};

	(void)data;
	select_with(fx, 1, uids, 2);
	assert_log(fx, "unseen 1|");
	mailbox_select_begin(fx->mb);
	mailbox_exists(fx->mb, 0);
	g_assert_true(mailbox_set_uidvalidity(fx->mb, 2));
	mailbox_set_uidnext(fx->mb, 4);
	mailbox_select_end(fx->mb);
	assert_log(fx, "reset 2 from 1: 0 messages 0 unseen|unseen 0|");
	g_assert_cmpuint(mailbox_get_watermark(fx->mb), ==, 3);
}

static void test_recent_is_not_a_change(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {2};
	static const char *const recent[] = {"\\Recent", NULL};
	static const char *const keyword[] = {"$Label1", NULL};

	(void)data;
	select_with(fx, 1, uids, 1);
	assert_log(fx, "unseen 1|");
	fetch_flags(fx, 1, 2, recent);
	assert_log(fx, "");
	fetch_flags(fx, 1, 2, keyword);
	assert_log(fx, "changed 2 unseen|");
}

static void test_restored_watermark(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {4, 8, 9};

	(void)data;
	mailbox_restore(fx->mb, 3, 8);
	select_with(fx, 3, uids, 3);
	assert_log(fx, "unseen 2|");
	g_assert_true(mailbox_wants_new(fx->mb));
	g_assert_cmpuint(mailbox_get_fetch_start(fx->mb), ==, 9);
	/* What came while we were not running is marked as catch-up... */
	fetch_header(fx, 3, 9, "nine");
	mailbox_new_end(fx->mb);
	assert_log(fx, "catchup 9 nine|unseen 3|");
	/* ...and what comes later is plain news. */
	mailbox_exists(fx->mb, 4);
	fetch_header(fx, 4, 10, "ten");
	mailbox_new_end(fx->mb);
	assert_log(fx, "new 10 ten|unseen 4|");
}

static void collect(const struct mailbox_message *m, void *user_data)
{
	g_string_append_printf(user_data, "%u:%s:%s|", m->uid, m->subject,
	                       m->seen ? "seen" : "unseen");
}

static char *listing(struct fixture *fx, bool unseen_only)
{
	GString *out = g_string_new(NULL);

	mailbox_foreach_message(fx->mb, unseen_only, collect, out);
	return g_string_free(out, FALSE);
}

static void test_details(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1, 2, 3, 4};

	(void)data;
	select_with(fx, 1, uids, 4); /* 2 and 4 unseen */
	assert_log(fx, "unseen 2|");
	g_autoptr(GArray) missing = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	mailbox_get_missing_details(fx->mb, 10, missing);
	g_assert_cmpuint(missing->len, ==, 2);
	g_assert_cmpuint(g_array_index(missing, uint32_t, 0), ==, 4); /* newest first */
	g_assert_cmpuint(g_array_index(missing, uint32_t, 1), ==, 2);

	/* Details of baseline messages are stored, never reported as new. */
	fetch_header(fx, 2, 2, "two");
	fetch_header(fx, 4, 4, "four");
	assert_log(fx, "");
	g_array_set_size(missing, 0);
	mailbox_get_missing_details(fx->mb, 10, missing);
	g_assert_cmpuint(missing->len, ==, 0);

	/* A new one joins the listing; newest first. */
	mailbox_exists(fx->mb, 5);
	fetch_header(fx, 5, 9, "nine");
	mailbox_new_end(fx->mb);
	assert_log(fx, "new 9 nine|unseen 3|");
	g_autofree char *all = listing(fx, false);
	g_assert_cmpstr(all, ==, "9:nine:unseen|4:four:unseen|2:two:unseen|");

	/* Read elsewhere: the listing follows; removed: it leaves. */
	fetch_flags(fx, 2, 2, SEEN);
	mailbox_expunge(fx->mb, 4);
	assert_log(fx, "changed 2 seen|removed 4|");
	g_autofree char *unseen = listing(fx, true);
	g_assert_cmpstr(unseen, ==, "9:nine:unseen|");
	g_autofree char *both = listing(fx, false);
	g_assert_cmpstr(both, ==, "9:nine:unseen|2:two:seen|");
	g_assert_nonnull(mailbox_get_message(fx->mb, 9));
	g_assert_null(mailbox_get_message(fx->mb, 4));
	g_assert_true(mailbox_has_uid(fx->mb, 9));
	g_assert_false(mailbox_has_uid(fx->mb, 4));
}

/* Counts "new" events in the log and empties it; *last gets the last UID. */
static unsigned count_new(struct fixture *fx, uint32_t *last)
{
	unsigned n = 0;
	g_auto(GStrv) items = g_strsplit(fx->log->str, "|", -1);

	for (size_t i = 0; items[i] != NULL; i++) {
		unsigned uid;

		if (sscanf(items[i], "new %u", &uid) == 1) {
			n++;
			*last = uid;
		}
	}
	g_string_truncate(fx->log, 0);
	return n;
}

static void test_burst_is_bounded(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1};
	const uint32_t total = 2 * MAILBOX_MAX_PENDING + 500;
	uint32_t last = 0;

	(void)data;
	select_with(fx, 1, uids, 1);
	assert_log(fx, "unseen 0|");
	mailbox_exists(fx->mb, total + 1);
	/* Each round the server returns every new message, highest UID
	 * first; the lowest MAILBOX_MAX_PENDING are reported, in order, and
	 * the rest is fetched again. */
	for (uint32_t round = 0; round < 3; round++) {
		uint32_t start = mailbox_get_fetch_start(fx->mb);

		g_assert_true(mailbox_wants_new(fx->mb));
		for (uint32_t uid = total + 1; uid >= start; uid--) {
			fetch_header(fx, uid, uid, "s");
		}
		bool more = mailbox_new_end(fx->mb);
		uint32_t expected = MIN(MAILBOX_MAX_PENDING, total + 2 - start);

		g_assert_cmpuint(count_new(fx, &last), ==, expected);
		g_assert_cmpuint(last, ==, start + expected - 1);
		g_assert_cmpuint(mailbox_get_watermark(fx->mb), ==, last);
		g_assert_true(more == (round < 2));
	}
	g_assert_cmpuint(mailbox_get_watermark(fx->mb), ==, total + 1);
	g_assert_false(mailbox_wants_new(fx->mb));
}

/* A folder with thousands of unseen messages before we came: headers for
 * the newest MAILBOX_CATCHUP_DETAILS of them only, in both modes. */
static void test_catchup_details_are_bounded(struct fixture *fx, gconstpointer data)
{
	const uint32_t total = 20000;
	g_autoptr(GArray) missing = g_array_new(FALSE, FALSE, sizeof(uint32_t));

	if (data != NULL) {
		g_autoptr(uidset) all = uidset_new();

		mailbox_set_compact(fx->mb, true);
		mailbox_select_begin(fx->mb);
		mailbox_set_uidvalidity(fx->mb, 1);
		mailbox_exists(fx->mb, total);
		uidset_add_range(all, 1, total);
		g_assert_true(mailbox_set_all(fx->mb, all));
		mailbox_set_unseen(fx->mb, all);
		mailbox_select_end(fx->mb);
	} else {
		mailbox_select_begin(fx->mb);
		mailbox_set_uidvalidity(fx->mb, 1);
		mailbox_exists(fx->mb, total);
		for (uint32_t uid = 1; uid <= total; uid++) {
			fetch_flags(fx, uid, uid, NONE);
		}
		mailbox_select_end(fx->mb);
	}
	g_assert_cmpuint(mailbox_get_unseen(fx->mb), ==, total);
	mailbox_get_missing_details(fx->mb, 1000, missing);
	g_assert_cmpuint(missing->len, ==, MAILBOX_CATCHUP_DETAILS);
	for (guint i = 0; i < missing->len; i++) {
		uint32_t uid = g_array_index(missing, uint32_t, i);

		g_assert_cmpuint(uid, ==, total - i); /* newest first */
		fetch_header(fx, uid, uid, "old");
	}
	g_array_set_size(missing, 0);
	mailbox_get_missing_details(fx->mb, 1000, missing);
	g_assert_cmpuint(missing->len, ==, 0);
	uint64_t count = 1;
	g_assert_true(mailbox_count_new(fx->mb, &count));
	g_assert_cmpuint(count, ==, 0);
	mailbox_exists(fx->mb, total + 3);
	g_assert_true(mailbox_count_new(fx->mb, &count));
	g_assert_cmpuint(count, ==, 3);
}

/* A server with neither QRESYNC nor CONDSTORE, after a restart with saved
 * sets: the full listing is compared with them — what was read and what
 * went while the daemon was stopped is reported, a flag other than \Seen
 * the sets never knew is not a change, and the next save has the sets. */
static void test_saved_sets_into_map(struct fixture *fx, gconstpointer data)
{
	static const char *const FLAGGED[] = {"\\Seen", "\\Flagged", NULL};
	g_autoptr(uidset) all = uidset_new();
	g_autoptr(uidset) unseen = uidset_new();
	const struct uidset *saved_all = NULL;
	const struct uidset *saved_unseen = NULL;

	(void)data;
	uidset_add_range(all, 1, 4);
	uidset_add_range(unseen, 2, 3);
	mailbox_restore(fx->mb, 7, 4);
	mailbox_restore_sets(fx->mb, 0, all, unseen);
	mailbox_set_compact(fx->mb, false);
	mailbox_select_begin(fx->mb);
	mailbox_set_uidvalidity(fx->mb, 7);
	mailbox_exists(fx->mb, 3);
	fetch_flags(fx, 1, 1, FLAGGED); /* \Seen as saved: no change */
	fetch_flags(fx, 2, 2, SEEN);    /* read elsewhere */
	fetch_flags(fx, 3, 4, NONE);    /* 3 went; 4 was seen, now not */
	mailbox_select_end(fx->mb);
	assert_log(fx, "changed 2 seen|changed 4 unseen|removed 3|unseen 1|");
	g_assert_true(mailbox_get_sets(fx->mb, &saved_all, &saved_unseen));
	g_assert_cmpuint(uidset_count(saved_all), ==, 3);
	g_assert_true(uidset_contains(saved_unseen, 4));
	g_assert_cmpuint(uidset_count(saved_unseen), ==, 1);
}

/* Compact mode after a restart: the unseen count disagrees with the saved
 * set, and the selection is aborted before the unseen UIDs come. The saved
 * sets stay resumable, and the next selection still reports what went
 * meanwhile (N11). */
static void test_compact_count_disagrees_then_abort(struct fixture *fx, gconstpointer data)
{
	g_autoptr(uidset) all = uidset_new();
	g_autoptr(uidset) unseen = uidset_new();
	g_autoptr(uidset) now = uidset_new();

	(void)data;
	uidset_add_range(all, 1, 5);
	uidset_add(unseen, 3);
	uidset_add_range(now, 1, 4);
	mailbox_restore(fx->mb, 7, 5);
	mailbox_restore_sets(fx->mb, 20, all, unseen);
	mailbox_set_compact(fx->mb, true);
	g_assert_true(mailbox_sets_resumable(fx->mb));
	mailbox_select_begin(fx->mb);
	mailbox_set_uidvalidity(fx->mb, 7);
	mailbox_exists(fx->mb, 4);
	g_assert_false(mailbox_set_all(fx->mb, now));
	g_assert_false(mailbox_unseen_agrees(fx->mb, 2));
	mailbox_abort(fx->mb);
	assert_log(fx, "");
	g_assert_true(mailbox_sets_resumable(fx->mb));
	g_assert_cmpuint(mailbox_get_modseq(fx->mb), ==, 20);

	mailbox_select_begin(fx->mb);
	mailbox_set_uidvalidity(fx->mb, 7);
	mailbox_exists(fx->mb, 4);
	g_assert_false(mailbox_set_all(fx->mb, now));
	g_assert_true(mailbox_unseen_agrees(fx->mb, 1));
	mailbox_select_end(fx->mb);
	assert_log(fx, "removed 5|unseen 1|");
}

static void count_message(const struct mailbox_message *m, void *user_data)
{
	(void)m;
	(*(unsigned *)user_data)++;
}

/* Details kept stay within MAILBOX_MAX_DETAILS however many messages are
 * reported; the oldest seen one goes first, then the oldest. */
static void test_details_are_bounded(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1};
	const uint32_t total = MAILBOX_MAX_DETAILS + 10;
	unsigned kept = 0;

	(void)data;
	select_with(fx, 1, uids, 1);
	for (uint32_t uid = 2; uid <= total + 1; uid++) {
		mailbox_exists(fx->mb, uid);
		fetch_header(fx, uid, uid, "s");
		mailbox_new_end(fx->mb);
	}
	fetch_flags(fx, total, total, SEEN); /* one of the newest read */
	mailbox_exists(fx->mb, total + 2);
	fetch_header(fx, total + 2, total + 2, "s");
	mailbox_new_end(fx->mb);
	mailbox_foreach_message(fx->mb, false, count_message, &kept);
	g_assert_cmpuint(kept, ==, MAILBOX_MAX_DETAILS);
	g_assert_null(mailbox_get_message(fx->mb, total));        /* the seen one went */
	g_assert_nonnull(mailbox_get_message(fx->mb, total + 2)); /* the newest stays */
	g_assert_null(mailbox_get_message(fx->mb, 11));           /* the oldest went */
	g_assert_nonnull(mailbox_get_message(fx->mb, 13));
}

static void test_text_is_bounded(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1};
	g_autoptr(GString) subject = g_string_new(NULL);

	(void)data;
	select_with(fx, 1, uids, 1);
	assert_log(fx, "unseen 0|");
	for (int i = 0; i < 3 * MAILBOX_MAX_TEXT; i++) {
		g_string_append(subject, "\xc3\xa9"); /* two bytes, one character */
	}
	mailbox_exists(fx->mb, 2);
	fetch_header(fx, 2, 2, subject->str);
	mailbox_new_end(fx->mb);
	const struct mailbox_message *m = mailbox_get_message(fx->mb, 2);
	g_assert_nonnull(m);
	g_assert_true(g_utf8_validate(m->subject, -1, NULL));
	g_assert_cmpint(g_utf8_strlen(m->subject, -1), ==, MAILBOX_MAX_TEXT);
	g_assert_true(g_str_has_prefix(subject->str, m->subject));
	g_autofree char *expected = g_strdup_printf("new 2 %s|unseen 1|", m->subject);
	assert_log(fx, expected);
}

/* --- changes of our own (mark as read) ----------------------------------- */

static void fetch_compact(struct fixture *fx, uint32_t uid, const char *const *flags,
                          uint64_t modseq)
{
	struct mailbox_fetch f = {
	    .seq = 1,
	    .has_uid = true,
	    .uid = uid,
	    .has_flags = true,
	    .flags = flags,
	    .modseq = modseq,
	};
	mailbox_fetch(fx->mb, &f);
}

/* Compact mode, UIDs 1..n, those of unseen_set unseen, HIGHESTMODSEQ 10. */
static void select_compact(struct fixture *fx, uint32_t n, const char *unseen_set, bool first)
{
	g_autoptr(uidset) all = uidset_new();
	g_autoptr(uidset) unseen = uidset_new();

	uidset_add_range(all, 1, n);
	g_assert_true(uidset_parse(unseen, unseen_set, 100));
	mailbox_set_compact(fx->mb, true);
	mailbox_select_begin(fx->mb);
	mailbox_set_uidvalidity(fx->mb, 1);
	mailbox_set_modseq(fx->mb, 10);
	mailbox_exists(fx->mb, n);
	g_assert_true(mailbox_set_all(fx->mb, all) == first);
	if (first || !mailbox_unseen_agrees(fx->mb, uidset_count(unseen))) {
		mailbox_set_unseen(fx->mb, unseen);
	}
	mailbox_select_end(fx->mb);
}

static char *flags_of(struct fixture *fx, uint32_t uid)
{
	const struct mailbox_message *m = mailbox_get_message(fx->mb, uid);

	g_assert_nonnull(m);
	return g_strjoinv(" ", m->flags);
}

/* Map mode: the change shows at once, one event per message, and the
 * server's FETCH of the same flags (or a new selection that finds them)
 * reports nothing again; a FETCH that says more is a change. */
static void test_add_seen_map(struct fixture *fx, gconstpointer data)
{
	static const uint32_t uids[] = {1, 2, 3, 4};
	static const uint32_t marked[] = {2, 3, 4, 9, 0};
	static const char *const SEEN_FLAGGED[] = {"\\Seen", "\\Flagged", NULL};

	(void)data;
	select_with(fx, 1, uids, 4);
	assert_log(fx, "unseen 2|");
	/* 3 is seen already, 9 not there, 0 no UID. */
	mailbox_add_seen(fx->mb, marked, G_N_ELEMENTS(marked));
	assert_log(fx, "changed 2 seen|changed 4 seen|unseen 0|");
	g_assert_cmpuint(mailbox_get_unseen(fx->mb), ==, 0);
	fetch_flags(fx, 2, 0, SEEN); /* no UID: resolved by the map */
	fetch_flags(fx, 4, 4, SEEN);
	assert_log(fx, "");
	mailbox_add_seen(fx->mb, marked, 2);
	assert_log(fx, "");
	/* A reconnect's listing finds them read: no change. */
	mailbox_select_begin(fx->mb);
	mailbox_set_uidvalidity(fx->mb, 1);
	mailbox_exists(fx->mb, 4);
	for (uint32_t uid = 1; uid <= 4; uid++) {
		fetch_flags(fx, uid, uid, SEEN);
	}
	mailbox_select_end(fx->mb);
	assert_log(fx, "");
	/* The server knows a flag the model had not been told of. */
	static const uint32_t five[] = {5};
	mailbox_exists(fx->mb, 5);
	fetch_header(fx, 5, 5, "five");
	mailbox_new_end(fx->mb);
	assert_log(fx, "new 5 five|unseen 1|");
	mailbox_add_seen(fx->mb, five, 1);
	assert_log(fx, "changed 5 seen|unseen 0|");
	g_autofree char *reported = flags_of(fx, 5);
	g_assert_cmpstr(reported, ==, "\\Seen");
	fetch_flags(fx, 5, 5, SEEN_FLAGGED);
	assert_log(fx, "changed 5 seen|");
}

/* Map mode: the flags reported are those the model knows with \Seen
 * added; a FETCH that came first leaves nothing to do. */
static void test_add_seen_keeps_flags(struct fixture *fx, gconstpointer data)
{
	static const char *const FLAGGED[] = {"\\Flagged", "$Work", NULL};
	static const char *const ALL[] = {"$Work", "\\Seen", "\\Flagged", NULL};
	static const uint32_t one[] = {1};
	static const uint32_t two[] = {2};

	(void)data;
	mailbox_select_begin(fx->mb);
	mailbox_set_uidvalidity(fx->mb, 1);
	mailbox_exists(fx->mb, 2);
	fetch_flags(fx, 1, 1, FLAGGED);
	fetch_flags(fx, 2, 2, NONE);
	mailbox_select_end(fx->mb);
	struct header_fields h = {.subject = (char *)"one"};
	struct mailbox_fetch details = {
	    .seq = 1,
	    .has_uid = true,
	    .uid = 1,
	    .has_flags = true,
	    .flags = FLAGGED,
	    .has_header = true,
	    .header = &h,
	};
	mailbox_fetch(fx->mb, &details);
	assert_log(fx, "unseen 2|");
	mailbox_add_seen(fx->mb, one, 1);
	assert_log(fx, "changed 1 seen|unseen 1|");
	g_autofree char *reported = flags_of(fx, 1);
	g_assert_cmpstr(reported, ==, "\\Flagged $Work \\Seen");
	fetch_flags(fx, 1, 1, ALL); /* another order, the same flags */
	assert_log(fx, "");
	fetch_flags(fx, 2, 2, SEEN);
	mailbox_flush_unseen(fx->mb); /* as the session does after a batch */
	assert_log(fx, "changed 2 seen|unseen 0|");
	mailbox_add_seen(fx->mb, two, 1);
	assert_log(fx, "");
	/* During a selection the server's listing decides. */
	mailbox_select_begin(fx->mb);
	mailbox_add_seen(fx->mb, two, 1);
	mailbox_abort(fx->mb);
	assert_log(fx, "");
}

/* Compact mode: the same, with UID sets; the FETCH of the IDLE
 * connection, or QRESYNC's after a reconnect, reports nothing again. */
static void test_add_seen_compact(struct fixture *fx, gconstpointer data)
{
	static const char *const SEEN_FLAGGED[] = {"\\Seen", "\\Flagged", NULL};
	static const uint32_t marked[] = {2, 3, 4, 7};
	static const uint32_t five[] = {5};

	(void)data;
	select_compact(fx, 6, "2,4:6", true);
	assert_log(fx, "unseen 4|");
	mailbox_add_seen(fx->mb, marked, G_N_ELEMENTS(marked));
	assert_log(fx, "changed 2 seen|changed 4 seen|unseen 2|");
	fetch_compact(fx, 2, SEEN, 11);
	assert_log(fx, "");
	/* Unasked and the same again: a FETCH is a change (RFC 9051 §7.5.2). */
	fetch_compact(fx, 2, SEEN, 12);
	assert_log(fx, "changed 2 seen|");
	/* 4's FETCH comes only with the resynchronisation after a reconnect. */
	mailbox_select_begin(fx->mb);
	mailbox_set_uidvalidity(fx->mb, 1);
	mailbox_exists(fx->mb, 6);
	fetch_compact(fx, 4, SEEN, 13);
	mailbox_set_modseq(fx->mb, 13);
	g_autoptr(uidset) all = uidset_new();
	uidset_add_range(all, 1, 6);
	g_assert_false(mailbox_set_all(fx->mb, all));
	g_assert_true(mailbox_unseen_agrees(fx->mb, 2));
	mailbox_select_end(fx->mb);
	assert_log(fx, "");
	/* Then a FETCH is news again. */
	fetch_compact(fx, 4, SEEN, 14);
	assert_log(fx, "changed 4 seen|");
	/* A FETCH that says more than was reported is a change. */
	mailbox_add_seen(fx->mb, five, 1);
	assert_log(fx, "changed 5 seen|unseen 1|");
	fetch_compact(fx, 5, SEEN_FLAGGED, 15);
	assert_log(fx, "changed 5 seen|");
	g_assert_cmpuint(mailbox_get_unseen(fx->mb), ==, 1);
	const struct uidset *saved_all = NULL;
	const struct uidset *saved_unseen = NULL;
	g_assert_true(mailbox_get_sets(fx->mb, &saved_all, &saved_unseen));
	g_assert_cmpuint(uidset_count(saved_unseen), ==, 1);
	g_assert_true(uidset_contains(saved_unseen, 6));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fx_setup, fn, fx_teardown)
	ADD("/mailbox/baseline-is-not-news", test_baseline_is_not_news);
	ADD("/mailbox/expunge-renumbers", test_expunge_renumbers);
	ADD("/mailbox/vanished", test_vanished);
	ADD("/mailbox/vanished-wide-set", test_vanished_wide_set);
	ADD("/mailbox/new-in-uid-order-once", test_new_in_uid_order_once);
	ADD("/mailbox/abort-keeps-news-for-later", test_abort_keeps_news_for_later);
	ADD("/mailbox/expunged-before-fetch", test_expunged_before_fetch);
	ADD("/mailbox/resync-reports-changes-while-away", test_resync_reports_changes_while_away);
	ADD("/mailbox/uidvalidity-change-rebaselines", test_uidvalidity_change_rebaselines);
	ADD("/mailbox/recent-is-not-a-change", test_recent_is_not_a_change);
	ADD("/mailbox/restored-watermark", test_restored_watermark);
	ADD("/mailbox/details", test_details);
	ADD("/mailbox/uidvalidity-after-exists", test_uidvalidity_after_exists);
	ADD("/mailbox/reset-once-then-news", test_reset_once_then_news);
	ADD("/mailbox/reset-after-abort", test_reset_after_abort);
	ADD("/mailbox/reset-after-restore", test_reset_after_restore);
	ADD("/mailbox/reset-to-empty", test_reset_to_empty);
	ADD("/mailbox/burst-is-bounded", test_burst_is_bounded);
	ADD("/mailbox/text-is-bounded", test_text_is_bounded);
	ADD("/mailbox/details-are-bounded", test_details_are_bounded);
	ADD("/mailbox/saved-sets-into-map", test_saved_sets_into_map);
	ADD("/mailbox/compact-count-disagrees-then-abort", test_compact_count_disagrees_then_abort);
	ADD("/mailbox/add-seen/map", test_add_seen_map);
	ADD("/mailbox/add-seen/keeps-flags", test_add_seen_keeps_flags);
	ADD("/mailbox/add-seen/compact", test_add_seen_compact);
	g_test_add("/mailbox/catchup-details-are-bounded/map", struct fixture, NULL, fx_setup,
	           test_catchup_details_are_bounded, fx_teardown);
	g_test_add("/mailbox/catchup-details-are-bounded/compact", struct fixture, "", fx_setup,
	           test_catchup_details_are_bounded, fx_teardown);
#undef ADD
	return g_test_run();
}
