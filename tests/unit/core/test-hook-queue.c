/* SPDX-License-Identifier: MIT */
/* When hooks run: debounce, the maximum delay, one run at a time, the
 * bound on a batch; on a fake clock (microseconds). */
#include "imapwatch/core/hook-queue.h"

#include <string.h>

#define S G_USEC_PER_SEC

static const struct config_hook_timing timing = {.delay = 2, .max_delay = 30, .timeout = 60};

static struct watch_event new_event(const char *folder, uint32_t uid)
{
	return (struct watch_event){
	    .type = WATCH_EVENT_NEW,
	    .account = "a",
	    .folder = folder,
	    .uidvalidity = 7,
	    .uid = uid,
	    .subject = "hi",
	};
}

static void test_debounce(void)
{
	struct hook_queue *q = hook_queue_new();
	struct watch_event e = new_event("INBOX", 1);

	g_assert_cmpint(hook_queue_due(q, &timing), ==, -1);
	g_assert_null(hook_queue_take(q));
	hook_queue_add(q, &e, 100 * S);
	g_assert_cmpint(hook_queue_due(q, &timing), ==, 102 * S);
	/* Each event moves the run to delay after it ... */
	hook_queue_add(q, &e, 101 * S);
	g_assert_cmpint(hook_queue_due(q, &timing), ==, 103 * S);
	/* ... but never past max_delay after the first. */
	for (gint64 t = 102; t <= 140; t++) {
		hook_queue_add(q, &e, t * S);
	}
	g_assert_cmpint(hook_queue_due(q, &timing), ==, 130 * S);

	hook_batch *b = hook_queue_take(q);
	g_assert_cmpuint(b->count, ==, 41);
	g_assert_cmpuint(b->events->len, ==, 41);
	hook_batch_free(b);
	/* Running: nothing is due, whatever comes. */
	g_assert_true(hook_queue_running(q));
	g_assert_cmpint(hook_queue_due(q, &timing), ==, -1);
	hook_queue_add(q, &e, 200 * S);
	g_assert_cmpint(hook_queue_due(q, &timing), ==, -1);
	hook_queue_finished(q);
	/* What came during the run is due as it would have been. */
	g_assert_cmpint(hook_queue_due(q, &timing), ==, 202 * S);
	b = hook_queue_take(q);
	g_assert_cmpuint(b->count, ==, 1);
	hook_batch_free(b);
	hook_queue_finished(q);
	g_assert_true(hook_queue_empty(q));
	g_assert_cmpint(hook_queue_due(q, &timing), ==, -1);
	hook_queue_free(q);
}

static void test_zero_delay(void)
{
	static const struct config_hook_timing now = {.delay = 0, .max_delay = 30};
	struct hook_queue *q = hook_queue_new();
	struct watch_event e = new_event("INBOX", 1);

	hook_queue_add(q, &e, 5 * S);
	g_assert_cmpint(hook_queue_due(q, &now), ==, 5 * S);
	hook_queue_free(q);
}

static void test_bound(void)
{
	struct hook_queue *q = hook_queue_new();

	for (uint32_t uid = 1; uid <= HOOK_QUEUE_MAX_EVENTS + 5; uid++) {
		struct watch_event e = new_event("INBOX", uid);

		hook_queue_add(q, &e, S);
	}
	hook_batch *b = hook_queue_take(q);
	g_assert_cmpuint(b->count, ==, HOOK_QUEUE_MAX_EVENTS + 5);
	g_assert_cmpuint(b->events->len, ==, HOOK_QUEUE_MAX_EVENTS);
	/* The oldest are kept. */
	g_assert_cmpuint(((struct watch_event *)b->events->pdata[0])->uid, ==, 1);
	hook_batch_free(b);
	hook_queue_free(q);
}

static void test_json_and_folder(void)
{
	struct hook_queue *q = hook_queue_new();
	struct watch_event one = new_event("INBOX", 1);
	struct watch_event two = new_event("INBOX", 2);
	struct watch_event other = new_event("Lists/x", 3);
	struct watch_event state = {.type = WATCH_EVENT_STATE, .account = "a", .state = "idle"};
	g_autofree char *one_json = watch_event_to_json(&one);
	g_autofree char *two_json = watch_event_to_json(&two);

	hook_queue_add(q, &one, S);
	hook_batch *b = hook_queue_take(q);
	g_autofree char *text = hook_batch_to_json(b);
	g_autofree char *expect = g_strconcat(one_json, "\n", NULL);
	g_assert_cmpstr(text, ==, expect);
	g_assert_cmpstr(hook_batch_folder(b), ==, "INBOX");
	hook_batch_free(b);
	hook_queue_finished(q);

	hook_queue_add(q, &one, S);
	hook_queue_add(q, &two, S);
	b = hook_queue_take(q);
	g_autofree char *pair = hook_batch_to_json(b);
	g_autofree char *expect_pair = g_strdup_printf("[%s,%s]\n", one_json, two_json);
	g_assert_cmpstr(pair, ==, expect_pair);
	g_assert_cmpstr(hook_batch_folder(b), ==, "INBOX");
	hook_batch_free(b);
	hook_queue_finished(q);

	hook_queue_add(q, &one, S);
	hook_queue_add(q, &other, S);
	b = hook_queue_take(q);
	g_assert_cmpstr(hook_batch_folder(b), ==, "");
	hook_batch_free(b);
	hook_queue_finished(q);

	hook_queue_add(q, &state, S);
	b = hook_queue_take(q);
	g_assert_cmpstr(hook_batch_folder(b), ==, "");
	hook_batch_free(b);
	hook_queue_free(q);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hook-queue/debounce", test_debounce);
	g_test_add_func("/hook-queue/zero-delay", test_zero_delay);
	g_test_add_func("/hook-queue/bound", test_bound);
	g_test_add_func("/hook-queue/json-and-folder", test_json_and_folder);
	return g_test_run();
}
