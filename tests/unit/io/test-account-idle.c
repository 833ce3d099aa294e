/* SPDX-License-Identifier: MIT */
/*
 * The account and a server that ends IDLE on its own (I9): the refresh it
 * learns, keeps across a restart and drops, and the state it shows while a
 * connection the server dropped comes back (no flapping within the grace,
 * the real state after it or when the reconnect fails). The fake
 * connections and clock are in account-harness.c; idle_refresh is 9 min.
 */
#include "account-harness.h"

#define NINE_MINUTES                                                                               \
	{                                                                                          \
		IDLE_REFRESH, 540, 0, 0, 0, NULL                                                   \
	}

#define CLOSED(i, at_ms, lasted_ms)                                                                \
	AT_(at_ms), IDLE_END_(i, lasted_ms, "closed"),                                             \
	    FAIL_(i, TRANSIENT, "server closed the connection")

/* A provider that ends the connection after about 5 minutes of IDLE: each
 * reconnect comes back within the grace, so the account stays idle
 * throughout; the third drop teaches a refresh of 80 % of the shortest,
 * which a restart remembers. */
static const struct step learnt[] = {
    NINE_MINUTES,
    SERVING(0),
    CLOSED(0, 300000, 298000),
    EXPECT(IDLE, ""),
    WATCH("INBOX=idle"),
    AT_(300499),
    LIVE(0),
    AT_(300500),
    CREATED(2),
    EXPECT(IDLE, ""),
    SERVING(0),
    REFRESH(0, 540),
    CLOSED(0, 600500, 300000),
    AT_(601000),
    SERVING(0),
    REFRESH(0, 540),
    CLOSED(0, 901000, 299000),
    AT_(901500),
    SERVING(0),
    REFRESH(0, 238),
    /* Refreshes at 238 s, which the server lets happen. */
    IDLE_END_(0, 238000, "done"),
    IDLE_END_(0, 238000, "done"),
    IDLE_END_(0, 5000, "done"),
    IDLE_END_(0, 238000, "done"),
    REFRESH(0, 238),
    CREATED(4),
    OP(RESTART),
    REFRESH(0, 238),
    SERVING(0),
    OP(END),
};

/* The same server ending IDLE by completing it (no reconnect at all). */
static const struct step completed[] = {
    NINE_MINUTES,
    SERVING(0),
    IDLE_END_(0, 299000, "server"),
    IDLE_END_(0, 298000, "server"),
    REFRESH(0, 540),
    IDLE_END_(0, 299000, "server"),
    REFRESH(0, 238),
    OP(RESTART),
    REFRESH(0, 238),
    OP(END),
};

/* The limit counts from the login: the learnt refresh does not help, the
 * server still drops the connection after it. Dropped after two, and the
 * state file forgets it. */
static const struct step dropped[] = {
    NINE_MINUTES,
    SERVING(0),
    CLOSED(0, 300000, 299000),
    AT_(300500),
    SERVING(0),
    CLOSED(0, 600500, 299000),
    AT_(601000),
    SERVING(0),
    CLOSED(0, 901000, 299000),
    AT_(901500),
    SERVING(0),
    REFRESH(0, 239),
    IDLE_END_(0, 239000, "done"),
    CLOSED(0, 1201500, 60000),
    AT_(1202000),
    SERVING(0),
    REFRESH(0, 239),
    IDLE_END_(0, 239000, "done"),
    CLOSED(0, 1502000, 60000),
    AT_(1502500),
    SERVING(0),
    REFRESH(0, 540),
    OP(RESTART),
    REFRESH(0, 540),
    OP(END),
};

/* 50 s is too short to refresh before (the floor is a minute): nothing is
 * learnt, the connections go on as before. */
static const struct step too_short[] = {
    NINE_MINUTES,
    SERVING(0),
    CLOSED(0, 50000, 50000),
    EXPECT(BACKOFF, "server closed the connection, retrying in 1 s"),
    AT_(50500),
    SERVING(0),
    CLOSED(0, 100500, 50000),
    AT_(101500),
    SERVING(0),
    CLOSED(0, 151500, 50000),
    AT_(153500),
    SERVING(0),
    REFRESH(0, 540),
    OP(END),
};

/* The grace runs out while the reconnect is still under way: the real
 * state from then on. */
static const struct step grace_expires[] = {
    NINE_MINUTES,
    SERVING(0),
    CLOSED(0, 120000, 120000),
    EXPECT(IDLE, ""),
    AT_(120500),
    CREATED(2),
    REACH_(0, AUTHENTICATING),
    AT_(129999),
    EXPECT(IDLE, ""),
    WATCH("INBOX=idle"),
    AT_(130000),
    EXPECT(AUTHENTICATING, ""),
    WATCH("INBOX="),
    REACH_(0, SYNCING),
    REACH_(0, IDLE),
    EXPECT(IDLE, ""),
    OP(END),
};

/* A reconnect that fails shows the backoff at once. */
static const struct step grace_failed[] = {
    NINE_MINUTES,
    SERVING(0),
    CLOSED(0, 120000, 120000),
    EXPECT(IDLE, ""),
    AT_(120500),
    FAIL_(0, TRANSIENT, "connection refused"),
    EXPECT(BACKOFF, "connection refused, retrying in 1 s"),
    AT_(121500),
    SERVING(0),
    OP(END),
};

/* No grace for a connection that served less than a minute, nor for one
 * that died otherwise than by the server's hand while idling (a probe
 * that went unanswered). */
static const struct step no_grace[] = {
    NINE_MINUTES,
    SERVING(0),
    CLOSED(0, 59000, 59000),
    EXPECT(BACKOFF, "server closed the connection, retrying in 1 s"),
    AT_(59500),
    SERVING(0),
    AT_(300000),
    FAIL_(0, TRANSIENT, "no response from the server within 30 s"),
    EXPECT(BACKOFF, "no response from the server within 30 s, retrying in 1 s"),
    OP(END),
};

static const struct scenario scenarios[] = {
    {"idle-lifetime/learnt", account_harness_inbox, learnt,
     "connecting:\nauthenticating:\nsyncing:\nidle:\n"
     /* the restart */
     "connecting:\nauthenticating:\nsyncing:\nidle:\n",
     0},
    {"idle-lifetime/completed", account_harness_inbox, completed,
     "connecting:\nauthenticating:\nsyncing:\nidle:\nconnecting:\n", 0},
    {"idle-lifetime/dropped", account_harness_inbox, dropped, NULL, 0},
    {"idle-lifetime/too-short", account_harness_inbox, too_short, NULL, 0},
    {"idle-lifetime/grace-expires", account_harness_inbox, grace_expires,
     "connecting:\nauthenticating:\nsyncing:\nidle:\n"
     "authenticating:\nsyncing:\nidle:\n",
     0},
    {"idle-lifetime/grace-failed", account_harness_inbox, grace_failed,
     "connecting:\nauthenticating:\nsyncing:\nidle:\n"
     "backoff:connection refused, retrying in 1 s\n"
     "connecting:\nauthenticating:\nsyncing:\nidle:\n",
     0},
    {"idle-lifetime/no-grace", account_harness_inbox, no_grace, NULL, 0},
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	account_harness_add(scenarios, G_N_ELEMENTS(scenarios));
	return g_test_run();
}
