/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IDLE_LIFETIME_H
#define IMAPWATCH_IDLE_LIFETIME_H

/*
 * How long a server lets an IDLE live (docs/PROTOCOL.md I9), learnt per
 * account, as a pure rule on durations the caller measures (monotonic
 * microseconds).
 *
 * Many servers end IDLE, or the whole connection, sooner than idle_refresh:
 * an inactivity timeout (Cyrus's imapidletimeout), a provider's limit of a
 * few minutes, a middlebox that closes quiet flows. Each time the account
 * reconnects, and its state goes through connecting, authenticating and
 * syncing again. When the server ends IDLE_LIFETIME_STREAK IDLEs in a row
 * after about the same time (within IDLE_LIFETIME_SLACK_PERCENT, or the
 * slack in seconds, whichever is larger), shorter than the refresh they
 * were given, the account refreshes at IDLE_LIFETIME_SHARE_PERCENT of the
 * shortest of them instead (DONE, then IDLE, on the same connection),
 * never more often than the floor and never less often than idle_refresh.
 * A lifetime so short that the refresh would fall under the floor is
 * reported once and left alone: the connections go on as before.
 *
 * When the server still ends IDLE_LIFETIME_MISSES IDLEs that ran under the
 * learnt refresh (the limit counts from the login, not from the IDLE), the
 * learnt refresh is dropped and not learnt again in this run: back to
 * idle_refresh, never shrinking further. Planned refreshes at the learnt
 * time that the server let happen (IDLE_LIFETIME_STREAK of them) forgive
 * the misses counted before: a learnt refresh that works is kept.
 */

#include <glib.h>
#include <stdbool.h>

/* Never refresh more often than this (seconds). */
#define IDLE_LIFETIME_FLOOR 60
/* Lifetimes this close (seconds), or within the percentage, are "about
 * the same". */
#define IDLE_LIFETIME_SLACK         20
#define IDLE_LIFETIME_SLACK_PERCENT 15
/* Server-ended IDLEs of about the same length in a row that teach. */
#define IDLE_LIFETIME_STREAK 3
/* Server-ended IDLEs despite the learnt refresh that drop it. */
#define IDLE_LIFETIME_MISSES 2
/* The learnt refresh, as a share of the shortest lifetime seen. */
#define IDLE_LIFETIME_SHARE_PERCENT 80
/* The longest lifetime (seconds) worth remembering; IDLE is refreshed
 * within 29 minutes anyway (I5). */
#define IDLE_LIFETIME_MAX 3600

struct idle_lifetime_params {
	guint floor; /* seconds: the shortest refresh */
	guint slack; /* seconds: lifetimes this close are about the same */
};

/* Who ended an IDLE. */
enum idle_lifetime_end {
	IDLE_LIFETIME_END_OURS,   /* we sent DONE: a refresh, news, other work */
	IDLE_LIFETIME_END_SERVER, /* the server: completed it unasked, BYE, or a close */
};

/* What an ended IDLE taught, for the caller to log (and keep). */
enum idle_lifetime_news {
	IDLE_LIFETIME_NOTHING,
	IDLE_LIFETIME_LEARNT,    /* a refresh was learnt: lifetime and refresh say which */
	IDLE_LIFETIME_TOO_SHORT, /* the server ends IDLE after observed s, too soon (said once) */
	IDLE_LIFETIME_DROPPED,   /* the learnt refresh did not help: back to idle_refresh */
};

struct idle_lifetime {
	struct idle_lifetime_params params;
	guint lifetime; /* seconds: the server's IDLE lifetime learnt, 0: none */
	guint refresh;  /* seconds: the refresh learnt from it, 0: none */
	/* Server-ended IDLEs in a row of about the same length, and the
	 * shortest and longest of them (µs). */
	guint streak;
	gint64 shortest;
	gint64 longest;
	guint observed; /* seconds: the shortest of the last whole streak */
	guint misses;   /* server-ended IDLEs despite the learnt refresh */
	guint kept;     /* planned refreshes at the learnt time since the last miss */
	bool given_up;  /* a learnt refresh did not help: none learnt again */
	bool told_too_short;
};

/* The production values: IDLE_LIFETIME_FLOOR and IDLE_LIFETIME_SLACK. */
extern const struct idle_lifetime_params idle_lifetime_defaults;

/* Nothing learnt yet; params are copied. */
void idle_lifetime_init(struct idle_lifetime *lifetime, const struct idle_lifetime_params *params);

/* What an earlier run learnt (seconds). False, and nothing changed, when
 * the pair cannot have been learnt with these params: refresh under the
 * floor, not below lifetime, lifetime above IDLE_LIFETIME_MAX. */
bool idle_lifetime_restore(struct idle_lifetime *lifetime, guint server_lifetime, guint refresh);

/* Seconds after which an IDLE is refreshed: the learnt refresh, never
 * above idle_refresh; idle_refresh when nothing is learnt. */
guint idle_lifetime_refresh(const struct idle_lifetime *lifetime, guint idle_refresh);

/* An IDLE of the account ended after lasted µs; it was to be refreshed
 * after planned seconds (what idle_lifetime_refresh() said when it began);
 * who ended it. Returns what changed. */
enum idle_lifetime_news idle_lifetime_ended(struct idle_lifetime *lifetime,
                                            enum idle_lifetime_end who, gint64 lasted,
                                            guint planned, guint idle_refresh);

/* µs to wait before IDLE is issued again after the server completed one
 * that lasted lasted µs: none once it lasted the floor, else the rest of
 * the floor, so that a server that ends every IDLE at once is not answered
 * with a loop. */
gint64 idle_lifetime_reissue_after(const struct idle_lifetime *lifetime, gint64 lasted);

/* seconds as "4m58s", "4m", "50s" into buf (at least 16 bytes). */
const char *idle_lifetime_format(guint seconds, char *buf, gsize size);

#endif
