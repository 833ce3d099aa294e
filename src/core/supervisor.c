/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/supervisor.h"

#include <string.h>

uint32_t supervisor_backoff_ms(unsigned attempt, bool resource, uint32_t random)
{
	uint64_t delay = resource ? SUPERVISOR_BACKOFF_RESOURCE_MIN_MS : SUPERVISOR_BACKOFF_MIN_MS;

	for (unsigned i = 0; i < attempt && delay < SUPERVISOR_BACKOFF_MAX_MS; i++) {
		delay *= 2;
	}
	if (delay > SUPERVISOR_BACKOFF_MAX_MS) {
		delay = SUPERVISOR_BACKOFF_MAX_MS;
	}
	uint64_t half = delay / 2;
	return (uint32_t)(half + (uint64_t)random % (delay - half + 1));
}

/* How far a part is from watching: lower ranks win. */
static int state_rank(enum watch_state state)
{
	switch (state) {
	case WATCH_STATE_ERROR:
		return 0;
	case WATCH_STATE_BACKOFF:
		return 1;
	case WATCH_STATE_DISCONNECTED:
		return 2;
	case WATCH_STATE_CONNECTING:
		return 3;
	case WATCH_STATE_AUTHENTICATING:
		return 4;
	case WATCH_STATE_SYNCING:
		return 5;
	case WATCH_STATE_POLLING:
		return 6;
	case WATCH_STATE_IDLE:
		return 7;
	case WATCH_STATE_DISABLED:
		return 8;
	}
	return 2;
}

size_t supervisor_pick_state(const enum watch_state *states, size_t n)
{
	size_t worst = 0;

	for (size_t i = 1; i < n; i++) {
		if (state_rank(states[i]) < state_rank(states[worst])) {
			worst = i;
		}
	}
	return worst;
}

void supervisor_slot_serving(struct supervisor_slot *s, gint64 now)
{
	if (s->serving_since == 0) {
		s->serving_since = now;
	}
	s->grace_until = 0;
}

void supervisor_slot_connecting(struct supervisor_slot *s)
{
	s->serving_since = 0;
	s->dropped = false;
}

void supervisor_slot_dropped(struct supervisor_slot *s)
{
	s->dropped = true;
}

enum watch_state supervisor_slot_shown(const struct supervisor_slot *s, enum watch_state state,
                                       gint64 now)
{
	return s->grace_until != 0 && now < s->grace_until ? WATCH_STATE_IDLE : state;
}

void supervisor_slot_reset(struct supervisor_slot *s)
{
	s->attempt = 0;
}

bool supervisor_slot_failed(struct supervisor_slot *s, enum imap_failure failure, bool offline,
                            gint64 now, uint32_t random, uint32_t *delay_ms)
{
	gint64 served_us = s->serving_since != 0 ? now - s->serving_since : 0;

	if (served_us >= SUPERVISOR_STABLE_US) {
		s->attempt = 0;
	}
	/* I9: a quick reconnect after the server's timeout is no news. */
	s->grace_until =
	    s->dropped && served_us >= SUPERVISOR_GRACE_SERVED_US && !offline &&
	            (failure == IMAP_FAILURE_TRANSIENT || failure == IMAP_FAILURE_REAUTH)
	        ? now + SUPERVISOR_GRACE_US
	        : 0;
	s->dropped = false;
	s->serving_since = 0;
	if (failure == IMAP_FAILURE_PERMANENT || failure == IMAP_FAILURE_CREDENTIALS) {
		/* No retry until the user acts (L5, A6). */
		return false;
	}
	if (failure == IMAP_FAILURE_REAUTH && s->attempt == 0) {
		/* A5: the token ran out under an open session: log in again at
		 * once; a second one in a row backs off as usual. */
		*delay_ms = 0;
		s->attempt++;
		return true;
	}
	/* Without a network, retry rarely (the monitor may be wrong about a
	 * loopback or VPN-only setup); the network's return retries at once. */
	*delay_ms =
	    offline ? SUPERVISOR_BACKOFF_MAX_MS
	            : supervisor_backoff_ms(s->attempt, failure == IMAP_FAILURE_RESOURCE, random);
	s->attempt++;
	return true;
}

char *supervisor_retry_detail(const char *message, uint32_t delay_ms, bool offline)
{
	size_t len = message != NULL ? strlen(message) : 0;

	/* Our words follow a comma: the server's full stop (or a comma of
	 * its own) would double the punctuation. */
	while (len > 0 && strchr(" \t.,;:!?", message[len - 1]) != NULL) {
		len--;
	}
	return g_strdup_printf("%.*s%sretrying in %u s%s", (int)len, len > 0 ? message : "",
	                       len > 0 ? ", " : "", (unsigned)((delay_ms + 999) / 1000),
	                       offline ? " or when the network returns" : "");
}
