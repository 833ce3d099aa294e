/* SPDX-License-Identifier: MIT */
/*
 * Quiet time in the daemon core: the pause of desktop notifications
 * (imapwatch pause, Pause on D-Bus), which ends by itself when it was
 * given a duration, and why the notifier holds popups back now, for
 * status. Both live in this process only.
 */
#include "daemon/daemon-private.h"

static gint64 now_unix(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static gboolean pause_timer_cb(gpointer user_data)
{
	struct daemon *d = user_data;

	d->pause_timer = 0;
	daemon_pause_check(d);
	return G_SOURCE_REMOVE;
}

void daemon_pause_check(struct daemon *d)
{
	gint64 now = now_unix();

	g_clear_handle_id(&d->pause_timer, g_source_remove);
	if (d->paused_until <= 0) {
		return;
	}
	if (now >= d->paused_until) {
		g_message("notifications resumed: the pause is over");
		d->paused_until = 0;
		daemon_quiet_changed(d);
		return;
	}
	/* The end is a wall-clock time: a timer that slept through a suspend
	 * is armed again by daemon_probe(). */
	d->pause_timer =
	    g_timeout_add_seconds((guint)MIN(d->paused_until - now, G_MAXUINT), pause_timer_cb, d);
}

void daemon_pause(struct daemon *d, guint seconds)
{
	if (seconds == 0) {
		g_message("notifications paused until resumed");
		d->paused_until = -1;
	} else {
		g_autofree char *span = config_format_duration(seconds);

		g_message("notifications paused for %s", span);
		d->paused_until = now_unix() + seconds;
	}
	daemon_pause_check(d);
	daemon_quiet_changed(d);
}

void daemon_resume(struct daemon *d)
{
	if (d->paused_until == 0) {
		return;
	}
	g_message("notifications resumed");
	d->paused_until = 0;
	g_clear_handle_id(&d->pause_timer, g_source_remove);
	daemon_quiet_changed(d);
}

gint64 daemon_get_paused_until(const struct daemon *d)
{
	return d->paused_until;
}

void daemon_set_quiet(struct daemon *d, guint quiet)
{
	if (d->quiet == quiet) {
		return;
	}
	d->quiet = quiet;
	daemon_quiet_changed(d);
}

guint daemon_get_quiet(const struct daemon *d)
{
	return d->quiet;
}
