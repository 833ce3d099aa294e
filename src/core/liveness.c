/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/liveness.h"

void liveness_note_rx(struct liveness *l, gint64 now)
{
	gint64 gap = now - l->last_rx;

	/* L1: bursts do not count as keepalives; gaps of 30 s and more do. */
	if (l->last_rx > 0 && gap >= LIVENESS_MIN_GAP_US &&
	    (l->keepalive_gap == 0 || gap < l->keepalive_gap)) {
		l->keepalive_gap = gap;
	}
	l->last_rx = now;
}

void liveness_waiting(struct liveness *l)
{
	l->last_rx = 0;
}

guint liveness_silence_allowed(const struct liveness *l, guint idle_refresh)
{
	if (l->keepalive_gap <= 0) {
		return idle_refresh;
	}
	gint64 s = l->keepalive_gap * 5 / 2 / G_USEC_PER_SEC;
	return (guint)CLAMP(s, LIVENESS_MIN_SILENCE, (gint64)idle_refresh);
}

bool liveness_probes_early(const struct liveness *l, guint idle_refresh)
{
	return liveness_silence_allowed(l, idle_refresh) < idle_refresh;
}
