/* SPDX-License-Identifier: MIT */
/*
 * When an idling connection is probed, on a clock of the test's own: the
 * black holes of the end-to-end tests (during IDLE without keepalives,
 * after keepalives) worked out without waiting for them. A probe is
 * answered within the response timeout (30 s) or the connection is dead,
 * so "found" is the probe time plus 30 s.
 */
#include "imapwatch/core/liveness.h"

#include <glib.h>

#define S(seconds)       ((gint64)((seconds)*G_USEC_PER_SEC))
#define RESPONSE_TIMEOUT 30

struct scenario {
	const char *name;
	guint idle_refresh;
	/* Times (seconds from the start of IDLE) at which bytes arrive while
	 * idling, ending with a negative value. */
	double rx[8];
	guint expected_silence; /* allowed after the last byte */
	bool expected_early;    /* a timer before the refresh is needed */
	double expected_found;  /* probe (or refresh) + response timeout */
};

static const struct scenario scenarios[] = {
    /* Black hole during IDLE, no keepalives, idle_refresh = 1m: the
     * refresh's DONE is the probe: found after 90 s. */
    {"idle-no-keepalive", 60, {-1}, 60, false, 90},
    /* The default 9m without keepalives: 9m30s. */
    {"default-refresh", 540, {-1}, 540, false, 570},
    /* Dovecot-like keepalives every 31 s, then silence: 2.5 gaps = 77 s
     * after the last one (62 s): probe at 139, found at 169. */
    {"keepalives-31s", 540, {31, 62, -1}, 77, true, 169},
    /* Every 2 minutes (Dovecot's default): 300 s of silence. */
    {"keepalives-2m", 540, {120, 240, -1}, 300, true, 570},
    /* Bursts closer than 30 s are not keepalives. */
    {"bursts", 540, {10, 12, 20, 29, -1}, 540, false, 570},
    /* Never less than a minute, however frequent the keepalives. */
    {"keepalives-fast", 540, {30, 60, 90, -1}, 75, true, 195},
    /* Never more than idle_refresh: the refresh comes first anyway. */
    {"keepalives-slow", 120, {100, -1}, 120, false, 150},
};

static void test_scenarios(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(scenarios); i++) {
		const struct scenario *s = &scenarios[i];
		struct liveness l = {0};
		double last = 0;

		for (size_t k = 0; s->rx[k] >= 0; k++) {
			liveness_note_rx(&l, S(s->rx[k]));
			last = s->rx[k];
		}
		guint silence = liveness_silence_allowed(&l, s->idle_refresh);
		bool early = liveness_probes_early(&l, s->idle_refresh);
		/* The refresh timer runs from the start of IDLE, the probe on
		 * silence from the last byte: whichever comes first. */
		double probe = early ? MIN(last + silence, s->idle_refresh) : s->idle_refresh;
		double found = probe + RESPONSE_TIMEOUT;

		if (silence != s->expected_silence || early != s->expected_early ||
		    found != s->expected_found) {
			g_error(
			    "%s: silence %u s, early %d, found after %.0f s; expected %u s, %d, "
			    "%.0f s",
			    s->name, silence, early, found, s->expected_silence, s->expected_early,
			    s->expected_found);
		}
	}
}

/* A reply in between: the gap learnt is kept, the silence starts afresh,
 * and the time spent waiting for the reply is no keepalive gap. */
static void test_waiting(void)
{
	struct liveness l = {0};
	gint64 t0 = S(1000);

	liveness_note_rx(&l, t0);
	liveness_note_rx(&l, t0 + S(40));
	g_assert_cmpuint(liveness_silence_allowed(&l, 540), ==, 100);
	liveness_waiting(&l);
	liveness_note_rx(&l, t0 + S(45));  /* first byte after the reply */
	liveness_note_rx(&l, t0 + S(200)); /* a longer gap does not replace 40 s */
	g_assert_cmpuint(liveness_silence_allowed(&l, 540), ==, 100);
	liveness_waiting(&l);
	liveness_note_rx(&l, t0 + S(210));
	liveness_note_rx(&l, t0 + S(245)); /* a shorter one does */
	g_assert_cmpuint(liveness_silence_allowed(&l, 540), ==, 87);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/liveness/scenarios", test_scenarios);
	g_test_add_func("/liveness/waiting", test_waiting);
	return g_test_run();
}
