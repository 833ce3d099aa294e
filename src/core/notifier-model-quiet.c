/* SPDX-License-Identifier: MIT */
/*
 * Quiet time in the notifier model: when it holds (notifications paused,
 * quiet_hours in local time, the desktop's do-not-disturb), and the end of
 * it, which shows what was held back. The clock is the caller's: the
 * decision is the same on a fake one.
 */
#include "core/notifier-model-private.h"

#define DAY_SECONDS (24 * 60 * 60)

const char *notifier_quiet_name(enum notifier_quiet flag)
{
	switch (flag) {
	case NOTIFIER_QUIET_PAUSED:
		return "paused";
	case NOTIFIER_QUIET_HOURS:
		return "quiet-hours";
	case NOTIFIER_QUIET_DND:
		return "do-not-disturb";
	}
	return NULL;
}

static gint slot_id_cmp(gconstpointer a, gconstpointer b)
{
	guint64 x = (*(struct notifier_op *const *)a)->slot;
	guint64 y = (*(struct notifier_op *const *)b)->slot;

	return (x > y) - (x < y);
}

void notifier_model_set_quiet(struct notifier_model *m, guint quiet, GPtrArray *ops)
{
	bool ending = m->quiet != 0 && quiet == 0;
	g_autoptr(GPtrArray) deferred = NULL;
	GHashTableIter iter;
	gpointer op;

	m->quiet = quiet;
	if (!ending) {
		return;
	}
	if (m->held != NULL) {
		struct slot *s = m->held;

		/* From now on an ordinary summary: withdrawals update it, its
		 * actions act on every message in it. */
		m->held = NULL;
		g_ptr_array_add(ops,
		                notifier_model_op_show(m, s, notifier_model_slot_sound(s), false));
	}
	/* Popups about no message that still apply, oldest first. */
	deferred = g_ptr_array_new();
	g_hash_table_iter_init(&iter, m->deferred);
	while (g_hash_table_iter_next(&iter, NULL, &op)) {
		g_ptr_array_add(deferred, op);
		g_hash_table_iter_steal(&iter);
	}
	g_ptr_array_sort(deferred, slot_id_cmp);
	for (guint i = 0; i < deferred->len; i++) {
		g_ptr_array_add(ops, deferred->pdata[i]);
	}
}

/* The first Unix second after now at which the local clock of tz shows
 * minute (after midnight). A time that a DST change skips is moved on by
 * the time zone; one it repeats is taken in standard time. */
static gint64 next_clock(GDateTime *local, GTimeZone *tz, guint minute, gint64 now)
{
	for (int day = 0; day <= 2; day++) {
		g_autoptr(GDateTime) date = g_date_time_add_days(local, day);
		g_autoptr(GDateTime) at = NULL;

		if (date == NULL) {
			break;
		}
		at = g_date_time_new(tz, g_date_time_get_year(date), g_date_time_get_month(date),
		                     g_date_time_get_day_of_month(date), (gint)(minute / 60),
		                     (gint)(minute % 60), 0);
		if (at != NULL && g_date_time_to_unix(at) > now) {
			return g_date_time_to_unix(at);
		}
	}
	return now + DAY_SECONDS;
}

guint notifier_model_quiet_at(const struct config *cfg, gint64 paused_until, bool dnd, gint64 now,
                              GTimeZone *tz, gint64 *next)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(now);
	g_autoptr(GDateTime) local = NULL;
	guint quiet = 0;

	if (paused_until < 0 || paused_until > now) {
		quiet |= NOTIFIER_QUIET_PAUSED;
	}
	if (dnd) {
		quiet |= NOTIFIER_QUIET_DND;
	}
	if (next != NULL) {
		*next = 0;
	}
	if (!cfg->has_quiet_hours || utc == NULL) {
		return quiet;
	}
	local = g_date_time_to_timezone(utc, tz);
	if (local == NULL) {
		return quiet;
	}
	if (config_quiet_at(
	        cfg, (guint)(g_date_time_get_hour(local) * 60 + g_date_time_get_minute(local)))) {
		quiet |= NOTIFIER_QUIET_HOURS;
	}
	if (next != NULL) {
		*next = MIN(next_clock(local, tz, cfg->quiet_start, now),
		            next_clock(local, tz, cfg->quiet_end, now));
	}
	return quiet;
}
