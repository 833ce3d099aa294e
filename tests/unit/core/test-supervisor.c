/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's decisions on a clock of the test's own: backoff growth
 * and jitter, which part's state the account shows, and what follows a
 * failure — stop, retry after how long, when the backoff starts afresh,
 * and what being offline changes.
 */
#include "imapwatch/core/supervisor.h"

#include <glib.h>

#define S(seconds) ((gint64)(seconds)*G_USEC_PER_SEC)

static void test_growth(void)
{
	/* The upper end of the jitter range doubles from 1 s up to 5 min. */
	static const uint32_t expected_max[] = {1000,  2000,   4000,   8000,   16000, 32000,
	                                        64000, 128000, 256000, 300000, 300000};

	for (unsigned i = 0; i < G_N_ELEMENTS(expected_max); i++) {
		g_assert_cmpuint(supervisor_backoff_ms(i, false, UINT32_MAX), <=, expected_max[i]);
		g_assert_cmpuint(
		    supervisor_backoff_ms(i, false, expected_max[i] - expected_max[i] / 2), ==,
		    expected_max[i]);
		g_assert_cmpuint(supervisor_backoff_ms(i, false, 0), ==, expected_max[i] / 2);
	}
	g_assert_cmpuint(supervisor_backoff_ms(1000, false, 0), ==, 150000);
}

static void test_resource(void)
{
	g_assert_cmpuint(supervisor_backoff_ms(0, true, 0), ==, 15000);
	g_assert_cmpuint(supervisor_backoff_ms(0, true, 15000), ==, 30000);
	g_assert_cmpuint(supervisor_backoff_ms(20, true, 150000), ==, 300000);
}

static void test_jitter_range(void)
{
	GRand *rand = g_rand_new_with_seed(42);

	for (unsigned attempt = 0; attempt < 12; attempt++) {
		uint32_t lo = UINT32_MAX;
		uint32_t hi = 0;

		for (int i = 0; i < 2000; i++) {
			uint32_t d = supervisor_backoff_ms(attempt, false, g_rand_int(rand));
			lo = MIN(lo, d);
			hi = MAX(hi, d);
		}
		uint32_t nominal = MIN(1000u << attempt, 300000u);
		g_assert_cmpuint(lo, >=, nominal / 2);
		g_assert_cmpuint(hi, <=, nominal);
		/* Jitter really spreads the delays. */
		g_assert_cmpuint(hi - lo, >, nominal / 4);
	}
	g_rand_free(rand);
}

#define D WATCH_STATE_DISCONNECTED
#define C WATCH_STATE_CONNECTING
#define A WATCH_STATE_AUTHENTICATING
#define Y WATCH_STATE_SYNCING
#define I WATCH_STATE_IDLE
#define P WATCH_STATE_POLLING
#define B WATCH_STATE_BACKOFF
#define E WATCH_STATE_ERROR
#define X WATCH_STATE_DISABLED

/* The account shows its least advanced part; error, then backoff, first;
 * disabled only when every part is. */
static void test_pick_state(void)
{
	static const struct {
		enum watch_state parts[4];
		size_t n;
		enum watch_state expected;
	} cases[] = {
	    {{I}, 1, I},       {{I, I, I}, 3, I}, {{I, P}, 2, P},    {{I, Y, P}, 3, Y},
	    {{Y, A, C}, 3, C}, {{I, C, D}, 3, D}, {{I, D, B}, 3, B}, {{B, E, I}, 3, E},
	    {{E, B}, 2, E},    {{X, I}, 2, I},    {{X, X}, 2, X},    {{I, I, I, C}, 4, C},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t pick = supervisor_pick_state(cases[i].parts, cases[i].n);

		g_assert_cmpuint(pick, <, cases[i].n);
		if (cases[i].parts[pick] != cases[i].expected) {
			g_error("case %zu: picked %s, expected %s", i,
			        watch_state_name(cases[i].parts[pick]),
			        watch_state_name(cases[i].expected));
		}
	}
}

#undef D
#undef C
#undef A
#undef Y
#undef I
#undef P
#undef B
#undef E
#undef X

/* One step of a slot's life: at time t (seconds), the connection either
 * starts serving or fails with a class; the expected verdict and the
 * nominal delay (the jitter is fixed at its top: random = UINT32_MAX is
 * not used, random 0 gives half). */
struct step {
	gint64 t;
	enum {
		SERVING,
		FAILED,
		RESET,
	} what;
	enum imap_failure failure;
	bool offline;
	bool retry;        /* expected */
	uint32_t delay_ms; /* expected, with random 0: half the nominal delay */
};

static void run_slot(const char *name, const struct step *steps, size_t n)
{
	struct supervisor_slot slot = {0};

	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		uint32_t delay = 0;

		switch (s->what) {
		case SERVING:
			supervisor_slot_serving(&slot, S(s->t));
			continue;
		case RESET:
			supervisor_slot_reset(&slot);
			continue;
		case FAILED:
			break;
		}
		bool retry =
		    supervisor_slot_failed(&slot, s->failure, s->offline, S(s->t), 0, &delay);
		if (retry != s->retry || (retry && delay != s->delay_ms)) {
			g_error("%s, step %zu (t = %" G_GINT64_FORMAT " s): got %s %u ms, expected "
			        "%s %u ms",
			        name, i, s->t, retry ? "retry" : "stop", delay,
			        s->retry ? "retry" : "stop", s->delay_ms);
		}
		supervisor_slot_connecting(&slot);
	}
}

#define T IMAP_FAILURE_TRANSIENT
#define R IMAP_FAILURE_RESOURCE
#define P IMAP_FAILURE_PERMANENT
#define C IMAP_FAILURE_CREDENTIALS
#define A IMAP_FAILURE_REAUTH

/* A server that drops every session right after IDLE: the delays keep
 * doubling (0.5, 1, 2, 4 s with random 0). */
static const struct step flapping[] = {
    {0, SERVING, 0, false, false, 0}, {1, FAILED, T, false, true, 500},
    {2, SERVING, 0, false, false, 0}, {3, FAILED, T, false, true, 1000},
    {5, SERVING, 0, false, false, 0}, {6, FAILED, T, false, true, 2000},
    {9, SERVING, 0, false, false, 0}, {10, FAILED, T, false, true, 4000},
};

/* Serving 30 s or more starts the backoff afresh; 29 s does not. */
static const struct step stable[] = {
    {0, FAILED, T, false, true, 500},   {1, FAILED, T, false, true, 1000},
    {3, FAILED, T, false, true, 2000},  {10, SERVING, 0, false, false, 0},
    {39, FAILED, T, false, true, 4000}, {50, SERVING, 0, false, false, 0},
    {80, FAILED, T, false, true, 500},
};

/* Failures that never reached IDLE keep doubling however long they took. */
static const struct step never_serving[] = {
    {0, FAILED, T, false, true, 500},
    {100, FAILED, T, false, true, 1000},
    {1000, FAILED, T, false, true, 2000},
};

/* Permanent: stop; after the user's Check (reset) the next transient one
 * starts at the shortest delay again. */
static const struct step permanent[] = {
    {0, FAILED, T, false, true, 500},    {5, FAILED, T, false, true, 1000},
    {10, FAILED, P, false, false, 0},    {3600, RESET, 0, false, false, 0},
    {3601, FAILED, T, false, true, 500},
};

/* Resource: from 15–30 s, doubling like the rest. */
static const struct step resource[] = {
    {0, FAILED, R, false, true, 15000},
    {30, FAILED, R, false, true, 30000},
    {90, FAILED, R, false, true, 60000},
};

/* Offline: the longest delay (the network's return retries at once); it
 * still counts as an attempt. */
static const struct step offline[] = {
    {0, FAILED, T, true, true, 300000},  {300, FAILED, T, true, true, 300000},
    {600, FAILED, T, false, true, 2000}, {601, RESET, 0, false, false, 0},
    {602, FAILED, T, false, true, 500},
};

/* A5: a token that ran out under an hour-long session: log in again at
 * once; a second such end in a row backs off; refused credentials stop
 * like a permanent failure. */
static const struct step reauth[] = {
    {0, SERVING, 0, false, false, 0},     {3600, FAILED, A, false, true, 0},
    {3601, FAILED, A, false, true, 1000}, {3603, SERVING, 0, false, false, 0},
    {7200, FAILED, A, false, true, 0},    {7201, FAILED, C, false, false, 0},
};

static void test_slots(void)
{
	run_slot("flapping", flapping, G_N_ELEMENTS(flapping));
	run_slot("stable", stable, G_N_ELEMENTS(stable));
	run_slot("never-serving", never_serving, G_N_ELEMENTS(never_serving));
	run_slot("permanent", permanent, G_N_ELEMENTS(permanent));
	run_slot("resource", resource, G_N_ELEMENTS(resource));
	run_slot("offline", offline, G_N_ELEMENTS(offline));
	run_slot("reauth", reauth, G_N_ELEMENTS(reauth));
}

/* I9: a connection that served a minute and that the server then closed
 * while it idled shows IDLE for 10 s more; nothing else does. */
static void test_grace(void)
{
	static const struct {
		const char *name;
		gint64 served; /* seconds in service before the failure */
		bool dropped;  /* closed by the server while idling */
		enum imap_failure failure;
		bool offline;
		bool grace; /* expected */
	} cases[] = {
	    {"server-timeout", 300, true, IMAP_FAILURE_TRANSIENT, false, true},
	    {"just-a-minute", 60, true, IMAP_FAILURE_TRANSIENT, false, true},
	    {"too-soon", 59, true, IMAP_FAILURE_TRANSIENT, false, false},
	    {"not-while-idling", 300, false, IMAP_FAILURE_TRANSIENT, false, false},
	    {"token-ran-out", 3600, true, IMAP_FAILURE_REAUTH, false, true},
	    {"busy-server", 300, true, IMAP_FAILURE_RESOURCE, false, false},
	    {"permanent", 300, true, IMAP_FAILURE_PERMANENT, false, false},
	    {"offline", 300, true, IMAP_FAILURE_TRANSIENT, true, false},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct supervisor_slot slot = {0};
		gint64 t = S(1000);
		uint32_t delay;

		supervisor_slot_connecting(&slot);
		supervisor_slot_serving(&slot, t);
		t += S(cases[i].served);
		if (cases[i].dropped) {
			supervisor_slot_dropped(&slot);
		}
		supervisor_slot_failed(&slot, cases[i].failure, cases[i].offline, t, 0, &delay);
		enum watch_state shown = supervisor_slot_shown(&slot, WATCH_STATE_BACKOFF, t);
		if ((shown == WATCH_STATE_IDLE) != cases[i].grace) {
			g_error("%s: shows %s", cases[i].name, watch_state_name(shown));
		}
		/* Over after 10 s. */
		g_assert_cmpint(supervisor_slot_shown(&slot, WATCH_STATE_CONNECTING, t + S(10) - 1),
		                ==, cases[i].grace ? WATCH_STATE_IDLE : WATCH_STATE_CONNECTING);
		g_assert_cmpint(supervisor_slot_shown(&slot, WATCH_STATE_CONNECTING, t + S(10)), ==,
		                WATCH_STATE_CONNECTING);
	}
}

/* The grace ends when the slot serves again, and at once when the
 * reconnect fails; a second drop needs a minute of service again. */
static void test_grace_ends(void)
{
	struct supervisor_slot slot = {0};
	gint64 t = S(1000);
	uint32_t delay;

	supervisor_slot_serving(&slot, t);
	supervisor_slot_dropped(&slot);
	t += S(120);
	g_assert_true(supervisor_slot_failed(&slot, IMAP_FAILURE_TRANSIENT, false, t, 0, &delay));
	g_assert_cmpuint(delay, ==, 500);
	g_assert_cmpint(supervisor_slot_shown(&slot, WATCH_STATE_BACKOFF, t), ==, WATCH_STATE_IDLE);
	supervisor_slot_connecting(&slot);
	g_assert_cmpint(supervisor_slot_shown(&slot, WATCH_STATE_SYNCING, t + S(2)), ==,
	                WATCH_STATE_IDLE);
	supervisor_slot_serving(&slot, t + S(3));
	g_assert_cmpint(supervisor_slot_shown(&slot, WATCH_STATE_SYNCING, t + S(4)), ==,
	                WATCH_STATE_SYNCING);

	/* Served only 30 s this time: no grace. */
	supervisor_slot_dropped(&slot);
	t += S(33);
	supervisor_slot_failed(&slot, IMAP_FAILURE_TRANSIENT, false, t, 0, &delay);
	g_assert_cmpint(supervisor_slot_shown(&slot, WATCH_STATE_BACKOFF, t), ==,
	                WATCH_STATE_BACKOFF);

	/* A reconnect that fails ends the grace at once. */
	supervisor_slot_connecting(&slot);
	supervisor_slot_serving(&slot, t);
	supervisor_slot_dropped(&slot);
	t += S(600);
	supervisor_slot_failed(&slot, IMAP_FAILURE_TRANSIENT, false, t, 0, &delay);
	g_assert_cmpint(supervisor_slot_shown(&slot, WATCH_STATE_BACKOFF, t), ==, WATCH_STATE_IDLE);
	supervisor_slot_connecting(&slot);
	supervisor_slot_failed(&slot, IMAP_FAILURE_TRANSIENT, false, t + S(1), 0, &delay);
	g_assert_cmpint(supervisor_slot_shown(&slot, WATCH_STATE_BACKOFF, t + S(1)), ==,
	                WATCH_STATE_BACKOFF);

	/* The drop is forgotten when a new connection starts before the
	 * failure is told (the account replaced it). */
	supervisor_slot_serving(&slot, t);
	supervisor_slot_dropped(&slot);
	supervisor_slot_connecting(&slot);
	supervisor_slot_serving(&slot, t + S(1));
	t += S(600);
	supervisor_slot_failed(&slot, IMAP_FAILURE_TRANSIENT, false, t, 0, &delay);
	g_assert_cmpint(supervisor_slot_shown(&slot, WATCH_STATE_BACKOFF, t), ==,
	                WATCH_STATE_BACKOFF);
}

/* The detail of a slot in backoff: the failure and our words, one
 * sentence whatever punctuation the server's text ends with. */
static void test_retry_detail(void)
{
	static const struct {
		const char *message;
		uint32_t delay_ms;
		bool offline;
		const char *detail;
	} cases[] = {
	    {"server closed the connection: Server shutting down.", 4200, false,
	     "server closed the connection: Server shutting down, retrying in 5 s"},
	    {"connection refused", 1000, false, "connection refused, retrying in 1 s"},
	    {"Try later... ", 300000, true,
	     "Try later, retrying in 300 s or when the network returns"},
	    {"odd;, :", 1, false, "odd, retrying in 1 s"},
	    {"", 2000, false, "retrying in 2 s"},
	    {".", 2000, false, "retrying in 2 s"},
	    {NULL, 0, true, "retrying in 0 s or when the network returns"},
	    {"Now what?!", 1500, false, "Now what, retrying in 2 s"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *detail =
		    supervisor_retry_detail(cases[i].message, cases[i].delay_ms, cases[i].offline);

		g_assert_cmpstr(detail, ==, cases[i].detail);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/supervisor/grace", test_grace);
	g_test_add_func("/supervisor/grace-ends", test_grace_ends);
	g_test_add_func("/supervisor/backoff-growth", test_growth);
	g_test_add_func("/supervisor/backoff-resource", test_resource);
	g_test_add_func("/supervisor/backoff-jitter-range", test_jitter_range);
	g_test_add_func("/supervisor/pick-state", test_pick_state);
	g_test_add_func("/supervisor/slots", test_slots);
	g_test_add_func("/supervisor/retry-detail", test_retry_detail);
	return g_test_run();
}
