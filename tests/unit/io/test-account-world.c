/* SPDX-License-Identifier: MIT */
/*
 * The account supervisor and the world around it: resume from sleep, the
 * network going and coming, several folders at once, the user's Check,
 * and stopping.
 * The fake connections and clock are in account-harness.c.
 */
#include "account-harness.h"

/* Resume from sleep: every connection is probed with 10 s; a dead one is
 * found then, and reconnects from the shortest delay (it had served long);
 * one waiting to retry tries at once. */
static const struct step sleep_resume[] = {
    POLL_(0), /* no NOTIFY: a connection a folder, logging in one by one */
    LIVE(2),
    SERVING(0),
    SERVING(1),
    LIVE(3),
    SERVING(2),
    AT_(600000),
    FAIL_(2, TRANSIENT, "connection reset"),
    EXPECT(BACKOFF, "connection reset, retrying in 1 s"),
    OP(PROBE),
    {EXPECT_PROBED, 10, 0, 0, 0, NULL},
    {EXPECT_PROBED, 10, 1, 0, 0, NULL},
    CREATED(4), /* the one in backoff, at once */
    EXPECT(CONNECTING, ""),
    SERVING(2),
    OP(DEAD_ON_PROBE),
    AT_(609999),
    EXPECT(IDLE, ""),
    AT_(610000),
    EXPECT(BACKOFF, "no response from the server within 30 s, retrying in 1 s"),
    LIVE(1),
    AT_(610500),
    LIVE(3),
    CREATED(6),
    OP(END),
};

/* Offline: a failure waits the longest delay, and says why; the network's
 * return (a probe) retries at once. */
static const struct step offline[] = {
    SERVING(0),
    OP(OFFLINE),
    FAIL_(0, TRANSIENT, "network unreachable"),
    EXPECT(BACKOFF, "network unreachable, retrying in 300 s or when the network returns"),
    AT_(299999),
    CREATED(1),
    OP(ONLINE),
    OP(PROBE),
    CREATED(2),
    OP(END),
};

/* The account shows the least advanced connection; error and backoff
 * first. */
static const struct step precedence[] = {
    POLL_(0),
    EXPECT(CONNECTING, ""),
    SERVING(0),
    EXPECT(CONNECTING, ""),
    SERVING(1),
    REACH_(2, SYNCING),
    EXPECT(SYNCING, ""),
    REACH_(2, POLLING),
    EXPECT(POLLING, ""),
    REACH_(2, IDLE),
    EXPECT(IDLE, ""),
    FAIL_(1, TRANSIENT, "server closed the connection"),
    EXPECT(BACKOFF, "server closed"),
    FAIL_(0, PERMANENT, "cannot open folder 'INBOX': it does not exist on the server"),
    EXPECT(ERROR, "does not exist"),
    OP(END),
};

/* Check: watching connections resynchronise, the rest connect now. */
static const struct step check[] = {
    POLL_(0),
    SERVING(0),
    SERVING(1),
    FAIL_(2, TRANSIENT, "x"),
    OP(CHECK),
    {EXPECT_RESYNCED, 1, 0, 0, 0, NULL},
    {EXPECT_RESYNCED, 1, 1, 0, 0, NULL},
    CREATED(4),
    LIVE(3),
    OP(END),
};

/* Stop: every connection logs out; the account ends disconnected. */
static const struct step stop[] = {
    SERVING(0),
    OP(STOP),
    {EXPECT_STATE, 0, 0, WATCH_STATE_IDLE, 0, ""},
    FAIL_(0, TRANSIENT, "server closed the connection"),
    EXPECT(DISCONNECTED, ""),
    AT_(3600 * 1000),
    CREATED(1),
    OP(END),
};

static const struct scenario scenarios[] = {
    {"sleep-resume", account_harness_three, sleep_resume, NULL, 0},
    {"offline", account_harness_inbox, offline, NULL, 0},
    {"precedence", account_harness_three, precedence, NULL, 0},
    {"check", account_harness_three, check, NULL, 0},
    {"stop", account_harness_inbox, stop, NULL, 0},
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	account_harness_add(scenarios, G_N_ELEMENTS(scenarios));
	return g_test_run();
}
