/* SPDX-License-Identifier: MIT */
/*
 * The account supervisor after failures: reconnects and their backoff, a
 * flapping server, permanent and resource failures, a black hole.
 * The fake connections and clock are in account-harness.c.
 */
#include "account-harness.h"

/* A server that drops the connection now and then: reconnects after 0.5,
 * 1, 2 s (half of 1, 2, 4 s); a connection that served for 30 s starts the
 * backoff afresh. */
static const struct step reconnects[] = {
    SERVING(0),
    EXPECT(IDLE, ""),
    AT_(10000),
    FAIL_(0, TRANSIENT, "server closed the connection"),
    EXPECT(BACKOFF, "server closed the connection, retrying in 1 s"),
    LIVE(0),
    AT_(10499),
    LIVE(0),
    AT_(10500),
    LIVE(1),
    EXPECT(CONNECTING, ""),
    FAIL_(0, TRANSIENT, "connection refused"),
    AT_(11499),
    CREATED(2),
    AT_(11500),
    CREATED(3),
    FAIL_(0, TRANSIENT, "connection refused (0.001 + 0.000 secs)."),
    /* The server's timing noise goes before our words follow. */
    EXPECT(BACKOFF, "refused, retrying in 2 s"),
    AT_(13500),
    CREATED(4),
    SERVING(0),
    AT_(43500), /* in service for 30 s */
    FAIL_(0, TRANSIENT, "server closed the connection"),
    EXPECT(BACKOFF, "retrying in 1 s"),
    AT_(44000),
    CREATED(5),
    OP(END),
};

/* A server that accepts every connection and drops it right after IDLE is
 * not hammered: the delays keep doubling. */
static const struct step flapping[] = {
    SERVING(0),
    FAIL_(0, TRANSIENT, "x"),
    AT_(500),
    CREATED(2),
    SERVING(0),
    FAIL_(0, TRANSIENT, "x"),
    AT_(1499),
    CREATED(2),
    AT_(1500),
    SERVING(0),
    FAIL_(0, TRANSIENT, "x"),
    AT_(3499),
    CREATED(3),
    AT_(3500),
    CREATED(4),
    SERVING(0),
    FAIL_(0, TRANSIENT, "x"),
    EXPECT(BACKOFF, "retrying in 4 s"),
    OP(END),
};

/* Rejected credentials: error, and nothing more until the user's Check. */
static const struct step permanent[] = {
    REACH_(0, AUTHENTICATING),
    FAIL_(0, PERMANENT, "authentication failed for user 'me': bad password"),
    EXPECT(ERROR, "authentication failed"),
    AT_(3600 * 1000),
    CREATED(1),
    LIVE(0),
    OP(CHECK),
    CREATED(2),
    EXPECT(CONNECTING, ""),
    OP(END),
};

/* Too many connections: from 15 s (half of 30 s). */
static const struct step resource[] = {
    FAIL_(0, RESOURCE, "server temporarily refused the login"),
    EXPECT(BACKOFF, "retrying in 15 s"),
    AT_(14999),
    CREATED(1),
    AT_(15000),
    CREATED(2),
    FAIL_(0, RESOURCE, "server temporarily refused the login"),
    EXPECT(BACKOFF, "retrying in 30 s"),
    OP(END),
};

/* Black hole during IDLE (idle_refresh = 1m, no keepalives): found after
 * 90 s, back after 0.5 s more, and idle again. */
static const struct step blackhole[] = {
    SERVING(0), {BLACKHOLE, 0, 0, 0, 0, NULL},
    AT_(89999), EXPECT(IDLE, ""),
    AT_(90000), EXPECT(BACKOFF, "no response from the server within 30 s, retrying in 1 s"),
    AT_(90500), CREATED(2),
    SERVING(0), EXPECT(IDLE, ""),
    OP(END),
};

static const struct scenario scenarios[] = {
    {"reconnects", account_harness_inbox, reconnects,
     "connecting:\nauthenticating:\nsyncing:\nidle:\n"
     "backoff:server closed the connection, retrying in 1 s\n"
     "connecting:\n"
     "backoff:connection refused, retrying in 1 s\n"
     "connecting:\n"
     "backoff:connection refused, retrying in 2 s\n"
     "connecting:\nauthenticating:\nsyncing:\nidle:\n"
     "backoff:server closed the connection, retrying in 1 s\n"
     "connecting:\n",
     0},
    {"flapping", account_harness_inbox, flapping, NULL, 0},
    {"permanent", account_harness_inbox, permanent, NULL, 0},
    {"resource", account_harness_inbox, resource, NULL, 0},
    {"blackhole", account_harness_inbox, blackhole, NULL, 0},
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	account_harness_add(scenarios, G_N_ELEMENTS(scenarios));
	return g_test_run();
}
