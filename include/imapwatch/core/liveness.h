/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_LIVENESS_H
#define IMAPWATCH_LIVENESS_H

/*
 * How long an idling connection may stay silent before it must prove it is
 * alive (docs/PROTOCOL.md L1, L2, I5, I6), as a pure rule on a clock the
 * caller gives (monotonic microseconds).
 *
 * Without anything from the server, IDLE is re-issued every idle_refresh:
 * the DONE of that re-issue is the probe, and the response timeout (L4)
 * finds a dead connection. Servers that send keepalives while idling
 * (Dovecot's "* OK Still here" every 2 minutes) let us find it sooner: once
 * a regular gap between bytes is known, a silence of 2.5 gaps (at least a
 * minute, at most idle_refresh) is enough to probe. Bursts closer together
 * than LIVENESS_MIN_GAP_US are not keepalives and do not count.
 */

#include <glib.h>
#include <stdbool.h>

/* Gaps shorter than this are bursts, not keepalives. */
#define LIVENESS_MIN_GAP_US (30 * G_USEC_PER_SEC)
/* Never probe after less silence than this. */
#define LIVENESS_MIN_SILENCE 60

struct liveness {
	gint64 last_rx;       /* when the last byte arrived while idling, 0: none yet */
	gint64 keepalive_gap; /* the smallest regular gap seen while idling, 0: none */
};

/* A byte arrived at now while the connection was idle (no reply due). */
void liveness_note_rx(struct liveness *liveness, gint64 now);

/* A reply is due: the idle silence is measured afresh afterwards (the
 * keepalive gap learnt so far is kept). */
void liveness_waiting(struct liveness *liveness);

/* Seconds of silence after which an idling connection is probed: 2.5
 * keepalive gaps, clamped to [LIVENESS_MIN_SILENCE, idle_refresh]; or
 * idle_refresh while no keepalive gap is known. */
guint liveness_silence_allowed(const struct liveness *liveness, guint idle_refresh);

/* True when a probe on silence comes before the next IDLE refresh, so the
 * caller needs a timer for it. */
bool liveness_probes_early(const struct liveness *liveness, guint idle_refresh);

#endif
