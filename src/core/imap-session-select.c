/* SPDX-License-Identifier: MIT */
/*
 * Selecting a folder and learning what it holds (M1, N6–N8, N11): the
 * EXAMINE (with QRESYNC's resync when there is something to resume from),
 * then, in full mode, the flag listing or the incremental resync of the
 * map; in compact mode, the UID searches that fill or check the model's
 * sets. The session's other commands are in imap-session.c.
 */
#include "core/imap-session-private.h"

#include "imapwatch/core/imap-command.h"
#include "imapwatch/core/utf7.h"

#include <inttypes.h>
#include <string.h>

/* Beyond this many messages without known flags a full listing is cheaper
 * than naming them. */
#define MISSING_FLAGS_PER_FETCH 1000

static bool has_cap(const struct imap_session *s, enum imap_cap cap)
{
	return imap_client_has_cap(s->client, cap);
}

void imap_session_examine(struct imap_session *s)
{
	g_autofree char *encoded = utf7_imap_encode(mailbox_get_folder(s->mailbox));
	g_autoptr(GString) command = g_string_new("EXAMINE ");
	if (encoded == NULL || !imap_command_append_astring(command, encoded)) {
		imap_session_fail(s, IMAP_FAILURE_PERMANENT,
		                  "folder name '%s' cannot be sent to the server",
		                  mailbox_get_folder(s->mailbox));
		return;
	}
	if (!watch_state_is_watching(s->reported)) {
		/* Once watching, selecting again (a guest's visit, a Check) is
		 * part of watching: no state flaps through "syncing". */
		imap_session_report_state(s, WATCH_STATE_SYNCING);
	}
	/* H7: with QRESYNC, what still comes for another folder selected
	 * before ends with [CLOSED]. */
	s->awaiting_closed = s->selected && s->enabled_qresync && s->mailbox != s->last_selected;
	s->last_selected = s->mailbox;
	s->selected = false;
	s->have_uidvalidity = false;
	s->pending &= ~(unsigned)(PENDING_NEW | PENDING_CHECK_NEW | PENDING_DETAILS);
	if (s->mailbox == s->home) {
		s->pending &= ~(unsigned)PENDING_RESYNC;
	}
	/* N11: with QRESYNC and ESEARCH the model keeps UID sets, no map. */
	mailbox_set_compact(s->mailbox, s->enabled_qresync && has_cap(s, IMAP_CAP_ESEARCH));
	/* Incremental only with a map (or sets) to start from, a mod-sequence
	 * to start at (never CHANGEDSINCE 0, N7) and ESEARCH, whose compact
	 * UID list fits a line where plain SEARCH would not. */
	s->resync_modseq = mailbox_get_modseq(s->mailbox);
	s->incremental = s->enabled_condstore && has_cap(s, IMAP_CAP_ESEARCH) &&
	                 s->resync_modseq > 0 &&
	                 (mailbox_is_compact(s->mailbox) ? mailbox_sets_resumable(s->mailbox)
	                                                 : mailbox_get_exists(s->mailbox) > 0);
	if (s->incremental && s->enabled_qresync) {
		g_string_append_printf(command, " (QRESYNC (%" PRIu32 " %" PRIu64 "))",
		                       mailbox_get_uidvalidity(s->mailbox), s->resync_modseq);
	}
	mailbox_select_begin(s->mailbox);
	/* M1/W1: EXAMINE, never SELECT. */
	imap_session_send(s, S_EXAMINE, command->str);
}

static void step_select_end(struct imap_session *s)
{
	mailbox_select_end(s->mailbox);
	s->pending |= PENDING_CHECK_NEW | PENDING_DETAILS;
	imap_session_step_next(s);
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
		imap_session_send(s, S_LIST_FLAGS, "UID FETCH 1:* (UID FLAGS)");
		return;
	}
	g_autoptr(GString) command = g_string_new("UID FETCH ");
	imap_command_append_uid_set(command, (const uint32_t *)(void *)uids->data, uids->len);
	g_string_append(command, " (UID FLAGS)");
	imap_session_send(s, S_LIST_FLAGS, command->str);
}

/* --- compact mode (N11) ----------------------------------------------------- */

/* " UID 1:w <criterion>" (the messages the sets hold), or before a
 * baseline the criterion alone. */
static void append_search(struct imap_session *s, GString *command, const char *criterion)
{
	uint32_t limit = mailbox_search_limit(s->mailbox);

	if (limit != MAILBOX_SEARCH_ALL) {
		g_string_append_printf(command, " UID 1:%" PRIu32, limit);
	}
	if (criterion != NULL) {
		g_string_append_printf(command, " %s", criterion);
	}
}

/* A search answers in one line: a set of up to one UID (ten digits and a
 * comma) per message. The line limit is raised for it, and lowered again
 * when it is answered. */
#define SEARCH_BYTES_PER_MESSAGE 11

void imap_session_search_reset(struct imap_session *s, bool set)
{
	uidset_clear(s->search_set);
	s->search_count = -1;
	imap_client_set_line_limit(
	    s->client, set ? (size_t)mailbox_get_exists(s->mailbox) * SEARCH_BYTES_PER_MESSAGE : 0);
}

/* The UIDs the folder holds, within what the sets cover. */
static void step_search_all(struct imap_session *s)
{
	g_autoptr(GString) command = g_string_new("UID SEARCH RETURN (ALL)");

	imap_session_search_reset(s, true);
	if (mailbox_get_exists(s->mailbox) == 0 || mailbox_search_limit(s->mailbox) == 0) {
		/* Nothing to search: an empty folder, or one whose every
		 * message is above the watermark (new). */
		g_autoptr(uidset) none = uidset_new();
		bool full = mailbox_set_all(s->mailbox, none);

		if (full) {
			mailbox_set_unseen(s->mailbox, none);
		} else {
			mailbox_unseen_agrees(s->mailbox, 0);
		}
		step_select_end(s);
		return;
	}
	append_search(s, command,
	              mailbox_search_limit(s->mailbox) == MAILBOX_SEARCH_ALL ? "ALL" : NULL);
	imap_session_send(s, S_SEARCH_ALL, command->str);
}

/* The unseen ones: all of them when the sets are new or in doubt, else
 * their number, which checks the restored set (N11). */
static void step_search_unseen(struct imap_session *s, bool full)
{
	g_autoptr(GString) command =
	    g_string_new(full ? "UID SEARCH RETURN (ALL)" : "UID SEARCH RETURN (COUNT)");

	imap_session_search_reset(s, full);
	s->search_full = full;
	append_search(s, command, "UNSEEN");
	imap_session_send(s, S_SEARCH_UNSEEN, command->str);
}

/* A selection command refused: the session fails (transient), naming what
 * it was doing ("searching", "listing flags of") and the folder. */
static bool refused(struct imap_session *s, const struct imap_response *r, const char *doing)
{
	if (r->status == IMAP_STATUS_OK) {
		return false;
	}
	imap_session_fail(s, IMAP_FAILURE_TRANSIENT, "%s folder '%s' failed: %s", doing,
	                  mailbox_get_folder(s->mailbox), r->text);
	return true;
}

static bool search_refused(struct imap_session *s, const struct imap_response *r)
{
	imap_client_set_line_limit(s->client, 0);
	return refused(s, r, "searching");
}

static void search_all_done(struct imap_session *s, const struct imap_response *r)
{
	if (search_refused(s, r)) {
		return;
	}
	step_search_unseen(s, mailbox_set_all(s->mailbox, s->search_set));
}

static void search_unseen_done(struct imap_session *s, const struct imap_response *r)
{
	if (search_refused(s, r)) {
		return;
	}
	if (s->search_full) {
		mailbox_set_unseen(s->mailbox, s->search_set);
	} else if (s->search_count < 0 ||
	           !mailbox_unseen_agrees(s->mailbox, (uint64_t)s->search_count)) {
		g_message("the unseen messages of folder '%s' of account '%s' differ from what "
		          "was saved; asking the server for all of them",
		          mailbox_get_folder(s->mailbox), s->account->name);
		step_search_unseen(s, true);
		return;
	}
	step_select_end(s);
}

/* "* ESEARCH (TAG "A7") UID ALL 1:5,9" or "... UID COUNT 3" (RFC 4731). */
void imap_session_select_esearch(struct imap_session *s, const struct imap_response *r)
{
	if (s->state != S_SEARCH_NEW &&
	    (!mailbox_is_compact(s->mailbox) ||
	     (s->state != S_SEARCH_ALL && s->state != S_SEARCH_UNSEEN))) {
		return;
	}
	for (size_t i = 0; i + 1 < r->n_args; i++) {
		uint64_t count;

		if (imap_arg_is_atom(&r->args[i], "ALL") && r->args[i + 1].type == IMAP_ARG_ATOM) {
			/* A set of at most one range per message (bounded), and
			 * of no more UIDs than the folder holds: "1:4294967295"
			 * is one range, and a set the model took from it would
			 * count more unseen messages than messages, and cost a
			 * removed event per UID when a later search lacks them
			 * (N11). */
			if (!uidset_parse(s->search_set, r->args[i + 1].str,
			                  (size_t)mailbox_get_exists(s->mailbox) + 1) ||
			    uidset_count(s->search_set) > mailbox_get_exists(s->mailbox)) {
				imap_session_fail(s, IMAP_FAILURE_TRANSIENT,
				                  "server sent an invalid ESEARCH response");
				return;
			}
		} else if (imap_arg_is_atom(&r->args[i], "COUNT") &&
		           imap_arg_get_u64(&r->args[i + 1], &count)) {
			s->search_count = (int64_t)MIN(count, (uint64_t)INT64_MAX);
		}
	}
}

/* --- tagged replies --------------------------------------------------------- */

void imap_session_select_reply(struct imap_session *s, const struct imap_response *r)
{
	bool ok = r->status == IMAP_STATUS_OK;

	switch (s->state) {
	case S_EXAMINE:
		if (!ok && imap_session_visiting(s) != NULL) {
			imap_session_guest_refused(s, r);
			return;
		}
		if (!ok && s->home != NULL && s->mailbox != s->home) {
			/* A guest the owner dropped while its EXAMINE was under
			 * way: nothing to report, home again. */
			mailbox_abort(s->mailbox);
			s->mailbox = s->home;
			imap_session_examine(s);
			return;
		}
		if (!ok) {
			enum imap_failure failure = imap_failure_for_reply(r->code, r->text);
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
		if (mailbox_is_compact(s->mailbox)) {
			step_search_all(s);
		} else if (mailbox_get_exists(s->mailbox) == 0) {
			step_select_end(s);
		} else if (s->incremental) {
			imap_session_send(s, S_SEARCH_ALL, "UID SEARCH RETURN (ALL) ALL");
		} else {
			imap_session_send(s, S_LIST_FLAGS, "UID FETCH 1:* (UID FLAGS)");
		}
		return;
	case S_SEARCH_ALL:
		if (mailbox_is_compact(s->mailbox)) {
			search_all_done(s, r);
			return;
		}
		if (!ok || !s->incremental) {
			/* No usable UID list: list everything instead. */
			s->incremental = false;
			imap_session_send(s, S_LIST_FLAGS, "UID FETCH 1:* (UID FLAGS)");
			return;
		}
		if (!s->enabled_qresync) {
			/* N7: CONDSTORE alone: what changed since the last
			 * selection (expunges came from the UID list). */
			g_autofree char *command =
			    g_strdup_printf("UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE %" PRIu64 ")",
			                    s->resync_modseq);
			imap_session_send(s, S_FETCH_CHANGED, command);
			return;
		}
		step_flags_missing(s);
		return;
	case S_FETCH_CHANGED:
		if (!refused(s, r, "fetching changes of")) {
			step_flags_missing(s);
		}
		return;
	case S_SEARCH_UNSEEN:
		search_unseen_done(s, r);
		return;
	case S_LIST_FLAGS:
		if (!refused(s, r, "listing flags of")) {
			step_select_end(s);
		}
		return;
	default:
		return;
	}
}
