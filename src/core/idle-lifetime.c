/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/idle-lifetime.h"

#define US(seconds) ((gint64)(seconds)*G_USEC_PER_SEC)

const struct idle_lifetime_params idle_lifetime_defaults = {
    .floor = IDLE_LIFETIME_FLOOR,
    .slack = IDLE_LIFETIME_SLACK,
};

void idle_lifetime_init(struct idle_lifetime *l, const struct idle_lifetime_params *params)
{
	*l = (struct idle_lifetime){.params = *params};
}

bool idle_lifetime_restore(struct idle_lifetime *l, guint server_lifetime, guint refresh)
{
	if (refresh < l->params.floor || refresh >= server_lifetime ||
	    server_lifetime > IDLE_LIFETIME_MAX) {
		return false;
	}
	l->lifetime = server_lifetime;
	l->refresh = refresh;
	l->streak = 0;
	l->misses = 0;
	l->kept = 0;
	return true;
}

guint idle_lifetime_refresh(const struct idle_lifetime *l, guint idle_refresh)
{
	return l->refresh != 0 ? MIN(l->refresh, idle_refresh) : idle_refresh;
}

/* How far apart lifetimes around d may be and still be "about the same". */
static gint64 tolerance(const struct idle_lifetime *l, gint64 d)
{
	return MAX(US(l->params.slack), d * IDLE_LIFETIME_SLACK_PERCENT / 100);
}

/* The server ended an IDLE after lasted µs: one more of the streak, or the
 * first of a new one. */
static void streak_add(struct idle_lifetime *l, gint64 lasted)
{
	gint64 lo = MIN(l->shortest, lasted);
	gint64 hi = MAX(l->longest, lasted);

	if (l->streak > 0 && hi - lo <= tolerance(l, lo)) {
		l->streak++;
		l->shortest = lo;
		l->longest = hi;
		return;
	}
	l->streak = 1;
	l->shortest = lasted;
	l->longest = lasted;
}

static enum idle_lifetime_news ours(struct idle_lifetime *l, gint64 lasted, guint planned)
{
	if (l->refresh != 0 && planned <= l->refresh &&
	    lasted + US(l->params.slack) >= US(planned)) {
		/* A planned refresh at the learnt time: the server let the
		 * IDLE live that long, the refresh works. */
		if (++l->kept >= IDLE_LIFETIME_STREAK) {
			l->misses = 0;
		}
	}
	if (l->streak > 0 && lasted > l->longest + tolerance(l, l->longest)) {
		/* The server let this one outlive those it ended: they were
		 * not its limit. */
		l->streak = 0;
	}
	return IDLE_LIFETIME_NOTHING;
}

static enum idle_lifetime_news server(struct idle_lifetime *l, gint64 lasted, guint planned,
                                      guint idle_refresh)
{
	if (l->refresh != 0) {
		if (planned > l->refresh) {
			/* Begun before the refresh was learnt (another
			 * connection): nothing new. */
			return IDLE_LIFETIME_NOTHING;
		}
		/* Ended although it was to be refreshed in time: the limit is
		 * not the IDLE's age (I9). */
		l->kept = 0;
		if (++l->misses < IDLE_LIFETIME_MISSES) {
			return IDLE_LIFETIME_NOTHING;
		}
		l->lifetime = 0;
		l->refresh = 0;
		l->misses = 0;
		l->streak = 0;
		l->given_up = true;
		return IDLE_LIFETIME_DROPPED;
	}
	if (l->given_up || lasted >= US(MIN(planned, idle_refresh))) {
		/* Ended when it was due for its refresh anyway. */
		return IDLE_LIFETIME_NOTHING;
	}
	streak_add(l, lasted);
	if (l->streak < IDLE_LIFETIME_STREAK) {
		return IDLE_LIFETIME_NOTHING;
	}
	guint refresh = (guint)(l->shortest * IDLE_LIFETIME_SHARE_PERCENT / 100 / G_USEC_PER_SEC);
	guint seen = (guint)((l->shortest + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC);

	l->streak = 0;
	l->observed = seen;
	if (refresh < l->params.floor || seen > IDLE_LIFETIME_MAX) {
		/* Reported once, never learnt: the connections go on as
		 * before. */
		if (l->told_too_short) {
			return IDLE_LIFETIME_NOTHING;
		}
		l->told_too_short = true;
		return IDLE_LIFETIME_TOO_SHORT;
	}
	l->lifetime = seen;
	l->refresh = MIN(refresh, idle_refresh);
	l->misses = 0;
	l->kept = 0;
	return IDLE_LIFETIME_LEARNT;
}

enum idle_lifetime_news idle_lifetime_ended(struct idle_lifetime *l, enum idle_lifetime_end who,
                                            gint64 lasted, guint planned, guint idle_refresh)
{
	if (who == IDLE_LIFETIME_END_OURS) {
		return ours(l, lasted, planned);
	}
	return server(l, lasted, planned, idle_refresh);
}

gint64 idle_lifetime_reissue_after(const struct idle_lifetime *l, gint64 lasted)
{
	gint64 floor = US(l->params.floor);

	return lasted >= floor ? 0 : floor - MAX(lasted, 0);
}

const char *idle_lifetime_format(guint seconds, char *buf, gsize size)
{
	if (seconds < 60) {
		g_snprintf(buf, size, "%us", seconds);
	} else if (seconds % 60 == 0) {
		g_snprintf(buf, size, "%um", seconds / 60);
	} else {
		g_snprintf(buf, size, "%um%02us", seconds / 60, seconds % 60);
	}
	return buf;
}
