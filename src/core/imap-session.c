/* SPDX-License-Identifier: MIT */
#include "imapwatch/imap-session.h"

#include "imapwatch/imap-command.h"
#include "imapwatch/imap-login.h"
#include "imapwatch/imap-parser.h"
#include "imapwatch/utf7.h"

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

/* Untagged NO responses while idling that are answered by selecting the
 * folder again; more end the connection. */
#define MAX_IDLE_WARNINGS 3

/* Headers fetched per round for unseen messages of the baseline. */
#define DETAILS_PER_FETCH 200

enum state {
	S_LOGIN, /* greeting to authenticated: imap-login runs it */
	S_ID,
	S_ENABLE,
	S_LIST, /* the folder's special use (RFC 6154), once per connection */
	S_EXAMINE,
	S_LIST_FLAGS,
	S_SEARCH_ALL,    /* incremental resync: every UID, compactly */
	S_FETCH_CHANGED, /* incremental resync: CONDSTORE CHANGEDSINCE */
	S_FETCH_NEW,
	S_FETCH_DETAILS,
	S_IDLE_START, /* IDLE sent, waiting for "+" */
	S_IDLING,
	S_IDLE_DONE, /* DONE sent, waiting for the tagged reply */
	S_POLL_WAIT,
	S_NOOP,
	S_LOGOUT,
	S_DONE,
};

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

struct imap_session {
	enum state state;
	enum imap_session_phase phase;
	char *account;
	struct mailbox *mailbox;
	const struct imap_session_ops *ops;
	void *user_data;
	struct imap_login_io io;
	struct imap_login *login;

	bool enabled_condstore;
	bool enabled_qresync;
	bool selected; /* EXAMINE answered OK: message data is ours */
	bool have_uidvalidity;
	bool idle_broken;       /* IDLE refused: poll instead */
	bool saw_exists;        /* new messages announced since the last fetch */
	bool check_new;         /* a selection completed: fetch if the map says so */
	bool check_details;     /* fetch headers of unseen baseline messages */
	bool resync_requested;  /* imap_session_resync(): select again */
	unsigned idle_warnings; /* untagged NO while idling, this connection */
	/* This selection resynchronises from the previous one through
	 * CONDSTORE/QRESYNC (N7, N8) instead of listing every flag. */
	bool incremental;
	uint64_t resync_modseq; /* HIGHESTMODSEQ of the previous selection */
	bool idle_continued;
	bool logout_requested;
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

static void set_state(struct imap_session *s, enum state state)
{
	if (s->state != state) {
		g_debug("imap session for account '%s' folder '%s': %s -> %s", s->account,
		        mailbox_get_folder(s->mailbox), state_names[s->state], state_names[state]);
	}
	s->state = state;
}

G_GNUC_PRINTF(3, 4)
static void session_fail(struct imap_session *s, enum imap_failure failure, const char *fmt, ...)
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
static void send_command(struct imap_session *s, enum state next, const char *command)
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
		session_fail(s, IMAP_FAILURE_PERMANENT,
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

static void send_done(struct imap_session *s)
{
	/* I3: exactly "DONE"; the IDLE tag stays outstanding. */
	set_state(s, S_IDLE_DONE);
	imap_login_send_raw(s->login, "DONE\r\n", 6);
}

/* --- untagged data ------------------------------------------------------- */

static bool message_data_allowed(const struct imap_session *s)
{
	/* S5/H6: message data only belongs to us once EXAMINE is under way. */
	return s->state >= S_EXAMINE && s->state != S_LOGOUT && s->state != S_DONE;
}

static void handle_fetch(struct imap_session *s, const struct imap_response *r)
{
	if (r->n_args != 1 || r->args[0].type != IMAP_ARG_LIST) {
		g_debug("ignoring malformed FETCH for account '%s'", s->account);
		return;
	}
	const struct imap_arg *items = r->args[0].children;
	size_t n = r->args[0].n_children;
	struct mailbox_fetch f = {.seq = r->number};
	struct header_fields header = {0};
	g_autoptr(GPtrArray) flags = g_ptr_array_new();

	for (size_t i = 0; i + 1 < n; i += 2) {
		const struct imap_arg *name = &items[i];
		const struct imap_arg *value = &items[i + 1];

		if (name->type != IMAP_ARG_ATOM) {
			continue;
		}
		if (imap_arg_is_atom(name, "UID")) {
			f.has_uid = imap_arg_get_u32(value, &f.uid) && f.uid != 0;
		} else if (imap_arg_is_atom(name, "FLAGS") && value->type == IMAP_ARG_LIST) {
			for (size_t k = 0; k < value->n_children; k++) {
				const char *flag = imap_arg_as_string(&value->children[k]);

				/* M8: \Recent belongs to one session; reporting it
				 * would make the same message look different
				 * depending on which connection saw it first.
				 * Atoms may hold 8-bit bytes (imap-parser.h): a flag
				 * that is not UTF-8 cannot go into an event. */
				if (flag != NULL && g_ascii_strcasecmp(flag, "\\Recent") != 0 &&
				    g_utf8_validate(flag, -1, NULL)) {
					g_ptr_array_add(flags, (gpointer)flag);
				}
			}
			f.has_flags = true;
		} else if (imap_arg_is_atom(name, "INTERNALDATE")) {
			const char *date = imap_arg_as_string(value);

			if (date != NULL) {
				header_parse_internaldate(date, &f.internaldate);
			}
		} else if (g_ascii_strncasecmp(name->str, "BODY[", 5) == 0) {
			if (value->type != IMAP_ARG_LIST && value->type != IMAP_ARG_NIL) {
				/* A FETCH may carry several BODY[...] items. */
				header_fields_clear(&header);
				header_fields_parse(value->str, value->len, &header);
				f.has_header = true;
				f.header = &header;
			}
		}
	}
	g_ptr_array_add(flags, NULL);
	f.flags = (const char *const *)flags->pdata;
	mailbox_fetch(s->mailbox, &f);
	header_fields_clear(&header);
}

/* Expands a UID set such as "1:3,5" into uids, refusing more than limit
 * entries (a hostile server could name billions). */
static bool uid_set_expand(const char *set, size_t limit, GArray *uids)
{
	g_auto(GStrv) parts = g_strsplit(set, ",", -1);

	for (size_t i = 0; parts[i] != NULL; i++) {
		guint64 lo, hi;
		char *colon = strchr(parts[i], ':');

		if (colon != NULL) {
			*colon = '\0';
			if (!g_ascii_string_to_unsigned(parts[i], 10, 1, UINT32_MAX, &lo, NULL) ||
			    !g_ascii_string_to_unsigned(colon + 1, 10, 1, UINT32_MAX, &hi, NULL)) {
				return false;
			}
			if (lo > hi) {
				guint64 t = lo;
				lo = hi;
				hi = t;
			}
		} else {
			if (!g_ascii_string_to_unsigned(parts[i], 10, 1, UINT32_MAX, &lo, NULL)) {
				return false;
			}
			hi = lo;
		}
		if (hi - lo + 1 > limit - MIN(limit, uids->len)) {
			return false;
		}
		for (guint64 u = lo; u <= hi; u++) {
			uint32_t v = (uint32_t)u;
			g_array_append_val(uids, v);
		}
	}
	return true;
}

static void handle_vanished(struct imap_session *s, const struct imap_response *r)
{
	bool earlier = false;
	size_t i = 0;

	if (r->n_args > 0 && r->args[0].type == IMAP_ARG_LIST) {
		earlier = r->args[0].n_children == 1 &&
		          imap_arg_is_atom(&r->args[0].children[0], "EARLIER");
		i = 1;
	}
	if (i >= r->n_args || r->args[i].type != IMAP_ARG_ATOM) {
		return;
	}
	if (earlier) {
		/* Not used: every selection lists all flags, and what is
		 * missing from that listing is reported as removed. */
		return;
	}
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	/* VANISHED names only messages of this selection (N9). */
	if (!uid_set_expand(r->args[i].str, mailbox_get_exists(s->mailbox) + 1, uids)) {
		session_fail(s, IMAP_FAILURE_TRANSIENT, "server sent an invalid VANISHED response");
		return;
	}
	mailbox_vanished(s->mailbox, (const uint32_t *)(void *)uids->data, uids->len, false);
}

static void handle_code(struct imap_session *s, const struct imap_response *r)
{
	uint32_t value;
	uint64_t modseq;

	/* CAPABILITY and ALERT codes are handled by imap-login. */
	if (r->code == NULL || !message_data_allowed(s)) {
		return;
	}
	if (strcmp(r->code, "UIDVALIDITY") == 0 && r->n_code_args == 1 &&
	    imap_arg_get_u32(&r->code_args[0], &value)) {
		if (s->state == S_EXAMINE) {
			s->have_uidvalidity = true;
			if (mailbox_set_uidvalidity(s->mailbox, value)) {
				s->incremental = false;
				g_message("UIDVALIDITY of folder '%s' of account '%s' changed; "
				          "starting afresh, its messages summed up in one reset",
				          mailbox_get_folder(s->mailbox), s->account);
			}
		} else if (value != mailbox_get_uidvalidity(s->mailbox)) {
			/* M3: mid-session change; a new selection sorts it out. */
			session_fail(s, IMAP_FAILURE_TRANSIENT,
			             "UIDVALIDITY of folder '%s' changed during the session",
			             mailbox_get_folder(s->mailbox));
		}
	} else if (strcmp(r->code, "UIDNEXT") == 0 && r->n_code_args == 1 &&
	           imap_arg_get_u32(&r->code_args[0], &value)) {
		mailbox_set_uidnext(s->mailbox, value);
	} else if (s->state == S_EXAMINE && strcmp(r->code, "HIGHESTMODSEQ") == 0 &&
	           r->n_code_args == 1 && imap_arg_get_u64(&r->code_args[0], &modseq)) {
		/* The selection's snapshot: changes after it arrive live, and a
		 * later resync asks for everything since (repeats are harmless:
		 * unchanged flags give no event). */
		mailbox_set_modseq(s->mailbox, modseq);
	} else if (s->state == S_EXAMINE && strcmp(r->code, "NOMODSEQ") == 0) {
		mailbox_set_modseq(s->mailbox, 0);
		s->incremental = false;
	}
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

/* "* ESEARCH (TAG "A7") UID ALL 1:5,9" (RFC 4731): every UID of the
 * folder, in ascending order = sequence order. */
static void handle_esearch(struct imap_session *s, const struct imap_response *r)
{
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));

	if (s->state != S_SEARCH_ALL || !s->incremental) {
		return;
	}
	for (size_t i = 0; i + 1 < r->n_args; i++) {
		if (imap_arg_is_atom(&r->args[i], "ALL") && r->args[i + 1].type == IMAP_ARG_ATOM &&
		    !uid_set_expand(r->args[i + 1].str, mailbox_get_exists(s->mailbox) + 1, uids)) {
			s->incremental = false;
			return;
		}
	}
	/* The list must cover the selection exactly; otherwise list flags. */
	if (!mailbox_set_uids(s->mailbox, (const uint32_t *)(void *)uids->data, uids->len)) {
		s->incremental = false;
	}
}

/* An untagged NO while idling means the server has trouble with the
 * selected folder — Dovecot says "Internal error" when another client
 * deleted it — and IDLE may have gone deaf. Select it again (a recreated
 * folder has a new UIDVALIDITY and is re-baselined, M3); a server that keeps
 * complaining gets a reconnect with backoff instead of a tight loop. */
static void handle_idle_warning(struct imap_session *s, const struct imap_response *r)
{
	if (++s->idle_warnings > MAX_IDLE_WARNINGS) {
		session_fail(s, IMAP_FAILURE_TRANSIENT,
		             "server keeps reporting problems with folder '%s': %s",
		             mailbox_get_folder(s->mailbox), r->text);
		return;
	}
	g_message("server reported a problem with folder '%s' of account '%s' (%s); selecting it "
	          "again",
	          mailbox_get_folder(s->mailbox), s->account, r->text);
	imap_session_resync(s);
}

/* "* LIST (\HasNoChildren \Junk) "/" Junk": the attributes of our folder. */
static void handle_list(struct imap_session *s, const struct imap_response *r)
{
	static const char *const uses[] = {"\\Junk", "\\Trash", "\\Sent", "\\Drafts", "\\All"};

	if (r->n_args < 3 || r->args[0].type != IMAP_ARG_LIST) {
		return;
	}
	g_autofree char *name = utf7_imap_decode(
	    imap_arg_as_string(&r->args[2]) != NULL ? imap_arg_as_string(&r->args[2]) : "");
	if (name == NULL || strcmp(name, mailbox_get_folder(s->mailbox)) != 0) {
		return;
	}
	for (size_t i = 0; i < r->args[0].n_children; i++) {
		for (size_t j = 0; j < G_N_ELEMENTS(uses); j++) {
			if (imap_arg_is_atom(&r->args[0].children[i], uses[j])) {
				mailbox_set_special_use(s->mailbox, uses[j]);
			}
		}
	}
}

static void handle_untagged(struct imap_session *s, const struct imap_response *r)
{
	/* BYE text and CAPABILITY data are kept by imap-login. */
	if (r->status != IMAP_STATUS_NONE) {
		handle_code(s, r);
		if (r->status == IMAP_STATUS_NO &&
		    (s->state == S_IDLING || s->state == S_IDLE_START)) {
			handle_idle_warning(s, r);
		}
		return;
	}
	if (r->keyword == NULL) {
		return;
	}
	if (strcmp(r->keyword, "LIST") == 0 && s->state == S_LIST) {
		handle_list(s, r);
		return;
	}
	if (strcmp(r->keyword, "ENABLED") == 0 && s->state == S_ENABLE) {
		for (size_t i = 0; i < r->n_args; i++) {
			if (imap_arg_is_atom(&r->args[i], "QRESYNC")) {
				s->enabled_qresync = true;
				s->enabled_condstore = true;
			} else if (imap_arg_is_atom(&r->args[i], "CONDSTORE")) {
				s->enabled_condstore = true;
			}
		}
		return;
	}
	if (!message_data_allowed(s)) {
		return; /* S5: ignored before the selection */
	}
	if (strcmp(r->keyword, "EXISTS") == 0 && r->has_number) {
		if (r->number > IMAP_SESSION_MAX_EXISTS) {
			session_fail(s, IMAP_FAILURE_TRANSIENT,
			             "server announced %" PRIu32 " messages in folder '%s', more "
			             "than the %u imapwatch accepts; closing the connection",
			             r->number, mailbox_get_folder(s->mailbox),
			             IMAP_SESSION_MAX_EXISTS);
			return;
		}
		imap_login_set_untagged_limit(s->login, IMAP_LOGIN_UNTAGGED_LIMIT +
		                                            (size_t)r->number *
		                                                IMAP_SESSION_UNTAGGED_PER_MESSAGE);
		if (r->number > mailbox_get_exists(s->mailbox) && s->state != S_EXAMINE) {
			s->saw_exists = true;
		}
		mailbox_exists(s->mailbox, r->number);
	} else if (strcmp(r->keyword, "EXPUNGE") == 0 && r->has_number) {
		mailbox_expunge(s->mailbox, r->number);
	} else if (strcmp(r->keyword, "FETCH") == 0 && r->has_number) {
		handle_fetch(s, r);
	} else if (strcmp(r->keyword, "ESEARCH") == 0) {
		handle_esearch(s, r);
	} else if (strcmp(r->keyword, "VANISHED") == 0) {
		handle_vanished(s, r);
	}
	if (s->state == S_IDLING) {
		mailbox_flush_unseen(s->mailbox);
		if (s->saw_exists) {
			send_done(s);
		}
	}
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
			session_fail(s, failure, "cannot open folder '%s': %s",
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
			session_fail(s, IMAP_FAILURE_PERMANENT,
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
			session_fail(s, IMAP_FAILURE_TRANSIENT,
			             "fetching changes of folder '%s' failed: %s",
			             mailbox_get_folder(s->mailbox), r->text);
			return;
		}
		step_flags_missing(s);
		return;
	case S_LIST_FLAGS:
		if (!ok) {
			session_fail(s, IMAP_FAILURE_TRANSIENT,
			             "listing flags of folder '%s' failed: %s",
			             mailbox_get_folder(s->mailbox), r->text);
			return;
		}
		step_select_end(s);
		return;
	case S_FETCH_NEW:
		if (!ok) {
			session_fail(s, IMAP_FAILURE_TRANSIENT,
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
			session_fail(s, IMAP_FAILURE_TRANSIENT, "%s failed: %s",
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
		send_done(s);
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
		handle_untagged(s, r);
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
	session_fail(owner, failure, "%s", message);
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
	session_fail(s, failure, "%s", reason);
}

void imap_session_refresh(struct imap_session *s)
{
	if (s->state == S_IDLING) {
		send_done(s);
	} else if (s->state == S_POLL_WAIT) {
		/* L7: NOOP collects EXISTS/EXPUNGE/FETCH without IDLE. */
		send_command(s, S_NOOP, "NOOP");
	}
}

void imap_session_resync(struct imap_session *s)
{
	s->resync_requested = true;
	if (s->state == S_IDLING) {
		send_done(s);
	} else if (s->state == S_POLL_WAIT) {
		step_after_sync(s);
	}
}

void imap_session_logout(struct imap_session *s)
{
	s->logout_requested = true;
	switch (s->state) {
	case S_IDLING:
		send_done(s);
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
