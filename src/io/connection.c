/* SPDX-License-Identifier: MIT */
#include "imapwatch/io/connection.h"

#include "imapwatch/core/imap-session.h"
#include "imapwatch/core/liveness.h"
#include "imapwatch/io/link.h"

struct connection {
	const struct config_account *account;
	char *label;
	bool lists; /* a LIST pass each poll finds new and deleted folders */
	const struct connection_ops *ops;
	void *user_data;

	struct link *link;
	struct imap_client *client; /* the link's */
	struct imap_session *session;

	guint refresh_timer;
	guint liveness_timer;
	guint poll_timer; /* the guests' poll, every poll_interval */
	struct liveness liveness;

	/* What the account learnt of the server's IDLE (I9), or own_lifetime
	 * (nothing learnt) when it gave none. */
	const struct idle_lifetime *idle_lifetime;
	struct idle_lifetime own_lifetime;
	gint64 idle_since;  /* when the IDLE under way began ("+"), 0: none */
	guint idle_planned; /* seconds: the refresh it was given */
	/* The server ended the last IDLE: the next one after resume_ms. */
	bool paused;
	guint resume_ms;
};

/* Seconds after which an IDLE that begins now is refreshed (I5, I9). */
static guint refresh_interval(const struct connection *c)
{
	return idle_lifetime_refresh(c->idle_lifetime, c->account->idle_refresh);
}

static void update_timers(struct connection *c);

static gboolean refresh_cb(gpointer data)
{
	struct connection *c = data;

	c->refresh_timer = 0;
	c->paused = false;
	imap_session_refresh(c->session);
	update_timers(c);
	return G_SOURCE_REMOVE;
}

static gboolean liveness_cb(gpointer data)
{
	struct connection *c = data;

	c->liveness_timer = 0;
	g_debug("no data for %u s from the server of %s; probing",
	        liveness_silence_allowed(&c->liveness, c->idle_planned), c->label);
	imap_session_refresh(c->session);
	update_timers(c);
	return G_SOURCE_REMOVE;
}

/* While a reply is due the link times the wait; otherwise the refresh (or
 * poll) timer runs, and while idling the probe on silence (L1). */
static void update_timers(struct connection *c)
{
	if (imap_session_is_over(c->session)) {
		return;
	}
	if (imap_client_is_waiting(c->client)) {
		g_clear_handle_id(&c->refresh_timer, g_source_remove);
		g_clear_handle_id(&c->liveness_timer, g_source_remove);
		liveness_waiting(&c->liveness);
		return;
	}
	guint refresh = c->idle_since != 0 ? c->idle_planned : refresh_interval(c);
	enum watch_state state = imap_session_get_state(c->session);

	if (state == WATCH_STATE_IDLE && !c->paused && c->liveness_timer == 0 &&
	    liveness_probes_early(&c->liveness, refresh)) {
		c->liveness_timer = g_timeout_add_seconds(
		    liveness_silence_allowed(&c->liveness, refresh), liveness_cb, c);
	}
	if (c->refresh_timer == 0) {
		guint ms = state == WATCH_STATE_POLLING ? c->account->poll_interval * 1000
		           : c->paused                  ? c->resume_ms
		                                        : refresh * 1000;
		c->refresh_timer = g_timeout_add(ms, refresh_cb, c);
	}
}

static void stop_timers(struct connection *c)
{
	g_clear_handle_id(&c->refresh_timer, g_source_remove);
	g_clear_handle_id(&c->liveness_timer, g_source_remove);
	g_clear_handle_id(&c->poll_timer, g_source_remove);
}

static gboolean poll_cb(gpointer data)
{
	struct connection *c = data;

	imap_session_poll(c->session);
	update_timers(c);
	return G_SOURCE_CONTINUE;
}

/* Guests are polled (or NOTIFY checked), and patterns listed again, every
 * poll_interval, whatever the connection is busy with meanwhile. */
static void update_poll_timer(struct connection *c)
{
	bool wanted = !imap_session_is_over(c->session) &&
	              (c->lists || imap_session_get_guests(c->session) != IMAP_SESSION_GUESTS_NONE);

	if (wanted && c->poll_timer == 0) {
		c->poll_timer = g_timeout_add_seconds(c->account->poll_interval, poll_cb, c);
	} else if (!wanted) {
		g_clear_handle_id(&c->poll_timer, g_source_remove);
	}
}

/* --- the session's callbacks ---------------------------------------------- */

static void session_state_changed(enum watch_state state, void *user_data)
{
	struct connection *c = user_data;

	c->ops->state_changed(c, state, c->user_data);
}

static void session_guests_changed(enum imap_session_guests mode, const char *reason,
                                   void *user_data)
{
	struct connection *c = user_data;

	update_poll_timer(c);
	if (c->ops->guests_changed != NULL) {
		c->ops->guests_changed(c, mode, reason, c->user_data);
	}
}

static void session_listed(const struct imap_session_listed *entries, size_t n, void *user_data)
{
	struct connection *c = user_data;

	if (c->ops->listed != NULL) {
		c->ops->listed(c, entries, n, c->user_data);
	}
}

static void session_guest_failed(struct mailbox *guest, const char *message, void *user_data)
{
	struct connection *c = user_data;

	if (c->ops->guest_failed != NULL) {
		c->ops->guest_failed(c, guest, message, c->user_data);
	}
}

static void session_idle_started(void *user_data)
{
	struct connection *c = user_data;

	/* The refresh counts from the server's "+" (I5), with what the
	 * account knows now (I9). */
	c->idle_since = g_get_monotonic_time();
	c->idle_planned = refresh_interval(c);
	c->paused = false;
	g_clear_handle_id(&c->refresh_timer, g_source_remove);
}

static void session_idle_ended(enum imap_session_idle_end how, void *user_data)
{
	struct connection *c = user_data;
	gint64 lasted = c->idle_since != 0 ? g_get_monotonic_time() - c->idle_since : 0;

	c->idle_since = 0;
	if (how == IMAP_SESSION_IDLE_END_SERVER) {
		/* I9: the session waits for the next IDLE; a server that ends
		 * IDLE at once gets it only after the rest of the floor. */
		g_clear_handle_id(&c->refresh_timer, g_source_remove);
		g_clear_handle_id(&c->liveness_timer, g_source_remove);
		c->paused = true;
		c->resume_ms =
		    (guint)(idle_lifetime_reissue_after(c->idle_lifetime, lasted) / 1000);
	}
	if (c->ops->idle_ended != NULL) {
		c->ops->idle_ended(c, how, lasted, c->idle_planned, c->user_data);
	}
}

static void session_failed(enum imap_failure failure, const char *message, void *user_data)
{
	struct connection *c = user_data;

	stop_timers(c);
	link_close(c->link, true, failure, message);
}

static void session_finished(void *user_data)
{
	struct connection *c = user_data;

	stop_timers(c);
	link_close(c->link, false, IMAP_FAILURE_TRANSIENT, NULL);
}

static const struct imap_session_ops session_ops = {
    .state_changed = session_state_changed,
    .guests_changed = session_guests_changed,
    .listed = session_listed,
    .guest_failed = session_guest_failed,
    .failed = session_failed,
    .finished = session_finished,
    .idle_started = session_idle_started,
    .idle_ended = session_idle_ended,
};

/* --- the link's callbacks ----------------------------------------------- */

static void link_stream_event(struct link *link, enum stream_event event, bool was_waiting,
                              void *user_data)
{
	struct connection *c = user_data;

	(void)link;
	if (event == STREAM_EVENT_DATA && !was_waiting) {
		/* Any byte while idling shows the server is alive. */
		liveness_note_rx(&c->liveness, g_get_monotonic_time());
		g_clear_handle_id(&c->liveness_timer, g_source_remove);
	}
	update_timers(c);
}

static void link_closed(struct link *link, bool failed, enum imap_failure failure,
                        const char *message, void *user_data)
{
	struct connection *c = user_data;

	(void)link;
	if (failed) {
		c->ops->failed(c, failure, message, c->user_data);
	} else {
		c->ops->finished(c, c->user_data);
	}
}

static const struct link_ops link_ops = {
    .stream_event = link_stream_event,
    .closed = link_closed,
};

/* --- public entry points ------------------------------------------------- */

struct connection *connection_create(const struct connection_params *params,
                                     const struct connection_ops *ops, void *user_data)
{
	struct connection *c = g_new0(struct connection, 1);
	struct imap_session_params session = {
	    .account = params->account,
	    .password = params->password,
	    .home = params->home,
	    .list = params->list,
	    .allow_notify = params->allow_notify,
	};

	c->account = params->account;
	c->label = params->home != NULL ? g_strdup_printf("%s/%s", params->account->name,
	                                                  mailbox_get_folder(params->home))
	                                : g_strdup(params->account->name);
	c->lists = params->list != NULL;
	c->ops = ops;
	c->user_data = user_data;
	idle_lifetime_init(&c->own_lifetime, &idle_lifetime_defaults);
	c->idle_lifetime = params->idle_lifetime != NULL ? params->idle_lifetime : &c->own_lifetime;
	c->link = link_create(params->account, c->label, params->trace, 0, &link_ops, c);
	c->client = link_get_client(c->link);
	c->session = imap_session_create(c->client, &session, &session_ops, c);
	return c;
}

void connection_start(struct connection *c)
{
	link_start(c->link);
	update_timers(c);
	update_poll_timer(c);
}

void connection_set_home(struct connection *c, struct mailbox *home)
{
	imap_session_set_home(c->session, home);
}

void connection_set_guests(struct connection *c, struct mailbox *const *guests, size_t n)
{
	if (imap_session_is_over(c->session)) {
		return;
	}
	imap_session_set_guests(c->session, guests, n);
	update_timers(c);
}

enum imap_session_guests connection_get_guests(const struct connection *c)
{
	return imap_session_get_guests(c->session);
}

void connection_resync(struct connection *c)
{
	if (imap_session_is_over(c->session)) {
		return;
	}
	imap_session_resync(c->session);
	update_timers(c);
}

void connection_probe(struct connection *c, guint timeout)
{
	if (imap_session_is_over(c->session) || imap_client_is_waiting(c->client)) {
		return;
	}
	/* A round trip: DONE (or NOOP when polling) must be answered within
	 * timeout, else the connection is dead. */
	link_expect_reply_within(c->link, timeout);
	imap_session_refresh(c->session);
	update_timers(c);
}

void connection_logout(struct connection *c)
{
	if (imap_session_is_over(c->session)) {
		return;
	}
	imap_session_logout(c->session);
	update_timers(c);
}

void connection_destroy(struct connection *c)
{
	if (c == NULL) {
		return;
	}
	stop_timers(c);
	imap_session_destroy(c->session);
	link_destroy(c->link);
	g_free(c->label);
	g_free(c);
}
