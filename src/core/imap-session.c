/* SPDX-License-Identifier: MIT */
#include "core/imap-session-private.h"

#include "imapwatch/core/imap-command.h"
#include "imapwatch/core/utf7.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

/* The header fields of DESIGN.md §3; BODY.PEEK never sets \Seen (W2). */
#define FETCH_NEW_ITEMS                                                                            \
	"(UID FLAGS INTERNALDATE RFC822.SIZE "                                                     \
	"BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)])"

/* Beyond this many messages without known flags a full listing is cheaper
 * than naming them. */
#define MISSING_FLAGS_PER_FETCH 1000

/* Headers fetched per round for unseen messages of the baseline. */
#define DETAILS_PER_FETCH 200

static const char *const state_names[] = {
    [S_LOGIN] = "login",
    [S_ID] = "id",
    [S_ENABLE] = "enable",
    [S_LIST] = "list",
    [S_EXAMINE] = "examine",
    [S_LIST_FLAGS] = "list-flags",
    [S_SEARCH_ALL] = "search-all",
    [S_FETCH_CHANGED] = "fetch-changed",
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

const char *imap_session_phase_name(enum imap_session_phase phase)
{
	static const char *const names[] = {
	    [IMAP_SESSION_PHASE_CONNECTING] = "connecting",
	    [IMAP_SESSION_PHASE_AUTHENTICATING] = "authenticating",
	    [IMAP_SESSION_PHASE_SYNCING] = "syncing",
	    [IMAP_SESSION_PHASE_IDLE] = "idle",
	    [IMAP_SESSION_PHASE_POLLING] = "polling",
	    [IMAP_SESSION_PHASE_LOGOUT] = "logout",
	    [IMAP_SESSION_PHASE_DONE] = "done",
	};

	return (unsigned)phase < G_N_ELEMENTS(names) ? names[phase] : "unknown";
}

static void set_phase(struct imap_session *s, enum imap_session_phase phase)
{
	if (s->phase == phase) {
		return;
	}
	s->phase = phase;
	if (s->ops->phase_changed != NULL) {
		s->ops->phase_changed(phase, s->user_data);
	}
}

static void set_state(struct imap_session *s, enum imap_session_state state)
{
	if (s->state != state) {
		g_debug("imap session for account '%s' folder '%s': %s -> %s", s->account,
		        mailbox_get_folder(s->mailbox), state_names[s->state], state_names[state]);
	}
	s->state = state;
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

	set_state(s, S_DONE);
	imap_login_stop(s->login);
	mailbox_abort(s->mailbox);
	set_phase(s, IMAP_SESSION_PHASE_DONE);
	s->ops->failed(failure, message, s->user_data);
}

static void session_finish(struct imap_session *s)
{
	if (s->state == S_DONE) {
		return;
	}
	set_state(s, S_DONE);
	imap_login_stop(s->login);
	mailbox_abort(s->mailbox);
	set_phase(s, IMAP_SESSION_PHASE_DONE);
	s->ops->finished(s->user_data);
}

/* Sends "TAG <command>\r\n" and makes it the outstanding command. */
static void send_command(struct imap_session *s, enum imap_session_state next, const char *command)
{
	set_state(s, next);
	imap_login_send_command(s->login, command, NULL);
}

static bool has_cap(const struct imap_session *s, enum imap_login_cap cap)
{
	return imap_login_has_cap(s->login, cap);
}

char *imap_session_describe_capabilities(const struct imap_session *s)
{
	return imap_login_describe_capabilities(s->login);
}

/* --- steps ----------------------------------------------------------------- */

static void step_examine(struct imap_session *s);
static void step_after_sync(struct imap_session *s);
static void step_idle(struct imap_session *s);

/* With SPECIAL-USE, ask what the folder is for (\Junk, \Trash, \Sent,
 * \Drafts): the notifier keeps such folders quiet unless asked. */
static void step_list_or_examine(struct imap_session *s)
{
	g_autofree char *encoded = utf7_imap_encode(mailbox_get_folder(s->mailbox));
	g_autoptr(GString) command = g_string_new("LIST \"\" ");

	if (!has_cap(s, IMAP_LOGIN_CAP_SPECIAL_USE) || encoded == NULL ||
	    !imap_command_append_astring(command, encoded)) {
		step_examine(s);
		return;
	}
	send_command(s, S_LIST, command->str);
}

static void step_enable_or_examine(struct imap_session *s)
{
	/* C3: ENABLE before any EXAMINE. */
	if (has_cap(s, IMAP_LOGIN_CAP_ENABLE) && has_cap(s, IMAP_LOGIN_CAP_QRESYNC)) {
		send_command(s, S_ENABLE, "ENABLE QRESYNC");
	} else if (has_cap(s, IMAP_LOGIN_CAP_ENABLE) && has_cap(s, IMAP_LOGIN_CAP_CONDSTORE)) {
		send_command(s, S_ENABLE, "ENABLE CONDSTORE");
	} else {
		step_list_or_examine(s);
	}
}

static void step_id(struct imap_session *s)
{
	if (has_cap(s, IMAP_LOGIN_CAP_ID)) {
		/* A8: some servers refuse EXAMINE without ID. */
		send_command(s, S_ID, IMAP_LOGIN_ID_COMMAND);
		return;
	}
	step_enable_or_examine(s);
}

static void step_examine(struct imap_session *s)
{
	if (s->logout_requested) {
		send_command(s, S_LOGOUT, "LOGOUT");
		set_phase(s, IMAP_SESSION_PHASE_LOGOUT);
		return;
	}
	g_autofree char *encoded = utf7_imap_encode(mailbox_get_folder(s->mailbox));
	g_autoptr(GString) command = g_string_new("EXAMINE ");
	if (encoded == NULL || !imap_command_append_astring(command, encoded)) {
		imap_session_fail(s, IMAP_FAILURE_PERMANENT,
		                  "folder name '%s' cannot be sent to the server",
		                  mailbox_get_folder(s->mailbox));
		return;
	}
	set_phase(s, IMAP_SESSION_PHASE_SYNCING);
	s->selected = false;
	s->have_uidvalidity = false;
	s->saw_exists = false;
	/* Incremental only with a map to start from, a mod-sequence to start
	 * at (never CHANGEDSINCE 0, N7) and ESEARCH, whose compact UID list
	 * fits a line where plain SEARCH would not. */
	s->resync_modseq = mailbox_get_modseq(s->mailbox);
	s->incremental = s->enabled_condstore && has_cap(s, IMAP_LOGIN_CAP_ESEARCH) &&
	                 s->resync_modseq > 0 && mailbox_get_exists(s->mailbox) > 0;
	if (s->incremental && s->enabled_qresync) {
		g_string_append_printf(command, " (QRESYNC (%" PRIu32 " %" PRIu64 "))",
		                       mailbox_get_uidvalidity(s->mailbox), s->resync_modseq);
	}
	mailbox_select_begin(s->mailbox);
	/* M1/W1: EXAMINE, never SELECT. */
	send_command(s, S_EXAMINE, command->str);
}

static void step_fetch_new(struct imap_session *s)
{
	g_autofree char *command = g_strdup_printf("UID FETCH %" PRIu32 ":* " FETCH_NEW_ITEMS,
	                                           mailbox_get_fetch_start(s->mailbox));

	s->saw_exists = false;
	s->check_new = false;
	send_command(s, S_FETCH_NEW, command);
}

/* Headers of unseen messages that were there before we came, so listings
 * can show them; never reported as new. Bounded: the newest ones only. */
static bool step_fetch_details(struct imap_session *s)
{
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));

	s->check_details = false;
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

static void step_after_sync(struct imap_session *s)
{
	if (s->logout_requested) {
		send_command(s, S_LOGOUT, "LOGOUT");
		set_phase(s, IMAP_SESSION_PHASE_LOGOUT);
		return;
	}
	if (s->resync_requested) {
		s->resync_requested = false;
		step_examine(s);
		return;
	}
	/* After a fetch, only a new EXISTS triggers another one: an entry the
	 * fetch did not return was expunged and its EXPUNGE is on the way. */
	if (s->saw_exists || (s->check_new && mailbox_wants_new(s->mailbox))) {
		step_fetch_new(s);
		return;
	}
	if (s->check_details && step_fetch_details(s)) {
		return;
	}
	step_idle(s);
}

static void step_idle(struct imap_session *s)
{
	if (has_cap(s, IMAP_LOGIN_CAP_IDLE) && !s->idle_broken) {
		s->idle_continued = false;
		send_command(s, S_IDLE_START, "IDLE");
		return;
	}
	/* C2: no IDLE, so poll (L7); the connection calls refresh(). */
	set_state(s, S_POLL_WAIT);
	set_phase(s, IMAP_SESSION_PHASE_POLLING);
}

void imap_session_send_done(struct imap_session *s)
{
	/* I3: exactly "DONE"; the IDLE tag stays outstanding. */
	set_state(s, S_IDLE_DONE);
	imap_login_send_raw(s->login, "DONE\r\n", 6);
}

static void step_select_end(struct imap_session *s)
{
	mailbox_select_end(s->mailbox);
	s->check_new = true;
	s->check_details = true;
	step_after_sync(s);
}

/* After an incremental resync, messages known by UID but not by flags (the
 * map came from disk, or the server renumbered) are listed explicitly. */
static void step_flags_missing(struct imap_session *s)
{
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));

	mailbox_get_unknown_flags(s->mailbox, MISSING_FLAGS_PER_FETCH, uids);
	if (uids->len == 0) {
		step_select_end(s);
		return;
	}
	if (uids->len >= MISSING_FLAGS_PER_FETCH) {
		send_command(s, S_LIST_FLAGS, "UID FETCH 1:* (UID FLAGS)");
		return;
	}
	g_autoptr(GString) command = g_string_new("UID FETCH ");
	imap_command_append_uid_set(command, (const uint32_t *)(void *)uids->data, uids->len);
	g_string_append(command, " (UID FLAGS)");
	send_command(s, S_LIST_FLAGS, command->str);
}

/* --- tagged replies ------------------------------------------------------ */

static void handle_tagged(struct imap_session *s, const struct imap_response *r)
{
	/* imap-login passes only the reply to the outstanding command. */
	bool ok = r->status == IMAP_STATUS_OK;

	switch (s->state) {
	case S_ID:
		/* A8: whatever the answer, carry on. */
		step_enable_or_examine(s);
		return;
	case S_ENABLE:
		step_list_or_examine(s);
		return;
	case S_LIST:
		/* Not knowing the special use is no reason to stop watching. */
		step_examine(s);
		return;
	case S_EXAMINE:
		if (!ok) {
			enum imap_failure failure = imap_login_failure_for_code(r->code);
			imap_session_fail(s, failure, "cannot open folder '%s': %s",
			                  mailbox_get_folder(s->mailbox),
			                  r->code != NULL && strcmp(r->code, "NONEXISTENT") == 0
			                      ? "it does not exist on the server"
			                      : r->text);
			return;
		}
		s->selected = true;
		if (!s->have_uidvalidity) {
			/* M2: servers must send it; without it UIDs cannot be
			 * trusted across sessions. */
			imap_session_fail(s, IMAP_FAILURE_PERMANENT,
			                  "server sent no UIDVALIDITY for folder '%s'",
			                  mailbox_get_folder(s->mailbox));
			return;
		}
		if (mailbox_get_exists(s->mailbox) == 0) {
			step_select_end(s);
		} else if (s->incremental) {
			send_command(s, S_SEARCH_ALL, "UID SEARCH RETURN (ALL) ALL");
		} else {
			send_command(s, S_LIST_FLAGS, "UID FETCH 1:* (UID FLAGS)");
		}
		return;
	case S_SEARCH_ALL:
		if (!ok || !s->incremental) {
			/* No usable UID list: list everything instead. */
			s->incremental = false;
			send_command(s, S_LIST_FLAGS, "UID FETCH 1:* (UID FLAGS)");
			return;
		}
		if (!s->enabled_qresync) {
			/* N7: CONDSTORE alone: what changed since the last
			 * selection (expunges came from the UID list). */
			g_autofree char *command =
			    g_strdup_printf("UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE %" PRIu64 ")",
			                    s->resync_modseq);
			send_command(s, S_FETCH_CHANGED, command);
			return;
		}
		step_flags_missing(s);
		return;
	case S_FETCH_CHANGED:
		if (!ok) {
			imap_session_fail(s, IMAP_FAILURE_TRANSIENT,
			                  "fetching changes of folder '%s' failed: %s",
			                  mailbox_get_folder(s->mailbox), r->text);
			return;
		}
		step_flags_missing(s);
		return;
	case S_LIST_FLAGS:
		if (!ok) {
			imap_session_fail(s, IMAP_FAILURE_TRANSIENT,
			                  "listing flags of folder '%s' failed: %s",
			                  mailbox_get_folder(s->mailbox), r->text);
			return;
		}
		step_select_end(s);
		return;
	case S_FETCH_NEW:
		if (!ok) {
			imap_session_fail(s, IMAP_FAILURE_TRANSIENT,
			                  "fetching new messages of folder '%s' failed: %s",
			                  mailbox_get_folder(s->mailbox), r->text);
			return;
		}
		if (mailbox_new_end(s->mailbox)) {
			/* More than one burst: the rest from the new watermark. */
			s->check_new = true;
		}
		step_after_sync(s);
		return;
	case S_FETCH_DETAILS:
		if (!ok) {
			/* Only listings lose; the watch goes on. */
			g_debug("fetching details in folder '%s' of account '%s' failed: %s",
			        mailbox_get_folder(s->mailbox), s->account, r->text);
		}
		mailbox_flush_unseen(s->mailbox);
		step_after_sync(s);
		return;
	case S_IDLE_START:
		/* I1: a tagged reply instead of "+" means no IDLE here. */
		g_message("server refused IDLE for account '%s' (%s); polling instead", s->account,
		          r->text);
		s->idle_broken = true;
		step_after_sync(s);
		return;
	case S_IDLE_DONE:
	case S_NOOP:
		if (!ok) {
			imap_session_fail(s, IMAP_FAILURE_TRANSIENT, "%s failed: %s",
			                  s->state == S_NOOP ? "NOOP" : "IDLE", r->text);
			return;
		}
		step_after_sync(s);
		return;
	case S_LOGOUT:
		session_finish(s);
		return;
	default:
		return;
	}
}

static void handle_continuation(struct imap_session *s)
{
	if (s->state != S_IDLE_START) {
		return; /* P1: unexpected, harmless */
	}
	set_state(s, S_IDLING);
	set_phase(s, IMAP_SESSION_PHASE_IDLE);
	mailbox_flush_unseen(s->mailbox);
	/* I1: news that arrived before "+" is handled at once. */
	if (s->saw_exists || s->logout_requested || s->resync_requested) {
		imap_session_send_done(s);
	}
}

/* --- imap-login callbacks ------------------------------------------------ */

static void login_greeted(void *owner)
{
	set_phase(owner, IMAP_SESSION_PHASE_AUTHENTICATING);
}

static void login_authenticated(void *owner)
{
	step_id(owner);
}

static void login_response(const struct imap_response *r, void *owner)
{
	struct imap_session *s = owner;

	switch (r->kind) {
	case IMAP_RESPONSE_UNTAGGED:
		imap_session_handle_untagged(s, r);
		return;
	case IMAP_RESPONSE_TAGGED:
		handle_tagged(s, r);
		return;
	case IMAP_RESPONSE_CONTINUATION:
		handle_continuation(s);
		return;
	}
}

static void login_failed(enum imap_failure failure, const char *message, void *owner)
{
	imap_session_fail(owner, failure, "%s", message);
}

static const struct imap_login_ops login_ops = {
    .greeted = login_greeted,
    .authenticated = login_authenticated,
    .response = login_response,
    .failed = login_failed,
};

/* --- public entry points ------------------------------------------------- */

struct imap_session *imap_session_create(const struct imap_session_config *config,
                                         struct mailbox *mailbox,
                                         const struct imap_session_ops *ops, void *user_data)
{
	struct imap_session *s = g_new0(struct imap_session, 1);
	struct imap_login_config login_config = {
	    .account = config->account,
	    .security = config->security,
	    .auth = config->auth,
	    .username = config->username,
	    .password = config->password,
	    .trace = config->trace,
	};

	s->account = g_strdup(config->account);
	s->mailbox = mailbox;
	s->ops = ops;
	s->user_data = user_data;
	s->io = (struct imap_login_io){
	    .send = ops->send,
	    .start_tls = ops->start_tls,
	    .trace = ops->trace,
	    .user_data = user_data,
	};
	s->login = imap_login_create(&login_config, &s->io, &login_ops, s);
	s->state = S_LOGIN;
	s->phase = IMAP_SESSION_PHASE_CONNECTING;
	return s;
}

void imap_session_destroy(struct imap_session *s)
{
	if (s == NULL) {
		return;
	}
	if (s->state != S_DONE) {
		mailbox_abort(s->mailbox);
	}
	imap_login_destroy(s->login);
	g_free(s->account);
	g_free(s);
}

void imap_session_feed(struct imap_session *s, const char *data, size_t len)
{
	imap_login_feed(s->login, data, len);
}

void imap_session_tls_ready(struct imap_session *s)
{
	imap_login_tls_ready(s->login);
}

void imap_session_transport_closed(struct imap_session *s, const char *message)
{
	enum imap_failure failure;
	g_autofree char *reason = imap_login_describe_close(s->login, message, &failure);

	if (s->state == S_DONE) {
		return;
	}
	if (s->state == S_LOGOUT) {
		session_finish(s);
		return;
	}
	imap_session_fail(s, failure, "%s", reason);
}

void imap_session_refresh(struct imap_session *s)
{
	if (s->state == S_IDLING) {
		imap_session_send_done(s);
	} else if (s->state == S_POLL_WAIT) {
		/* L7: NOOP collects EXISTS/EXPUNGE/FETCH without IDLE. */
		send_command(s, S_NOOP, "NOOP");
	}
}

void imap_session_resync(struct imap_session *s)
{
	s->resync_requested = true;
	if (s->state == S_IDLING) {
		imap_session_send_done(s);
	} else if (s->state == S_POLL_WAIT) {
		step_after_sync(s);
	}
}

void imap_session_logout(struct imap_session *s)
{
	s->logout_requested = true;
	switch (s->state) {
	case S_IDLING:
		imap_session_send_done(s);
		return;
	case S_POLL_WAIT:
		send_command(s, S_LOGOUT, "LOGOUT");
		set_phase(s, IMAP_SESSION_PHASE_LOGOUT);
		return;
	case S_LOGIN:
		/* Before login there is nothing worth a clean LOGOUT; once
		 * logged in, the capability listing completes first. */
		if (!imap_login_is_authenticated(s->login)) {
			session_finish(s);
		}
		return;
	default:
		/* The outstanding command completes first (step_after_sync). */
		return;
	}
}

bool imap_session_is_waiting(const struct imap_session *s)
{
	return s->state != S_IDLING && s->state != S_POLL_WAIT && s->state != S_DONE;
}

enum imap_session_phase imap_session_get_phase(const struct imap_session *s)
{
	return s->phase;
}
