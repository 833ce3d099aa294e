/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_BACKOFF_H
#define IMAPWATCH_BACKOFF_H

/*
 * Reconnect delays (pure): jittered exponential backoff from 1 s doubling to
 * 5 min (L5). "Resource" failures (too many connections, [UNAVAILABLE])
 * start at 30 s so a busy server is not hammered.
 */

#include <stdbool.h>
#include <stdint.h>

#define BACKOFF_MIN_MS          1000u
#define BACKOFF_MAX_MS          300000u
#define BACKOFF_RESOURCE_MIN_MS 30000u
/* A connection that stayed in service this long starts the backoff afresh
 * when it fails; one that fails sooner (a server that drops every session
 * right after IDLE) keeps doubling it, so it is never hammered. */
#define BACKOFF_STABLE_MS 30000u

/* Delay before attempt number `attempt` (0 = first retry). random is any
 * 32-bit random value; the result lies in [d/2, d] for the nominal delay d
 * ("equal jitter"), so many clients do not reconnect in lockstep. */
uint32_t backoff_delay_ms(unsigned attempt, bool resource, uint32_t random);

#endif
