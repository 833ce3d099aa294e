/* SPDX-License-Identifier: MIT */
/*
 * How long the server lets an IDLE live (I9), learnt from the IDLEs it
 * ends, on durations of the test's own: what is learnt, when, what is never
 * learnt, and when a learnt refresh is dropped or kept.
 */
#include "imapwatch/core/idle-lifetime.h"

#include <glib.h>

#define S(seconds) ((gint64)((seconds)*G_USEC_PER_SEC))

#define N IDLE_LIFETIME_NOTHING
#define L IDLE_LIFETIME_LEARNT
#define T IDLE_LIFETIME_TOO_SHORT
#define D IDLE_LIFETIME_DROPPED

/* One ended IDLE: 's' the server ended it, 'o' we did (DONE); after lasted
 * seconds; planned: the refresh it was given, 0: what the policy says at
 * its start. */
struct ended {
	char who;
	double lasted;
	guint planned;
	enum idle_lifetime_news expected;
};

struct scenario {
	const char *name;
	guint idle_refresh;
	struct ended ends[24];   /* up to who == 0 */
	guint expected_refresh;  /* idle_lifetime_refresh() at the end */
	guint expected_lifetime; /* what is learnt (0: nothing) */
};

static const struct scenario scenarios[] = {
    /* A provider that ends the connection after about 5 minutes: the
     * third time the refresh is learnt at 80 % of the shortest, and
     * refreshes at that time keep it. */
    {"five-minutes",
     540,
     {{'s', 298.4, 0, N},
      {'s', 301, 0, N},
      {'s', 299, 0, L},
      {'o', 238, 0, N},
      {'o', 238, 0, N},
      {'o', 238, 0, N},
      {'o', 238, 0, N}},
     238,
     298},
    /* Two are not enough, and an IDLE of ours that lived longer than
     * those the server ended starts the count again. */
    {"outlived",
     540,
     {{'s', 298, 0, N}, {'s', 299, 0, N}, {'o', 540, 0, N}, {'s', 298, 0, N}, {'s', 300, 0, N}},
     540,
     0},
    /* IDLEs we end early (new mail) say nothing of the server's limit. */
    {"news-between",
     540,
     {{'s', 298, 0, N}, {'o', 12, 0, N}, {'s', 300, 0, N}, {'o', 290, 0, N}, {'s', 299, 0, L}},
     238,
     298},
    /* Lengths that are not about the same teach nothing. */
    {"scattered",
     540,
     {{'s', 100, 0, N},
      {'s', 300, 0, N},
      {'s', 200, 0, N},
      {'s', 400, 0, N},
      {'s', 130, 0, N},
      {'s', 330, 0, N}},
     540,
     0},
    /* About the same: within 20 s for short lifetimes ... */
    {"slack-seconds", 540, {{'s', 100, 0, N}, {'s', 120, 0, N}, {'s', 110, 0, L}}, 80, 100},
    {"slack-seconds-exceeded", 540, {{'s', 100, 0, N}, {'s', 121, 0, N}, {'s', 110, 0, N}}, 540, 0},
    /* ... within 15 % for long ones (a Cyrus imapidletimeout of 20 min,
     * with idle_refresh at its longest). */
    {"slack-percent", 1740, {{'s', 1195, 0, N}, {'s', 1370, 0, N}, {'s', 1200, 0, L}}, 956, 1195},
    /* The shortest refresh learnt is the floor ... */
    {"floor", 540, {{'s', 75, 0, N}, {'s', 76, 0, N}, {'s', 75, 0, L}}, 60, 75},
    /* ... and a server that ends IDLE sooner is said once, not learnt. */
    {"too-short",
     540,
     {{'s', 50, 0, N},
      {'s', 52, 0, N},
      {'s', 51, 0, T},
      {'s', 50, 0, N},
      {'s', 50, 0, N},
      {'s', 50, 0, N}},
     540,
     0},
    /* Too short once, then the server settles on a longer limit. */
    {"too-short-then-learnt",
     540,
     {{'s', 30, 0, N},
      {'s', 30, 0, N},
      {'s', 30, 0, T},
      {'s', 200, 0, N},
      {'s', 200, 0, N},
      {'s', 200, 0, L}},
     160,
     200},
    /* Ended when the refresh was due anyway: nothing to learn. */
    {"at-refresh", 540, {{'s', 540, 0, N}, {'s', 541, 0, N}, {'s', 540.5, 0, N}}, 540, 0},
    /* The limit counts from the login, not from the IDLE: the learnt
     * refresh does not help, the server still ends the IDLE after it (at
     * whatever length). Dropped after two, and never learnt again. */
    {"since-login",
     540,
     {{'s', 299, 0, N},
      {'s', 299, 0, N},
      {'s', 299, 0, L},
      {'o', 239, 0, N},
      {'s', 60, 0, N},
      {'o', 239, 0, N},
      {'s', 60, 0, D},
      {'s', 299, 0, N},
      {'s', 299, 0, N},
      {'s', 299, 0, N},
      {'s', 299, 0, N}},
     540,
     0},
    /* A miss now and then (a server restart) among refreshes that work
     * does not drop it: three planned refreshes forgive a miss; a second
     * miss before them (IDLEs ended early by new mail do not count)
     * does. */
    {"kept",
     540,
     {{'s', 299, 0, N},
      {'s', 299, 0, N},
      {'s', 299, 0, L},
      {'s', 100, 0, N},
      {'o', 239, 0, N},
      {'o', 239, 0, N},
      {'o', 239, 0, N},
      {'s', 5, 0, N},
      {'o', 239, 0, N},
      {'o', 10, 0, N},
      {'o', 20, 0, N},
      {'s', 30, 0, D}},
     540,
     0},
    /* IDLEs begun before the refresh was learnt (on the account's other
     * connections) still end at the old limit: no misses. */
    {"begun-before",
     540,
     {{'s', 299, 0, N},
      {'s', 299, 0, N},
      {'s', 299, 0, L},
      {'s', 299, 540, N},
      {'s', 299, 540, N},
      {'o', 239, 0, N}},
     239,
     299},
    /* Test-sized lifetimes are far under the real floor. */
    {"seconds", 540, {{'s', 4, 0, N}, {'s', 4.2, 0, N}, {'s', 4.1, 0, T}}, 540, 0},
};

static void test_scenarios(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(scenarios); i++) {
		const struct scenario *s = &scenarios[i];
		struct idle_lifetime l;

		idle_lifetime_init(&l, &idle_lifetime_defaults);
		for (size_t k = 0; s->ends[k].who != 0; k++) {
			const struct ended *e = &s->ends[k];
			guint planned = e->planned != 0
			                    ? e->planned
			                    : idle_lifetime_refresh(&l, s->idle_refresh);
			enum idle_lifetime_news news = idle_lifetime_ended(
			    &l, e->who == 's' ? IDLE_LIFETIME_END_SERVER : IDLE_LIFETIME_END_OURS,
			    S(e->lasted), planned, s->idle_refresh);

			if (news != e->expected) {
				g_error("%s, IDLE %zu (%c, %.1f s): news %d, expected %d", s->name,
				        k, e->who, e->lasted, news, e->expected);
			}
		}
		guint refresh = idle_lifetime_refresh(&l, s->idle_refresh);
		if (refresh != s->expected_refresh || l.lifetime != s->expected_lifetime) {
			g_error("%s: refresh %u s, lifetime %u s; expected %u s, %u s", s->name,
			        refresh, l.lifetime, s->expected_refresh, s->expected_lifetime);
		}
	}
}

/* What TOO_SHORT and LEARNT report. */
static void test_observed(void)
{
	struct idle_lifetime l;

	idle_lifetime_init(&l, &idle_lifetime_defaults);
	for (int i = 0; i < 2; i++) {
		g_assert_cmpint(
		    idle_lifetime_ended(&l, IDLE_LIFETIME_END_SERVER, S(45.4), 540, 540), ==, N);
	}
	g_assert_cmpint(idle_lifetime_ended(&l, IDLE_LIFETIME_END_SERVER, S(46), 540, 540), ==, T);
	g_assert_cmpuint(l.observed, ==, 45);
	g_assert_cmpuint(l.refresh, ==, 0);
}

/* A test's small floor: everything scales with it. */
static void test_small_floor(void)
{
	const struct idle_lifetime_params small = {.floor = 2, .slack = 1};
	struct idle_lifetime l;

	idle_lifetime_init(&l, &small);
	g_assert_cmpint(idle_lifetime_ended(&l, IDLE_LIFETIME_END_SERVER, S(4.0), 60, 60), ==, N);
	g_assert_cmpint(idle_lifetime_ended(&l, IDLE_LIFETIME_END_SERVER, S(4.6), 60, 60), ==, N);
	g_assert_cmpint(idle_lifetime_ended(&l, IDLE_LIFETIME_END_SERVER, S(4.3), 60, 60), ==, L);
	g_assert_cmpuint(idle_lifetime_refresh(&l, 60), ==, 3);
	g_assert_cmpuint(l.lifetime, ==, 4);
	/* Refreshes at 3 s that the server lets happen. */
	for (int i = 0; i < 5; i++) {
		g_assert_cmpint(idle_lifetime_ended(&l, IDLE_LIFETIME_END_OURS, S(3.0), 3, 60), ==,
		                N);
	}
	g_assert_cmpuint(idle_lifetime_refresh(&l, 60), ==, 3);
	g_assert_cmpint(idle_lifetime_reissue_after(&l, S(1.5)), ==, S(0.5));
	g_assert_cmpint(idle_lifetime_reissue_after(&l, S(2)), ==, 0);
}

/* What an earlier run learnt comes back only when it could have been
 * learnt; idle_refresh still bounds it. */
static void test_restore(void)
{
	struct idle_lifetime l;

	idle_lifetime_init(&l, &idle_lifetime_defaults);
	g_assert_false(idle_lifetime_restore(&l, 50, 40));     /* under the floor */
	g_assert_false(idle_lifetime_restore(&l, 200, 200));   /* not before the lifetime */
	g_assert_false(idle_lifetime_restore(&l, 4000, 3000)); /* beyond any refresh */
	g_assert_cmpuint(idle_lifetime_refresh(&l, 540), ==, 540);
	g_assert_true(idle_lifetime_restore(&l, 298, 238));
	g_assert_cmpuint(idle_lifetime_refresh(&l, 540), ==, 238);
	g_assert_cmpuint(idle_lifetime_refresh(&l, 120), ==, 120);
	/* Under a lower idle_refresh the server still ending IDLE is a miss. */
	g_assert_cmpint(idle_lifetime_ended(&l, IDLE_LIFETIME_END_SERVER, S(100), 120, 120), ==, N);
	g_assert_cmpint(idle_lifetime_ended(&l, IDLE_LIFETIME_END_SERVER, S(100), 120, 120), ==, D);
	g_assert_cmpuint(idle_lifetime_refresh(&l, 540), ==, 540);
}

/* A server that completes every IDLE at once is not answered with a loop:
 * the next IDLE waits for the rest of the floor. */
static void test_reissue(void)
{
	struct idle_lifetime l;

	idle_lifetime_init(&l, &idle_lifetime_defaults);
	g_assert_cmpint(idle_lifetime_reissue_after(&l, 0), ==, S(60));
	g_assert_cmpint(idle_lifetime_reissue_after(&l, S(0.25)), ==, S(59.75));
	g_assert_cmpint(idle_lifetime_reissue_after(&l, S(59)), ==, S(1));
	g_assert_cmpint(idle_lifetime_reissue_after(&l, S(60)), ==, 0);
	g_assert_cmpint(idle_lifetime_reissue_after(&l, S(600)), ==, 0);
}

static void test_format(void)
{
	char buf[16];

	g_assert_cmpstr(idle_lifetime_format(0, buf, sizeof(buf)), ==, "0s");
	g_assert_cmpstr(idle_lifetime_format(50, buf, sizeof(buf)), ==, "50s");
	g_assert_cmpstr(idle_lifetime_format(60, buf, sizeof(buf)), ==, "1m");
	g_assert_cmpstr(idle_lifetime_format(238, buf, sizeof(buf)), ==, "3m58s");
	g_assert_cmpstr(idle_lifetime_format(240, buf, sizeof(buf)), ==, "4m");
	g_assert_cmpstr(idle_lifetime_format(3601, buf, sizeof(buf)), ==, "60m01s");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/idle-lifetime/scenarios", test_scenarios);
	g_test_add_func("/idle-lifetime/observed", test_observed);
	g_test_add_func("/idle-lifetime/small-floor", test_small_floor);
	g_test_add_func("/idle-lifetime/restore", test_restore);
	g_test_add_func("/idle-lifetime/reissue", test_reissue);
	g_test_add_func("/idle-lifetime/format", test_format);
	return g_test_run();
}
