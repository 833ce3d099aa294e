/* SPDX-License-Identifier: MIT */
/*
 * What the server reports unasked about the selected folder: EXISTS,
 * EXPUNGE, FETCH, VANISHED, ESEARCH and ENABLED data, the UIDVALIDITY,
 * UIDNEXT, HIGHESTMODSEQ and CLOSED codes and untagged NO while idling, each
 * turned into facts for the mailbox model. STATUS and LIST data are the
 * guests' (imap-session-guests.c). The commands and their tagged replies
 * are in imap-session.c.
 */
#include "core/imap-session-private.h"

#include "imapwatch/core/utf7.h"

#include <inttypes.h>
#include <string.h>

/* Untagged NO responses while idling that are answered by selecting the
 * folder again; more end the connection. */
#define MAX_IDLE_WARNINGS 3
/* The ranges of one VANISHED set; the parser's line limit bounds its text
 * anyway. */
#define VANISHED_MAX_RANGES 100000

/* --- untagged data ------------------------------------------------------- */

static bool message_data_allowed(const struct imap_session *s)
{
	/* S5/H6: message data only belongs to us once EXAMINE is under way;
	 * H7: when switching folders, not before the old one is closed. */
	return s->mailbox != NULL && !s->awaiting_closed && s->state != S_LOGOUT &&
	       s->state != S_DONE;
}

static void handle_fetch(struct imap_session *s, const struct imap_response *r)
{
	if (r->n_args != 1 || r->args[0].type != IMAP_ARG_LIST) {
		g_debug("ignoring malformed FETCH for account '%s'", s->account->name);
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
		} else if (imap_arg_is_atom(name, "MODSEQ") && value->type == IMAP_ARG_LIST &&
		           value->n_children == 1) {
			uint64_t modseq;

			if (imap_arg_get_u64(&value->children[0], &modseq)) {
				f.modseq = modseq;
			}
		} else if (imap_arg_is_atom(name, "X-GM-MSGID")) {
			uint64_t gm;

			if (imap_arg_get_u64(value, &gm)) {
				f.gm_msgid = gm;
			}
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
	g_autoptr(uidset) uids = uidset_new();
	/* N9: a set wider than the selection (Cyrus names whole ranges with
	 * holes) is taken for what the folder held of it; it is never
	 * expanded, so its size costs nothing. */
	if (!uidset_parse(uids, r->args[i].str, VANISHED_MAX_RANGES)) {
		imap_session_fail(s, IMAP_FAILURE_TRANSIENT,
		                  "server sent an invalid VANISHED response");
		return;
	}
	mailbox_vanished(s->mailbox, uids, false);
}

static void handle_code(struct imap_session *s, const struct imap_response *r)
{
	uint32_t value;
	uint64_t modseq;

	/* CAPABILITY and ALERT codes are handled by the client. */
	if (r->code != NULL && strcmp(r->code, "CLOSED") == 0) {
		/* H7: the folder selected before is closed; what follows
		 * belongs to the one being selected. */
		s->awaiting_closed = false;
		return;
	}
	if (r->code != NULL && strcmp(r->code, "UIDVALIDITY") == 0 && s->state == S_EXAMINE) {
		/* Selection data, whether or not [CLOSED] came first. */
		s->awaiting_closed = false;
	}
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
				          mailbox_get_folder(s->mailbox), s->account->name);
			}
		} else if (value != mailbox_get_uidvalidity(s->mailbox)) {
			/* M3: mid-session change; a new selection sorts it out. */
			imap_session_fail(s, IMAP_FAILURE_TRANSIENT,
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

/* "* ESEARCH (TAG "A7") UID ALL 1:5,9" (RFC 4731): every UID of the
 * folder, in ascending order = sequence order. */
static void handle_esearch(struct imap_session *s, const struct imap_response *r)
{
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));

	if (s->state != S_SEARCH_ALL || !s->incremental || mailbox_is_compact(s->mailbox)) {
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
		imap_session_fail(s, IMAP_FAILURE_TRANSIENT,
		                  "server keeps reporting problems with folder '%s': %s",
		                  mailbox_get_folder(s->mailbox), r->text);
		return;
	}
	g_message("server reported a problem with folder '%s' of account '%s' (%s); selecting it "
	          "again",
	          mailbox_get_folder(s->mailbox), s->account->name, r->text);
	imap_session_resync(s);
}

void imap_session_handle_untagged(struct imap_session *s, const struct imap_response *r)
{
	/* BYE text and CAPABILITY data are kept by the client; STATUS, LIST
	 * and NOTIFY's codes concern the guests. */
	if (imap_session_guests_untagged(s, r)) {
		return;
	}
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
	if (strcmp(r->keyword, "FLAGS") == 0 && s->state == S_EXAMINE) {
		/* The new folder's data begins (a server that does not send
		 * [CLOSED] despite QRESYNC). */
		s->awaiting_closed = false;
	}
	if (!message_data_allowed(s)) {
		return; /* S5: ignored before the selection */
	}
	uint32_t had = mailbox_get_exists(s->mailbox);

	if (strcmp(r->keyword, "EXISTS") == 0 && r->has_number) {
		if (r->number > IMAP_SESSION_MAX_EXISTS) {
			imap_session_fail(
			    s, IMAP_FAILURE_TRANSIENT,
			    "server announced %" PRIu32 " messages in folder '%s', more "
			    "than the %u imapwatch accepts; closing the connection",
			    r->number, mailbox_get_folder(s->mailbox), IMAP_SESSION_MAX_EXISTS);
			return;
		}
		imap_client_set_untagged_limit(
		    s->client, IMAP_CLIENT_UNTAGGED_LIMIT +
		                   (size_t)r->number * IMAP_SESSION_UNTAGGED_PER_MESSAGE);
		if (r->number > mailbox_get_exists(s->mailbox) && s->state != S_EXAMINE) {
			s->pending |= PENDING_NEW;
		}
		mailbox_exists(s->mailbox, r->number);
	} else if (strcmp(r->keyword, "EXPUNGE") == 0 && r->has_number) {
		if (!mailbox_expunge(s->mailbox, r->number)) {
			/* N9: after ENABLE QRESYNC expunges come as VANISHED. */
			imap_session_fail(s, IMAP_FAILURE_TRANSIENT,
			                  "server sent EXPUNGE although QRESYNC is enabled");
			return;
		}
	} else if (strcmp(r->keyword, "FETCH") == 0 && r->has_number) {
		handle_fetch(s, r);
	} else if (strcmp(r->keyword, "ESEARCH") == 0) {
		handle_esearch(s, r);
		imap_session_select_esearch(s, r);
	} else if (strcmp(r->keyword, "VANISHED") == 0) {
		handle_vanished(s, r);
	}
	if (had > 0 && mailbox_get_exists(s->mailbox) == 0 && s->state != S_EXAMINE &&
	    s->mailbox == s->home &&
	    (strcmp(r->keyword, "VANISHED") == 0 || strcmp(r->keyword, "EXPUNGE") == 0)) {
		/* H8: a folder emptied at once may have been deleted (Cyrus
		 * keeps the dead selection and answers OK): select it again,
		 * which tells a missing folder (NO) or a new one (another
		 * UIDVALIDITY, a reset) from an empty one. */
		s->pending |= PENDING_RESYNC;
		if (s->state == S_IDLING) {
			imap_session_send_done(s);
		}
	}
	if (s->state == S_IDLING) {
		/* The unseen count goes out at the end of the batch; with
		 * NOTIFY the FETCH with the header follows in it
		 * (handle_batch_end() in imap-session.c). */
		if ((s->pending & PENDING_NEW) && s->guest_mode != IMAP_SESSION_GUESTS_NOTIFY) {
			imap_session_send_done(s);
		}
	}
}
