/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_SUPERVISOR_H
#define IMAPWATCH_SUPERVISOR_H

/*
 * The account supervisor's decisions, pure, on a clock the caller gives
 * (monotonic microseconds) and with the randomness it gives: which state
 * an account shows, and what follows a failed connection (L5, A6).
 *
 * Reconnect delays are jittered exponential backoff from 1 s doubling to
 * 5 min; "resource" failures (too many connections, [UNAVAILABLE]) start at
 * 30 s so a busy server is not hammered; permanent ones (credentials
 * rejected, certificate not verified, folder missing) stop until the user
 * acts. A connection that stayed in service SUPERVISOR_STABLE_US starts the
 * backoff afresh when it fails; one that fails sooner (a server that drops
 * every session right after IDLE) keeps doubling it. Without a network the
 * longest delay is used: the network's return retries at once instead.
 *
 * A connection that served SUPERVISOR_GRACE_SERVED_US and that the server
 * then closed while it idled (a server's timeout, I9) is back within a
 * second or two: for SUPERVISOR_GRACE_US the slot still shows IDLE, so
 * the account's state does not flap through backoff, connecting,
 * authenticating and syncing for a reconnect nobody needs to see. It shows
 * its real state when the grace runs out, or at once when the reconnect
 * fails. Only the state shown waits: the reconnect and its catch-up are
 * the same.
 */

#include "imapwatch/core/event.h"
#include "imapwatch/core/imap-client.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUPERVISOR_BACKOFF_MIN_MS          1000u
#define SUPERVISOR_BACKOFF_MAX_MS          300000u
#define SUPERVISOR_BACKOFF_RESOURCE_MIN_MS 30000u
#define SUPERVISOR_STABLE_US               (30 * G_USEC_PER_SEC)
#define SUPERVISOR_GRACE_SERVED_US         (60 * G_USEC_PER_SEC)
#define SUPERVISOR_GRACE_US                (10 * G_USEC_PER_SEC)

/* Delay before attempt number `attempt` (0 = first retry). random is any
 * 32-bit random value; the result lies in [d/2, d] for the nominal delay d
 * ("equal jitter"), so many clients do not reconnect in lockstep. */
uint32_t supervisor_backoff_ms(unsigned attempt, bool resource, uint32_t random);

/* The state an account shows for the states of its parts (its folders'
 * connections, its password): the least advanced part, with error, then
 * backoff, taking precedence, and disabled only when every part is.
 * Returns the index of the part that decides; n must be > 0. */
size_t supervisor_pick_state(const enum watch_state *states, size_t n);

/* What one connection slot (a folder, for now) has been through. */
struct supervisor_slot {
	unsigned attempt;     /* failures since the last stable connection */
	gint64 serving_since; /* when its connection went idle or polling, 0: not */
	bool dropped;         /* the server closed its connection while it idled */
	gint64 grace_until;   /* it shows IDLE until then; 0: no grace */
};

/* The slot's connection is watching (idle or polling) at now. */
void supervisor_slot_serving(struct supervisor_slot *slot, gint64 now);

/* A new connection starts: it has not served yet. */
void supervisor_slot_connecting(struct supervisor_slot *slot);

/* The server closed the slot's connection while it idled (BYE, a close, a
 * reset); supervisor_slot_failed() follows. */
void supervisor_slot_dropped(struct supervisor_slot *slot);

/* The state the slot shows at now, its own being state: IDLE during a
 * grace, else state. */
enum watch_state supervisor_slot_shown(const struct supervisor_slot *slot, enum watch_state state,
                                       gint64 now);

/* The user or the world asked for a fresh try (Check, a network change,
 * resume): the next failure waits the shortest delay again. */
void supervisor_slot_reset(struct supervisor_slot *slot);

/* The slot's connection failed at now. Returns false when it must not be
 * retried until the user acts (PERMANENT); else true with *delay_ms: the
 * backoff for this attempt, or SUPERVISOR_BACKOFF_MAX_MS when offline.
 * Starts a grace when the server dropped a connection that had served
 * SUPERVISOR_GRACE_SERVED_US (a transient failure or a token to renew,
 * online); ends any other. */
bool supervisor_slot_failed(struct supervisor_slot *slot, enum imap_failure failure, bool offline,
                            gint64 now, uint32_t random, uint32_t *delay_ms);

/* The detail of a slot waiting to retry: message (a failure's text, often
 * ending in the server's own words) and "retrying in N s" (delay_ms rounded
 * up; offline: "or when the network returns"), joined as one sentence:
 * message's trailing blanks and punctuation (". , ; : ! ?") are dropped first,
 * so a server's "Server shutting down." reads "Server shutting down,
 * retrying in 5 s". New string. */
char *supervisor_retry_detail(const char *message, uint32_t delay_ms, bool offline);

#endif
