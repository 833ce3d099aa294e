/* SPDX-License-Identifier: MIT */
/*
 * The folders a session watches without selecting them — its guests:
 * NOTIFY SET (F1–F4), the STATUS pass that polls them (or checks that
 * NOTIFY still reports them), what STATUS responses say, and visits: a
 * guest that changed is selected, caught up like the home folder, and left
 * for home again. The LIST pass is in imap-session-list.c.
 */
#include "core/imap-session-private.h"

#include "imapwatch/core/imap-command.h"
#include "imapwatch/core/utf7.h"

#include <inttypes.h>
#include <string.h>

/* P5: command lines stay well below 8192 octets (a NOTIFY SET naming many
 * folders falls back to polling instead). */
#define LINE_MAX_OCTETS 8000

/* A STATUS pass that finds a change NOTIFY did not report this many times
 * for one folder makes the session stop trusting NOTIFY. */
#define MAX_NOTIFY_MISSES 2

/* What a visit or a STATUS pass compares. */
#define STATUS_ITEMS "MESSAGES UIDNEXT UNSEEN UIDVALIDITY"

/* The attributes NOTIFY pushes with a new message of the selected folder:
 * those of our own header fetch, so no fetch is needed (F4; BODY.PEEK,
 * W2). */
#define NOTIFY_FETCH_ITEMS                                                                         \
	"(UID FLAGS INTERNALDATE RFC822.SIZE "                                                     \
	"BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)])"
#define NOTIFY_EVENTS "(MessageNew MessageExpunge FlagChange)"

static struct imap_session_guest *guest_at(struct imap_session *s, guint i)
{
	return &g_array_index(s->guests, struct imap_session_guest, i);
}

struct imap_session_guest *imap_session_guest_find(struct imap_session *s, const char *name)
{
	for (guint i = 0; i < s->guests->len; i++) {
		if (mailbox_same_folder(mailbox_get_folder(guest_at(s, i)->mailbox), name)) {
			return guest_at(s, i);
		}
	}
	return NULL;
}

struct imap_session_guest *imap_session_visiting(struct imap_session *s)
{
	for (guint i = 0; i < s->guests->len; i++) {
		if (guest_at(s, i)->mailbox == s->mailbox) {
			return guest_at(s, i);
		}
	}
	return NULL;
}

bool imap_session_append_folder(GString *out, const char *folder)
{
	g_autofree char *encoded = utf7_imap_encode(folder);

	return encoded != NULL && imap_command_append_astring(out, encoded);
}

static void set_mode(struct imap_session *s, enum imap_session_guests mode, const char *reason)
{
	if (s->guest_mode == mode && reason == NULL) {
		return;
	}
	s->guest_mode = mode;
	if (s->ops->guests_changed != NULL) {
		s->ops->guests_changed(mode, reason, s->user_data);
	}
}

/* NOTIFY cannot be trusted here any more: poll, and look at everything
 * again, since what it missed is unknown. */
static void fall_back(struct imap_session *s, const char *reason)
{
	s->allow_notify = false;
	s->pending &= ~(unsigned)PENDING_NOTIFY;
	/* Every folder is visited again (no STATUS pass needed for that). */
	s->pending |= PENDING_RESYNC;
	for (guint i = 0; i < s->guests->len; i++) {
		guest_at(s, i)->due = true;
	}
	set_mode(s, IMAP_SESSION_GUESTS_POLL, reason);
}

/* --- the guests ------------------------------------------------------------ */

void imap_session_set_guests(struct imap_session *s, struct mailbox *const *guests, size_t n)
{
	g_autoptr(GArray) next = g_array_new(FALSE, TRUE, sizeof(struct imap_session_guest));

	for (size_t i = 0; i < n; i++) {
		struct imap_session_guest *old = NULL;

		for (guint k = 0; k < s->guests->len; k++) {
			if (guest_at(s, k)->mailbox == guests[i]) {
				old = guest_at(s, k);
			}
		}
		if (guests[i] == s->home) {
			continue;
		}
		struct imap_session_guest g = {.mailbox = guests[i], .due = true};
		if (old != NULL) {
			g = *old;
		}
		g_array_append_val(next, g);
	}
	/* A guest no longer named that is being visited is left when its
	 * visit is over (imap_session_guests_step() then goes home); its model
	 * must stay alive until then. */
	bool changed = next->len != s->guests->len;
	for (guint i = 0; !changed && i < next->len; i++) {
		changed = g_array_index(next, struct imap_session_guest, i).mailbox !=
		          guest_at(s, i)->mailbox;
	}
	g_array_unref(s->guests);
	s->guests = g_steal_pointer(&next);
	if (changed && s->guest_mode == IMAP_SESSION_GUESTS_NOTIFY) {
		s->pending |= PENDING_NOTIFY;
	}
	if (s->guests->len > 0 && s->state == S_IDLING) {
		imap_session_send_done(s);
	} else if (s->state == S_POLL_WAIT) {
		imap_session_step_next(s);
	}
}

void imap_session_poll(struct imap_session *s)
{
	if (s->guests->len > 0) {
		s->pending |= PENDING_POLL;
	}
	if (s->list_reported) {
		s->pending |= PENDING_LIST;
	}
	if (s->state == S_IDLING && (s->pending & PENDING_WAKES_IDLE)) {
		imap_session_send_done(s);
	} else if (s->state == S_POLL_WAIT) {
		imap_session_step_next(s);
	}
}

bool imap_session_guests_wake(const struct imap_session *s)
{
	for (guint i = 0; i < s->guests->len; i++) {
		if (g_array_index(s->guests, struct imap_session_guest, i).due) {
			return true;
		}
	}
	return false;
}

void imap_session_guests_free(struct imap_session *s)
{
	g_array_unref(s->guests);
	imap_session_list_free(s);
}

/* --- STATUS ----------------------------------------------------------------- */

/* What the model knows now, as a STATUS would say it. */
static struct imap_session_status status_of(const struct mailbox *mb)
{
	struct imap_session_status st = {
	    .present = STATUS_MESSAGES | STATUS_UNSEEN | STATUS_UIDVALIDITY,
	    .messages = mailbox_get_exists(mb),
	    .unseen = mailbox_get_unseen(mb),
	    .uidvalidity = mailbox_get_uidvalidity(mb),
	    .uidnext = mailbox_get_uidnext(mb),
	    .highestmodseq = mailbox_get_modseq(mb),
	};
	if (st.uidnext > 0) {
		st.present |= STATUS_UIDNEXT;
	}
	if (st.highestmodseq > 0) {
		st.present |= STATUS_HIGHESTMODSEQ;
	}
	return st;
}

/* True if status names an item that differs from (or is missing in)
 * known. */
static bool status_differs(const struct imap_session_status *known,
                           const struct imap_session_status *status)
{
	unsigned both = known->present & status->present;

	if ((status->present & ~known->present) != 0) {
		return true;
	}
	return ((both & STATUS_MESSAGES) && known->messages != status->messages) ||
	       ((both & STATUS_UIDNEXT) && known->uidnext != status->uidnext) ||
	       ((both & STATUS_UNSEEN) && known->unseen != status->unseen) ||
	       ((both & STATUS_UIDVALIDITY) && known->uidvalidity != status->uidvalidity) ||
	       ((both & STATUS_HIGHESTMODSEQ) && known->highestmodseq != status->highestmodseq);
}

/* "* STATUS name (MESSAGES 3 UIDNEXT 9 ...)" */
static bool status_parse(const struct imap_response *r, char **name, struct imap_session_status *st)
{
	if (r->n_args != 2 || r->args[1].type != IMAP_ARG_LIST) {
		return false;
	}
	const char *raw = imap_arg_as_string(&r->args[0]);
	if (raw == NULL || strlen(raw) != r->args[0].len) {
		return false;
	}
	*name = utf7_imap_decode(raw);
	if (*name == NULL) {
		return false;
	}
	*st = (struct imap_session_status){0};
	const struct imap_arg *items = r->args[1].children;
	for (size_t i = 0; i + 1 < r->args[1].n_children; i += 2) {
		uint64_t v;

		if (!imap_arg_get_u64(&items[i + 1], &v)) {
			continue;
		}
		if (imap_arg_is_atom(&items[i], "MESSAGES") && v <= UINT32_MAX) {
			st->present |= STATUS_MESSAGES;
			st->messages = (uint32_t)v;
		} else if (imap_arg_is_atom(&items[i], "UIDNEXT") && v <= UINT32_MAX) {
			st->present |= STATUS_UIDNEXT;
			st->uidnext = (uint32_t)v;
		} else if (imap_arg_is_atom(&items[i], "UNSEEN") && v <= UINT32_MAX) {
			st->present |= STATUS_UNSEEN;
			st->unseen = (uint32_t)v;
		} else if (imap_arg_is_atom(&items[i], "UIDVALIDITY") && v <= UINT32_MAX) {
			st->present |= STATUS_UIDVALIDITY;
			st->uidvalidity = (uint32_t)v;
		} else if (imap_arg_is_atom(&items[i], "HIGHESTMODSEQ")) {
			st->present |= STATUS_HIGHESTMODSEQ;
			st->highestmodseq = v;
		}
	}
	return true;
}

static void handle_status(struct imap_session *s, const struct imap_response *r)
{
	g_autofree char *name = NULL;
	struct imap_session_status status;

	if (!status_parse(r, &name, &status)) {
		g_debug("ignoring malformed STATUS for account '%s'", s->account->name);
		return;
	}
	struct imap_session_guest *g = imap_session_guest_find(s, name);
	if (g != NULL && s->state == S_NOTIFY) {
		g->covered = true; /* the baseline NOTIFY SET STATUS asks for */
	}
	if (g == NULL || g->mailbox == s->mailbox || g->due ||
	    !status_differs(&g->known, &status)) {
		/* The home folder comes home to a selection anyway; one being
		 * visited reports itself. */
		return;
	}
	g->due = true;
	if (s->state != S_STATUS) {
		g->misses = 0; /* pushed: NOTIFY works for this folder */
		return;
	}
	if (s->guest_mode != IMAP_SESSION_GUESTS_NOTIFY) {
		return;
	}
	/* F5: a server may offer NOTIFY and still not report some folder. */
	if (++g->misses >= MAX_NOTIFY_MISSES) {
		g_autofree char *reason = g_strdup_printf(
		    "the server's NOTIFY did not report changes of folder '%s'", name);
		fall_back(s, reason);
		return;
	}
	g_debug("a STATUS pass found a change of folder '%s' of account '%s' that NOTIFY did not "
	        "report",
	        name, s->account->name);
}

/* One STATUS a guest, pipelined: a single round trip (M7: never the
 * selected folder); or one LIST-STATUS command (RFC 5819) when offered and
 * every name is free of wildcards. */
static void step_status_pass(struct imap_session *s)
{
	const char *modseq = s->enabled_condstore ? " HIGHESTMODSEQ" : "";
	bool list_status = imap_client_has_cap(s->client, IMAP_CAP_LIST_STATUS);
	g_autoptr(GString) list = g_string_new("LIST \"\" (");
	guint n = 0;

	s->pending &= ~(unsigned)PENDING_POLL;
	for (guint i = 0; i < s->guests->len; i++) {
		const char *folder = mailbox_get_folder(guest_at(s, i)->mailbox);

		if (guest_at(s, i)->mailbox == s->mailbox) {
			continue;
		}
		list_status = list_status && strpbrk(folder, "*%") == NULL;
		if (n++ > 0) {
			g_string_append_c(list, ' ');
		}
		if (!imap_session_append_folder(list, folder)) {
			list_status = false;
		}
	}
	s->outstanding = 0;
	if (n == 0) {
		imap_session_step_next(s);
		return;
	}
	g_string_append_printf(list, ") RETURN (STATUS (" STATUS_ITEMS "%s))", modseq);
	if (list_status && list->len < LINE_MAX_OCTETS) {
		s->outstanding = 1;
		imap_session_send(s, S_STATUS, list->str);
		return;
	}
	for (guint i = 0; i < s->guests->len; i++) {
		g_autoptr(GString) command = g_string_new("STATUS ");

		if (guest_at(s, i)->mailbox == s->mailbox ||
		    !imap_session_append_folder(command,
		                                mailbox_get_folder(guest_at(s, i)->mailbox))) {
			continue;
		}
		g_string_append_printf(command, " (" STATUS_ITEMS "%s)", modseq);
		s->outstanding++;
		imap_session_send(s, S_STATUS, command->str);
	}
	if (s->outstanding == 0) {
		imap_session_step_next(s);
	}
}

/* --- NOTIFY ----------------------------------------------------------------- */

bool imap_session_has_pattern(const struct imap_session *s)
{
	for (size_t i = 0; s->list != NULL && s->list[i] != NULL; i++) {
		if (strpbrk(s->list[i], "*%") != NULL) {
			return true;
		}
	}
	return false;
}

/* F1–F4: the selected folder with the attributes of a header fetch, the
 * others (and the home folder, for while a guest is visited) by STATUS,
 * and new or removed folders when patterns are watched. With STATUS the
 * server first sends the status of every folder it will watch: one left out
 * is one it would never report (F5). */
static void step_notify(struct imap_session *s)
{
	g_autoptr(GString) command =
	    g_string_new("NOTIFY SET STATUS (selected (MessageNew " NOTIFY_FETCH_ITEMS
	                 " MessageExpunge FlagChange)) (mailboxes (");
	bool ok = imap_session_append_folder(command, mailbox_get_folder(s->home));

	s->pending &= ~(unsigned)PENDING_NOTIFY;
	for (guint i = 0; i < s->guests->len; i++) {
		guest_at(s, i)->covered = false;
	}
	for (guint i = 0; ok && i < s->guests->len; i++) {
		g_string_append_c(command, ' ');
		ok = imap_session_append_folder(command,
		                                mailbox_get_folder(guest_at(s, i)->mailbox));
	}
	g_string_append(command, ") " NOTIFY_EVENTS ")");
	if (imap_session_has_pattern(s)) {
		g_string_append(command, " (personal (MailboxName SubscriptionChange))");
	}
	if (!ok || command->len >= LINE_MAX_OCTETS) {
		fall_back(s, "too many folders for one NOTIFY command");
		imap_session_step_next(s);
		return;
	}
	imap_session_send(s, S_NOTIFY, command->str);
}

static void notify_reply(struct imap_session *s, const struct imap_response *r)
{
	if (r->status == IMAP_STATUS_OK) {
		for (guint i = 0; i < s->guests->len; i++) {
			if (!guest_at(s, i)->covered) {
				g_autofree char *reason = g_strdup_printf(
				    "the server's NOTIFY does not cover folder '%s'",
				    mailbox_get_folder(guest_at(s, i)->mailbox));
				fall_back(s, reason);
				return;
			}
		}
		set_mode(s, IMAP_SESSION_GUESTS_NOTIFY, NULL);
		return;
	}
	/* F3: [BADEVENT], [NOTIFICATIONOVERFLOW] or any other refusal. */
	g_autofree char *reason =
	    g_strdup_printf("the server refused NOTIFY%s%s: %s", r->code != NULL ? " " : "",
	                    r->code != NULL ? r->code : "", r->text);
	fall_back(s, reason);
}

/* --- replies, untagged data, steps ------------------------------------------ */

void imap_session_guests_reply(struct imap_session *s, const struct imap_response *r)
{
	switch (s->state) {
	case S_NOTIFY:
		notify_reply(s, r);
		break;
	case S_LIST:
		/* A LIST refused (a bad pattern) lists nothing; not knowing a
		 * special use is no reason to stop watching. */
		if (--s->outstanding > 0) {
			return;
		}
		imap_session_list_done(s);
		break;
	case S_STATUS:
		if (r->status != IMAP_STATUS_OK) {
			g_debug("STATUS refused for account '%s': %s", s->account->name, r->text);
		}
		if (--s->outstanding > 0) {
			return;
		}
		break;
	default:
		return;
	}
	if (s->state != S_DONE) {
		imap_session_step_next(s);
	}
}

bool imap_session_guests_untagged(struct imap_session *s, const struct imap_response *r)
{
	if (r->status == IMAP_STATUS_OK && r->code != NULL &&
	    strcmp(r->code, "NOTIFICATIONOVERFLOW") == 0) {
		/* F3: the server stopped sending notifications. */
		if (s->guest_mode == IMAP_SESSION_GUESTS_NOTIFY) {
			fall_back(s, "the server stopped NOTIFY (NOTIFICATIONOVERFLOW)");
		}
		return true;
	}
	if (r->status != IMAP_STATUS_NONE || r->keyword == NULL) {
		return false;
	}
	if (strcmp(r->keyword, "STATUS") == 0) {
		handle_status(s, r);
	} else if (strcmp(r->keyword, "NAMESPACE") == 0) {
		imap_session_list_namespace(s, r);
	} else if (strcmp(r->keyword, "LIST") == 0) {
		/* LIST-STATUS answers a STATUS pass with LIST lines too. */
		if (s->state != S_STATUS) {
			imap_session_list_untagged(s, r);
		}
	} else {
		return false;
	}
	/* A guest now due ends an IDLE at the end of the batch (more may come
	 * with it). */
	return true;
}

void imap_session_guest_refused(struct imap_session *s, const struct imap_response *r)
{
	struct imap_session_guest *g = imap_session_visiting(s);
	struct mailbox *mb = g->mailbox;
	g_autofree char *message =
	    g_strdup_printf("cannot open folder '%s': %s", mailbox_get_folder(mb),
	                    r->code != NULL && strcmp(r->code, "NONEXISTENT") == 0
	                        ? "it does not exist on the server"
	                        : r->text);

	mailbox_abort(mb);
	g_array_remove_index(s->guests, (guint)(g - guest_at(s, 0)));
	/* A refused EXAMINE leaves no folder selected: home again. */
	s->mailbox = s->home;
	if (s->guest_mode == IMAP_SESSION_GUESTS_NOTIFY) {
		s->pending |= PENDING_NOTIFY;
	}
	if (s->ops->guest_failed != NULL) {
		s->ops->guest_failed(mb, message, s->user_data);
	}
	if (s->state != S_DONE) {
		imap_session_examine(s);
	}
}

/* The guests' mode, once there are guests and the capabilities are known. */
static void choose_mode(struct imap_session *s)
{
	if (s->guest_mode != IMAP_SESSION_GUESTS_NONE || s->guests->len == 0) {
		return;
	}
	if (s->allow_notify && imap_client_has_cap(s->client, IMAP_CAP_NOTIFY)) {
		s->pending |= PENDING_NOTIFY;
		return;
	}
	set_mode(s, IMAP_SESSION_GUESTS_POLL,
	         s->allow_notify ? "the server does not offer NOTIFY" : NULL);
}

bool imap_session_guests_step(struct imap_session *s)
{
	if (s->pending & PENDING_LIST) {
		imap_session_list_step(s);
		return true;
	}
	if (s->home == NULL) {
		imap_session_fail(s, IMAP_FAILURE_PERMANENT,
		                  "no folder to watch: none of the configured folders was found");
		return true;
	}
	choose_mode(s);
	if (s->pending & PENDING_NOTIFY) {
		step_notify(s);
		return true;
	}
	if (s->mailbox == NULL) {
		s->mailbox = s->home;
		imap_session_examine(s);
		return true;
	}
	struct imap_session_guest *visiting = imap_session_visiting(s);
	if (visiting != NULL) {
		/* The visit is over: what it found is the new baseline. */
		visiting->known = status_of(visiting->mailbox);
		visiting->due = false;
		mailbox_flush_unseen(visiting->mailbox);
	}
	if (visiting == NULL && (s->pending & PENDING_POLL)) {
		step_status_pass(s);
		return true;
	}
	for (guint i = 0; i < s->guests->len; i++) {
		if (guest_at(s, i)->due) {
			s->mailbox = guest_at(s, i)->mailbox;
			imap_session_examine(s);
			return true;
		}
	}
	if (s->mailbox != s->home || !s->selected) {
		s->mailbox = s->home;
		imap_session_examine(s);
		return true;
	}
	return false;
}
