/* SPDX-License-Identifier: MIT */
/*
 * The session's commands and their tagged replies: the state machine of
 * selecting a folder and keeping it in sync (EXAMINE, flag listing or
 * incremental resync, header fetches, IDLE or NOOP), and step_next(), the
 * one place pending work is taken. Guests (LIST, NOTIFY, STATUS, visits) are
 * in imap-session-guests.c, untagged data in imap-session-untagged.c.
 */
#include "core/imap-session-private.h"

#include "imapwatch/core/imap-command.h"
#include "imapwatch/core/utf7.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

/* The header fields a new-mail event shows; BODY.PEEK never sets \Seen (W2). */
#define FETCH_NEW_ITEMS                                                                            \
	"(UID FLAGS INTERNALDATE RFC822.SIZE "                                                     \
	"BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)])"

#define FETCH_NEW_ITEMS_GMAIL                                                                      \
	"(UID FLAGS INTERNALDATE RFC822.SIZE X-GM-MSGID "                                          \
	"BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)])"

/* Headers fetched per round for unseen messages of the baseline. */
#define DETAILS_PER_FETCH 200

static const char *const state_names[] = {
    [S_LOGIN] = "login",
    [S_ID] = "id",
    [S_ENABLE] = "enable",
    [S_LIST] = "list",
    [S_NOTIFY] = "notify",
    [S_STATUS] = "status",
    [S_EXAMINE] = "examine",
    [S_LIST_FLAGS] = "list-flags",
    [S_SEARCH_ALL] = "search-all",
    [S_SEARCH_UNSEEN] = "search-unseen",
    [S_FETCH_CHANGED] = "fetch-changed",
    [S_SEARCH_NEW] = "search-new",
    [S_FETCH_NEW] = "fetch-new",
    [S_FETCH_DETAILS] = "fetch-details",
    [S_IDLE_START] = "idle-start",
    [S_IDLING] = "idling",
    [S_IDLE_DONE] = "idle-done",
    [S_POLL_WAIT] = "poll-wait",
    [S_NOOP] = "noop",
    [S_LOGOUT] = "logout",
    [S_DONE] = "done",
};

/* The one place the coarse state is reported upward. */
void imap_session_report_state(struct imap_session *s, enum watch_state state)
{
	if (s->reported == state || s->state == S_DONE) {
		return;
	}
	s->reported = state;
	s->ops->state_changed(state, s->user_data);
}

static void set_state(struct imap_session *s, enum imap_session_state state)
{
	if (s->state != state) {
		g_debug("imap session for account '%s' folder '%s': %s -> %s", s->account->name,
		        s->mailbox != NULL ? mailbox_get_folder(s->mailbox) : "-",
		        state_names[s->state], state_names[state]);
	}
	s->state = state;
}

/* The end, whichever way: the client stops, unfinished mailbox work is
 * dropped, and the owner is told once. */
static bool session_end(struct imap_session *s)
{
	if (s->state == S_DONE) {
		return false;
	}
	set_state(s, S_DONE);
	imap_client_stop(s->client);
	if (s->mailbox != NULL) {
		mailbox_abort(s->mailbox);
	}
	return true;
}

G_GNUC_PRINTF(3, 4)
void imap_session_fail(struct imap_session *s, enum imap_failure failure, const char *fmt, ...)
{
	if (s->state == S_DONE) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *message = g_strdup_vprintf(fmt, ap);
	va_end(ap);

	session_end(s);
	s->ops->failed(failure, message, s->user_data);
}

static void session_finish(struct imap_session *s)
{
	if (session_end(s)) {
		s->ops->finished(s->user_data);
	}
}

static void handle_tagged(const struct imap_response *r, void *data);

void imap_session_send(struct imap_session *s, enum imap_session_state next, const char *command)
{
	set_state(s, next);
	imap_client_command(s->client, command, NULL, handle_tagged, s);
}

/* Sends "TAG <command>\r\n" and makes it the outstanding command. */
static void send_command(struct imap_session *s, enum imap_session_state next, const char *command)
{
	imap_session_send(s, next, command);
}

static bool has_cap(const struct imap_session *s, enum imap_cap cap)
{
	return imap_client_has_cap(s->client, cap);
}

/* --- steps ----------------------------------------------------------------- */

static void step_idle(struct imap_session *s);

/* After ENABLE: a LIST of the configured names and patterns when asked,
 * else, with SPECIAL-USE, of the home folder alone for what it is for
 * (\Junk, \Trash, \Sent, \Drafts): the notifier keeps such folders quiet
 * unless asked. Then the folders. */
static void step_setup(struct imap_session *s)
{
	if (s->list != NULL || has_cap(s, IMAP_CAP_SPECIAL_USE)) {
		s->pending |= PENDING_LIST;
	}
	imap_session_step_next(s);
}

static void step_enable_or_examine(struct imap_session *s)
{
	/* C3: ENABLE before any EXAMINE. */
	if (has_cap(s, IMAP_CAP_ENABLE) && has_cap(s, IMAP_CAP_QRESYNC)) {
		send_command(s, S_ENABLE, "ENABLE QRESYNC");
	} else if (has_cap(s, IMAP_CAP_ENABLE) && has_cap(s, IMAP_CAP_CONDSTORE)) {
		send_command(s, S_ENABLE, "ENABLE CONDSTORE");
	} else {
		step_setup(s);
	}
}

static void step_id(struct imap_session *s)
{
	if (has_cap(s, IMAP_CAP_ID)) {
		/* A8: some servers refuse EXAMINE without ID. */
		send_command(s, S_ID, IMAP_CLIENT_ID_COMMAND);
		return;
	}
	step_enable_or_examine(s);
}

static void step_logout(struct imap_session *s)
{
	s->pending = 0;
	send_command(s, S_LOGOUT, "LOGOUT");
}

/* N5: on Gmail one message is in several folders (labels); its id there
 * lets the notifications show it once. */
static const char *fetch_new_items(const struct imap_session *s)
{
	return has_cap(s, IMAP_CAP_X_GM_EXT_1) ? FETCH_NEW_ITEMS_GMAIL : FETCH_NEW_ITEMS;
}

static void step_fetch_new(struct imap_session *s)
{
	uint64_t count = 0;
	g_autofree char *command = NULL;

	s->pending &= ~(unsigned)(PENDING_NEW | PENDING_CHECK_NEW);
	s->fetch_rounds = false;
	if (has_cap(s, IMAP_CAP_ESEARCH) && mailbox_count_new(s->mailbox, &count) &&
	    count > MAILBOX_MAX_PENDING) {
		/* N3: a burst larger than one round is fetched by the UIDs a
		 * search names, a round at a time, so that each message's
		 * header comes once however many follow it. */
		command = g_strdup_printf("UID SEARCH RETURN (ALL) UID %" PRIu32 ":*",
		                          mailbox_get_fetch_start(s->mailbox));
		imap_session_search_reset(s, true);
		send_command(s, S_SEARCH_NEW, command);
		return;
	}
	command = g_strdup_printf("UID FETCH %" PRIu32 ":* %s", mailbox_get_fetch_start(s->mailbox),
	                          fetch_new_items(s));
	send_command(s, S_FETCH_NEW, command);
}

/* The first round of the burst the search found: its lowest UIDs, at most
 * MAILBOX_MAX_PENDING in at most FETCH_ROUND_RANGES ranges (P5: the
 * command stays well below 8192 octets). */
#define FETCH_ROUND_RANGES 300

static void step_fetch_new_round(struct imap_session *s)
{
	size_t n;
	const struct uid_range *r = uidset_ranges(s->search_set, &n);
	uint64_t left = MAILBOX_MAX_PENDING;

	imap_client_set_line_limit(s->client, 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t size = (uint64_t)r[i].hi - r[i].lo + 1;

		if (i + 1 == FETCH_ROUND_RANGES && size < left) {
			uidset_remove_above(s->search_set, r[i].hi);
			break;
		}
		if (size >= left) {
			uidset_remove_above(s->search_set, (uint32_t)(r[i].lo + left - 1));
			break;
		}
		left -= size;
	}
	if (uidset_count(s->search_set) == 0) {
		/* Gone meanwhile: the plain fetch finds what there is. */
		g_autofree char *command =
		    g_strdup_printf("UID FETCH %" PRIu32 ":* %s",
		                    mailbox_get_fetch_start(s->mailbox), fetch_new_items(s));
		send_command(s, S_FETCH_NEW, command);
		return;
	}
	g_autoptr(GString) command = g_string_new("UID FETCH ");
	uidset_append(s->search_set, command);
	g_string_append_printf(command, " %s", fetch_new_items(s));
	s->fetch_rounds = true;
	send_command(s, S_FETCH_NEW, command->str);
}

/* Headers of unseen messages that were there before we came, so listings
 * can show them; never reported as new. Bounded: the newest ones only. */
static bool step_fetch_details(struct imap_session *s)
{
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));

	s->pending &= ~(unsigned)PENDING_DETAILS;
	mailbox_get_missing_details(s->mailbox, DETAILS_PER_FETCH, uids);
	if (uids->len == 0) {
		return false;
	}
	g_autoptr(GString) command = g_string_new("UID FETCH ");
	imap_command_append_uid_set(command, (const uint32_t *)(void *)uids->data, uids->len);
	g_string_append(command, " " FETCH_NEW_ITEMS);
	send_command(s, S_FETCH_DETAILS, command->str);
	return true;
}

/* After every completed command: the one place the pending work is taken,
 * most urgent first — the selected folder's own work, then the guests'
 * (which may lead away from the home folder and back), then IDLE. */
void imap_session_step_next(struct imap_session *s)
{
	if (s->pending & PENDING_LOGOUT) {
		step_logout(s);
		return;
	}
	if (s->selected) {
		/* After a fetch, only a new EXISTS triggers another one: an
		 * entry the fetch did not return was expunged and its EXPUNGE
		 * is on the way. */
		if ((s->pending & PENDING_NEW) ||
		    ((s->pending & PENDING_CHECK_NEW) && mailbox_wants_new(s->mailbox))) {
			step_fetch_new(s);
			return;
		}
		if ((s->pending & PENDING_DETAILS) && step_fetch_details(s)) {
			return;
		}
	}
	if ((s->pending & PENDING_RESYNC) && s->mailbox == s->home && s->home != NULL) {
		imap_session_examine(s);
		return;
	}
	if (imap_session_guests_step(s)) {
		return;
	}
	step_idle(s);
}

static void step_idle(struct imap_session *s)
{
	s->idle_paused = false;
	if (has_cap(s, IMAP_CAP_IDLE) && !s->idle_broken) {
		set_state(s, S_IDLE_START);
		imap_client_idle(s->client, handle_tagged, s);
		return;
	}
	/* C2: no IDLE, so poll (L7); the connection calls refresh(). */
	set_state(s, S_POLL_WAIT);
	imap_session_report_state(s, WATCH_STATE_POLLING);
}

static void idle_ended(struct imap_session *s, enum imap_session_idle_end how)
{
	if (s->ops->idle_ended != NULL) {
		s->ops->idle_ended(how, s->user_data);
	}
}

void imap_session_send_done(struct imap_session *s)
{
	if (s->state == S_IDLING) {
		idle_ended(s, IMAP_SESSION_IDLE_END_DONE);
	}
	/* I3: the IDLE tag stays outstanding until its tagged reply. */
	set_state(s, S_IDLE_DONE);
	imap_client_idle_done(s->client);
}

/* --- tagged replies ------------------------------------------------------ */

static void handle_tagged(const struct imap_response *r, void *data)
{
	struct imap_session *s = data;
	bool ok = r->status == IMAP_STATUS_OK;

	switch (s->state) {
	case S_ID:
		/* A8: whatever the answer, carry on. */
		step_enable_or_examine(s);
		return;
	case S_ENABLE:
		step_setup(s);
		return;
	case S_LIST:
	case S_NOTIFY:
	case S_STATUS:
		imap_session_guests_reply(s, r);
		return;
	case S_EXAMINE:
	case S_LIST_FLAGS:
	case S_SEARCH_ALL:
	case S_SEARCH_UNSEEN:
	case S_FETCH_CHANGED:
		imap_session_select_reply(s, r);
		return;
	case S_SEARCH_NEW:
		if (!ok) {
			uidset_clear(s->search_set); /* the plain fetch instead */
		}
		step_fetch_new_round(s);
		return;
	case S_FETCH_NEW:
		if (!ok) {
			imap_session_fail(s, IMAP_FAILURE_TRANSIENT,
			                  "fetching new messages of folder '%s' failed: %s",
			                  mailbox_get_folder(s->mailbox), r->text);
			return;
		}
		uint64_t left = 0;
		if (s->fetch_rounds) {
			/* N3: the round's messages only; an unasked FETCH of a
			 * later one must not move the watermark past the rest. */
			mailbox_new_limit(s->mailbox, uidset_max(s->search_set));
		}
		bool more = mailbox_new_end(s->mailbox);

		if (s->fetch_rounds && mailbox_count_new(s->mailbox, &left) && left > 0) {
			more = true; /* the burst's next round */
		}
		if (more) {
			/* More than one burst: the rest from the new watermark. */
			s->pending |= PENDING_CHECK_NEW;
		}
		imap_session_step_next(s);
		return;
	case S_FETCH_DETAILS:
		if (!ok) {
			/* Only listings lose; the watch goes on. */
			g_debug("fetching details in folder '%s' of account '%s' failed: %s",
			        mailbox_get_folder(s->mailbox), s->account->name, r->text);
		}
		mailbox_flush_unseen(s->mailbox);
		imap_session_step_next(s);
		return;
	case S_IDLE_START:
		/* I1: a tagged reply instead of "+" means no IDLE here. */
		g_message("server refused IDLE for account '%s' (%s); polling instead",
		          s->account->name, r->text);
		s->idle_broken = true;
		imap_session_step_next(s);
		return;
	case S_IDLING:
		/* I9: the server completed IDLE without our DONE (its own
		 * timeout). Not at once again: the connection says when
		 * (imap_session_refresh()), so that a server that ends every
		 * IDLE at once is not answered with a loop. The coarse state
		 * stays IDLE. */
		idle_ended(s, IMAP_SESSION_IDLE_END_SERVER);
		if (!ok) {
			imap_session_fail(s, IMAP_FAILURE_TRANSIENT, "IDLE failed: %s", r->text);
			return;
		}
		if ((s->pending & PENDING_WAKES_IDLE) || imap_session_guests_wake(s)) {
			imap_session_step_next(s);
			return;
		}
		s->idle_paused = true;
		set_state(s, S_POLL_WAIT);
		return;
	case S_IDLE_DONE:
	case S_NOOP:
		if (!ok) {
			imap_session_fail(s, IMAP_FAILURE_TRANSIENT, "%s failed: %s",
			                  s->state == S_NOOP ? "NOOP" : "IDLE", r->text);
			return;
		}
		imap_session_step_next(s);
		return;
	case S_LOGOUT:
		session_finish(s);
		return;
	default:
		return;
	}
}

static void handle_continuation(const struct imap_response *r, void *data)
{
	struct imap_session *s = data;

	(void)r;
	if (s->state != S_IDLE_START) {
		return; /* P1: unexpected, harmless */
	}
	set_state(s, S_IDLING);
	imap_session_report_state(s, WATCH_STATE_IDLE);
	if (s->ops->idle_started != NULL) {
		s->ops->idle_started(s->user_data);
	}
	mailbox_flush_unseen(s->mailbox);
	/* I1: news that arrived before "+" is handled at once. */
	if ((s->pending & PENDING_WAKES_IDLE) || imap_session_guests_wake(s)) {
		imap_session_send_done(s);
	}
}

/* What the server sent together is handled together: with NOTIFY a new
 * message comes as EXISTS and a FETCH with its header (F4), and reporting it
 * needs no fetch of ours; anything else that wants work ends the IDLE. */
static void handle_batch_end(void *data)
{
	struct imap_session *s = data;

	if (s->state != S_IDLING) {
		return;
	}
	if (s->guest_mode == IMAP_SESSION_GUESTS_NOTIFY && mailbox_new_ready(s->mailbox)) {
		mailbox_new_end(s->mailbox);
		if (!mailbox_wants_new(s->mailbox)) {
			s->pending &= ~(unsigned)PENDING_NEW;
		}
	}
	/* After the new messages, so a listener sees the count that
	 * includes them. */
	mailbox_flush_unseen(s->mailbox);
	if ((s->pending & PENDING_WAKES_IDLE) || imap_session_guests_wake(s)) {
		imap_session_send_done(s);
	}
}

static void handle_untagged(const struct imap_response *r, void *data)
{
	imap_session_handle_untagged(data, r);
}

static void client_failed(enum imap_failure failure, const char *message, void *data)
{
	struct imap_session *s = data;

	if (s->state == S_LOGOUT) {
		/* The server closed after LOGOUT: that is how it ends. */
		session_finish(s);
		return;
	}
	if (s->state == S_IDLING) {
		idle_ended(s, IMAP_SESSION_IDLE_END_CLOSED);
	}
	imap_session_fail(s, failure, "%s", message);
}

static const struct imap_client_handler session_handler = {
    .untagged = handle_untagged,
    .continuation = handle_continuation,
    .batch_end = handle_batch_end,
    .failed = client_failed,
};

/* --- imap-login callbacks ------------------------------------------------ */

static void login_greeted(void *owner)
{
	imap_session_report_state(owner, WATCH_STATE_AUTHENTICATING);
}

static void login_authenticated(void *owner)
{
	struct imap_session *s = owner;

	imap_client_set_handler(s->client, &session_handler, s);
	if (s->pending & PENDING_LOGOUT) {
		step_logout(s);
		return;
	}
	step_id(s);
}

static void login_failed(enum imap_failure failure, const char *message, void *owner)
{
	client_failed(failure, message, owner);
}

static const struct imap_login_ops login_ops = {
    .greeted = login_greeted,
    .authenticated = login_authenticated,
    .failed = login_failed,
};

/* --- public entry points ------------------------------------------------- */

struct imap_session *imap_session_create(struct imap_client *client,
                                         const struct imap_session_params *params,
                                         const struct imap_session_ops *ops, void *user_data)
{
	struct imap_session *s = g_new0(struct imap_session, 1);

	s->account = params->account;
	s->password = params->password;
	s->client = client;
	s->home = params->home;
	s->ops = ops;
	s->user_data = user_data;
	s->state = S_LOGIN;
	s->reported = WATCH_STATE_CONNECTING;
	s->guests = g_array_new(FALSE, TRUE, sizeof(struct imap_session_guest));
	s->allow_notify = params->allow_notify;
	s->list = params->list != NULL ? g_strdupv((char **)params->list) : NULL;
	s->search_set = uidset_new();
	s->search_count = -1;
	s->login = imap_login_create(client, params->account, params->password, &login_ops, s);
	return s;
}

void imap_session_destroy(struct imap_session *s)
{
	if (s == NULL) {
		return;
	}
	if (s->state != S_DONE && s->mailbox != NULL) {
		mailbox_abort(s->mailbox);
	}
	imap_login_destroy(s->login);
	imap_session_guests_free(s);
	uidset_free(s->search_set);
	g_free(s);
}

void imap_session_set_home(struct imap_session *s, struct mailbox *home)
{
	s->home = home;
	/* Selected elsewhere: the new home is selected when the command under
	 * way is done (imap_session_guests_step()). */
	if (s->state == S_IDLING) {
		imap_session_send_done(s);
	} else if (s->state == S_POLL_WAIT) {
		imap_session_step_next(s);
	}
}

void imap_session_refresh(struct imap_session *s)
{
	if (s->home != NULL && s->mailbox == s->home && mailbox_is_synced(s->home) &&
	    mailbox_get_exists(s->home) == 0) {
		/* H8: an empty home deleted by another client says nothing
		 * (no message vanishes), and Cyrus keeps answering OK on the
		 * dead selection: each refresh selects it again, cheap when
		 * empty, to find it gone or made anew. */
		s->pending |= PENDING_RESYNC;
	}
	if (s->state == S_IDLING) {
		imap_session_send_done(s);
	} else if (s->state == S_POLL_WAIT && (s->idle_paused || (s->pending & PENDING_RESYNC))) {
		imap_session_step_next(s);
	} else if (s->state == S_POLL_WAIT) {
		/* L7: NOOP collects EXISTS/EXPUNGE/FETCH without IDLE. */
		send_command(s, S_NOOP, "NOOP");
	}
}

void imap_session_resync(struct imap_session *s)
{
	s->pending |= PENDING_RESYNC;
	for (guint i = 0; i < s->guests->len; i++) {
		g_array_index(s->guests, struct imap_session_guest, i).due = true;
	}
	if (s->state == S_IDLING) {
		imap_session_send_done(s);
	} else if (s->state == S_POLL_WAIT) {
		imap_session_step_next(s);
	}
}

void imap_session_logout(struct imap_session *s)
{
	s->pending |= PENDING_LOGOUT;
	switch (s->state) {
	case S_IDLING:
		imap_session_send_done(s);
		return;
	case S_POLL_WAIT:
		step_logout(s);
		return;
	case S_LOGIN:
		/* Before login there is nothing worth a clean LOGOUT; once
		 * logged in, the capability listing completes first. */
		if (!imap_login_is_authenticated(s->login)) {
			session_finish(s);
		}
		return;
	default:
		/* The outstanding command completes first (step_next). */
		return;
	}
}

enum watch_state imap_session_get_state(const struct imap_session *s)
{
	return s->reported;
}

enum imap_session_guests imap_session_get_guests(const struct imap_session *s)
{
	return s->guest_mode;
}

bool imap_session_is_over(const struct imap_session *s)
{
	return s->state == S_DONE;
}
