/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_TEST_ACCOUNT_HARNESS_H
#define IMAPWATCH_TEST_ACCOUNT_HARNESS_H

/*
 * The account supervisor through its seam (struct account_env): fake
 * connections that a scenario makes connect, idle, fail, fall into black
 * holes or sleep, on a clock of the test's own. Each scenario is a table of
 * steps; hours of reconnects run in microseconds, and every delay is
 * checked to the millisecond (the jitter is pinned: random 0 gives half the
 * nominal backoff).
 */

#include "imapwatch/core/event.h"
#include "imapwatch/core/imap-client.h"
#include "imapwatch/core/imap-session.h"

#include <glib.h>

enum op {
	END,
	AT,            /* arg: ms since the start; runs the timers up to then */
	REACH,         /* connection #i reaches state */
	FAIL,          /* connection #i fails with failure */
	BLACKHOLE,     /* connection #i stops hearing from its server */
	PROBE,         /* resume from sleep or a network change */
	DEAD_ON_PROBE, /* the probed connections are dead */
	CHECK,         /* the user's Check */
	OFFLINE,
	ONLINE,
	STOP,            /* account_stop(); connections log out */
	EXPECT_STATE,    /* the account's state, and text in its detail */
	EXPECT_LIVE,     /* arg: connections open now */
	EXPECT_CREATED,  /* arg: connections created in all */
	EXPECT_PROBED,   /* connection #i was probed with arg as timeout */
	EXPECT_RESYNCED, /* connection #i resynchronised arg times */
	GUESTS,          /* connection #i watches its guests as arg (imap_session_guests) */
	LISTED,          /* connection #i's LIST pass found text ("INBOX;Lists/a;Junk=\\Junk;
	                    Public/x@Public/") */
	GUEST_FAILED,    /* connection #i could not select a guest ("Work:message") */
	EXPECT_HOME,     /* connection #i IDLEs on folder text */
	EXPECT_GUESTS,   /* connection #i's guests are text ("Lists;Work") */
	EXPECT_WATCH,    /* every folder and how it is watched ("INBOX=idle;Lists=poll") */
	IDLE_END,        /* connection #i's IDLE ended after arg ms; text: "done", "server",
	                    "closed" (then FAIL it) */
	EXPECT_REFRESH,  /* connection #i refreshes IDLE after arg seconds */
	RESTART,         /* the daemon restarts: a new account on the same state dir */
	IDLE_REFRESH,    /* the first step only: the account's idle_refresh is arg s (else 60) */
};

struct step {
	enum op op;
	gint64 arg;
	guint i;
	enum watch_state state;
	enum imap_failure failure;
	const char *text;
};

struct scenario {
	const char *name;
	const char *const *folders;
	const struct step *steps;
	/* Every state event, "state:detail", one a line; NULL: not checked. */
	const char *states;
	guint max_connections; /* 0: 3 */
};

/* Registers each scenario as the test /account/NAME, and keeps the
 * account's log lines off the test output. */
void account_harness_add(const struct scenario *scenarios, size_t n);

extern const char *const account_harness_inbox[]; /* INBOX */
extern const char *const account_harness_three[]; /* INBOX, Lists, Work */

#define AT_(ms)                                                                                    \
	{                                                                                          \
		AT, (ms), 0, 0, 0, NULL                                                            \
	}
#define REACH_(i, s)                                                                               \
	{                                                                                          \
		REACH, 0, (i), WATCH_STATE_##s, 0, NULL                                            \
	}
#define FAIL_(i, f, text)                                                                          \
	{                                                                                          \
		FAIL, 0, (i), 0, IMAP_FAILURE_##f, (text)                                          \
	}
#define EXPECT(s, text)                                                                            \
	{                                                                                          \
		EXPECT_STATE, 0, 0, WATCH_STATE_##s, 0, (text)                                     \
	}
#define LIVE(n)                                                                                    \
	{                                                                                          \
		EXPECT_LIVE, (n), 0, 0, 0, NULL                                                    \
	}
#define CREATED(n)                                                                                 \
	{                                                                                          \
		EXPECT_CREATED, (n), 0, 0, 0, NULL                                                 \
	}
#define OP(o)                                                                                      \
	{                                                                                          \
		o, 0, 0, 0, 0, NULL                                                                \
	}
#define SERVING(i) REACH_(i, AUTHENTICATING), REACH_(i, SYNCING), REACH_(i, IDLE)
/* Connection #i watches its guests with NOTIFY, or polls them. */
#define NOTIFY_(i)                                                                                 \
	{                                                                                          \
		GUESTS, IMAP_SESSION_GUESTS_NOTIFY, (i), 0, 0, NULL                                \
	}
#define POLL_(i)                                                                                   \
	{                                                                                          \
		GUESTS, IMAP_SESSION_GUESTS_POLL, (i), 0, 0, "no NOTIFY"                           \
	}
#define LISTED_(i, spec)                                                                           \
	{                                                                                          \
		LISTED, 0, (i), 0, 0, (spec)                                                       \
	}
#define HOME(i, folder)                                                                            \
	{                                                                                          \
		EXPECT_HOME, 0, (i), 0, 0, (folder)                                                \
	}
#define GUESTS_(i, names)                                                                          \
	{                                                                                          \
		EXPECT_GUESTS, 0, (i), 0, 0, (names)                                               \
	}
#define WATCH(spec)                                                                                \
	{                                                                                          \
		EXPECT_WATCH, 0, 0, 0, 0, (spec)                                                   \
	}
/* Connection #i's IDLE ended after ms milliseconds: done, server, closed. */
#define IDLE_END_(i, ms, how)                                                                      \
	{                                                                                          \
		IDLE_END, (ms), (i), 0, 0, (how)                                                   \
	}
#define REFRESH(i, seconds)                                                                        \
	{                                                                                          \
		EXPECT_REFRESH, (seconds), (i), 0, 0, NULL                                         \
	}

#endif
