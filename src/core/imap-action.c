/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/imap-action.h"

#include "imapwatch/core/imap-command.h"
#include "imapwatch/core/imap-login.h"
#include "imapwatch/core/utf7.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* P5: "approximately 8192 octets" per command line (RFC 7162 §4); stay
 * below with room to spare. */
#define STORE_LINE_MAX 8000
#define STORE_PREFIX   "UID STORE "
/* W4: the only change imapwatch makes; .SILENT spares us a FETCH per
 * message. */
#define STORE_SUFFIX " +FLAGS.SILENT (\\Seen)"
/* Longest tag imap-client makes ("A" and ten digits), with room. */
#define TAG_MAX 16
#define STORE_SET_MAX                                                                              \
	(STORE_LINE_MAX - TAG_MAX - 1 - (sizeof(STORE_PREFIX) - 1) - (sizeof(STORE_SUFFIX) - 1) - 2)

#define NOTHING_CHANGED "nothing was changed"

enum state {
	S_LOGIN, /* greeting to authenticated: imap-login runs it */
	S_ID,
	S_SELECT,
	S_STORE,
	S_UNSELECT,
	S_LOGOUT,
	S_DONE,
};

static const char *const state_names[] = {
    [S_LOGIN] = "login",       [S_ID] = "id",         [S_SELECT] = "select", [S_STORE] = "store",
    [S_UNSELECT] = "unselect", [S_LOGOUT] = "logout", [S_DONE] = "done",
};

struct imap_action {
	enum state state;
	const char *account; /* the account's name, borrowed */
	char *folder;
	uint32_t uidvalidity;
	uint32_t *uids; /* sorted, no duplicates */
	size_t n_uids;
	size_t next;   /* first UID not yet stored */
	size_t end;    /* end of the chunk the outstanding STORE names */
	size_t stored; /* UIDs whose STORE succeeded */

	const struct imap_action_ops *ops;
	void *user_data;
	struct imap_client *client;
	struct imap_login *login;

	bool have_uidvalidity;
	uint32_t server_uidvalidity;
	bool seen_not_permanent; /* PERMANENTFLAGS came without \Seen */
};

static void set_state(struct imap_action *a, enum state state)
{
	if (a->state != state) {
		g_debug("mark-read for account '%s' folder '%s': %s -> %s", a->account, a->folder,
		        state_names[a->state], state_names[state]);
	}
	a->state = state;
}

G_GNUC_PRINTF(3, 4)
static void action_fail(struct imap_action *a, enum imap_failure failure, const char *fmt, ...)
{
	if (a->state == S_DONE) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *message = g_strdup_vprintf(fmt, ap);
	va_end(ap);

	if (a->stored > 0) {
		/* Say what did happen: part of the set is marked now. */
		g_autofree char *partial = message;
		message = g_strdup_printf("%s (%zu of %zu messages were marked as read)", partial,
		                          a->stored, a->n_uids);
	}
	set_state(a, S_DONE);
	imap_client_stop(a->client);
	a->ops->failed(failure, message, a->user_data);
}

static void action_finish(struct imap_action *a)
{
	if (a->state == S_DONE) {
		return;
	}
	set_state(a, S_DONE);
	imap_client_stop(a->client);
	a->ops->finished(a->user_data);
}

static void handle_tagged(const struct imap_response *r, void *data);

static void send_command(struct imap_action *a, enum state next, const char *command)
{
	set_state(a, next);
	imap_client_command(a->client, command, NULL, handle_tagged, a);
}

/* --- steps ----------------------------------------------------------------- */

static void step_select(struct imap_action *a)
{
	g_autofree char *encoded = utf7_imap_encode(a->folder);
	g_autoptr(GString) command = g_string_new("SELECT ");

	if (encoded == NULL || !imap_command_append_astring(command, encoded)) {
		action_fail(a, IMAP_FAILURE_PERMANENT,
		            "folder name '%s' cannot be sent to the server; " NOTHING_CHANGED,
		            a->folder);
		return;
	}
	a->have_uidvalidity = false;
	a->seen_not_permanent = false;
	/* W4: read-write, so that STORE is allowed; the watching
	 * connections only ever EXAMINE (M1). */
	send_command(a, S_SELECT, command->str);
}

static void step_id(struct imap_action *a)
{
	if (imap_client_has_cap(a->client, IMAP_CAP_ID)) {
		/* A8: some servers refuse SELECT without ID. */
		send_command(a, S_ID, IMAP_CLIENT_ID_COMMAND);
		return;
	}
	step_select(a);
}

static size_t decimal_len(uint32_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* The end of the chunk starting at a->next whose set fits STORE_SET_MAX:
 * whole runs of consecutive UIDs, as imap_command_append_uid_set() writes
 * them ("a:b" or "a", comma separated). */
static size_t chunk_end(const struct imap_action *a)
{
	size_t used = 0;
	size_t i = a->next;

	while (i < a->n_uids) {
		size_t k = i;

		while (k + 1 < a->n_uids && a->uids[k + 1] == a->uids[k] + 1) {
			k++;
		}
		size_t cost = (used > 0 ? 1 : 0) + decimal_len(a->uids[i]) +
		              (k > i ? 1 + decimal_len(a->uids[k]) : 0);
		if (used > 0 && used + cost > STORE_SET_MAX) {
			break;
		}
		used += cost;
		i = k + 1;
	}
	return i;
}

static void step_logout(struct imap_action *a)
{
	send_command(a, S_LOGOUT, "LOGOUT");
}

static void step_store(struct imap_action *a)
{
	if (a->next >= a->n_uids) {
		/* M6: UNSELECT closes without the expunge CLOSE would do;
		 * without it, LOGOUT does the same. */
		if (imap_client_has_cap(a->client, IMAP_CAP_UNSELECT)) {
			send_command(a, S_UNSELECT, "UNSELECT");
		} else {
			step_logout(a);
		}
		return;
	}
	g_autoptr(GString) command = g_string_new(STORE_PREFIX);

	a->end = chunk_end(a);
	imap_command_append_uid_set(command, &a->uids[a->next], a->end - a->next);
	g_string_append(command, STORE_SUFFIX);
	send_command(a, S_STORE, command->str);
}

/* The checks of W4/W5 before anything is changed. */
static void step_after_select(struct imap_action *a, const struct imap_response *r)
{
	if (!a->have_uidvalidity) {
		action_fail(a, IMAP_FAILURE_PERMANENT,
		            "server sent no UIDVALIDITY for folder '%s', so the messages cannot be "
		            "identified safely; " NOTHING_CHANGED,
		            a->folder);
		return;
	}
	if (a->server_uidvalidity != a->uidvalidity) {
		action_fail(
		    a, IMAP_FAILURE_PERMANENT,
		    "folder changed since the message was seen (UIDVALIDITY %" G_GUINT32_FORMAT
		    ", now %" G_GUINT32_FORMAT "); " NOTHING_CHANGED,
		    a->uidvalidity, a->server_uidvalidity);
		return;
	}
	if (r->code != NULL && strcmp(r->code, "READ-ONLY") == 0) {
		action_fail(a, IMAP_FAILURE_PERMANENT, "folder is read-only; " NOTHING_CHANGED);
		return;
	}
	if (a->seen_not_permanent) {
		action_fail(a, IMAP_FAILURE_PERMANENT,
		            "folder is read-only for the \\Seen flag (not in "
		            "PERMANENTFLAGS); " NOTHING_CHANGED);
		return;
	}
	step_store(a);
}

/* --- responses ----------------------------------------------------------- */

static void handle_permanentflags(struct imap_action *a, const struct imap_response *r)
{
	if (r->n_code_args != 1 || r->code_args[0].type != IMAP_ARG_LIST) {
		return; /* unreadable: the tagged [READ-ONLY] still decides */
	}
	const struct imap_arg *list = &r->code_args[0];

	a->seen_not_permanent = true;
	for (size_t i = 0; i < list->n_children; i++) {
		if (imap_arg_is_atom(&list->children[i], "\\Seen")) {
			a->seen_not_permanent = false;
		}
	}
}

static void handle_untagged(const struct imap_response *r, void *data)
{
	struct imap_action *a = data;
	uint32_t value;

	/* S5: selection data counts only once SELECT is under way. */
	if (r->status != IMAP_STATUS_OK || r->code == NULL || a->state < S_SELECT) {
		return;
	}
	if (strcmp(r->code, "UIDVALIDITY") == 0 && r->n_code_args == 1 &&
	    imap_arg_get_u32(&r->code_args[0], &value)) {
		if (a->state == S_SELECT) {
			a->have_uidvalidity = true;
			a->server_uidvalidity = value;
		} else if (a->state == S_STORE && value != a->server_uidvalidity) {
			/* M3: a mid-session change makes the remaining UIDs
			 * stale; stop before they touch other messages. */
			action_fail(a, IMAP_FAILURE_PERMANENT,
			            "UIDVALIDITY of folder '%s' changed during the session",
			            a->folder);
		}
	} else if (strcmp(r->code, "PERMANENTFLAGS") == 0 && a->state == S_SELECT) {
		handle_permanentflags(a, r);
	}
}

static void handle_tagged(const struct imap_response *r, void *data)
{
	struct imap_action *a = data;
	bool ok = r->status == IMAP_STATUS_OK;

	switch (a->state) {
	case S_ID:
		/* A8: whatever the answer, carry on. */
		step_select(a);
		return;
	case S_SELECT:
		if (!ok) {
			action_fail(a, imap_failure_for_reply(r->code, r->text),
			            "cannot open folder '%s': %s; " NOTHING_CHANGED, a->folder,
			            r->code != NULL && strcmp(r->code, "NONEXISTENT") == 0
			                ? "it does not exist on the server"
			                : r->text);
			return;
		}
		step_after_select(a, r);
		return;
	case S_STORE:
		if (!ok) {
			action_fail(a, imap_failure_for_reply(r->code, r->text),
			            "server refused to mark messages as read in folder '%s': %s",
			            a->folder, r->text[0] != '\0' ? r->text : "no reason given");
			return;
		}
		a->stored += a->end - a->next;
		a->next = a->end;
		step_store(a);
		return;
	case S_UNSELECT:
		if (!ok) {
			/* The flags are set; LOGOUT leaves without an expunge
			 * all the same. */
			g_debug("UNSELECT failed for account '%s': %s", a->account, r->text);
		}
		step_logout(a);
		return;
	case S_LOGOUT:
		action_finish(a);
		return;
	default:
		return;
	}
}

/* The connection failed (not a refusal by the server): say what that means
 * for the folder. */
static void connection_lost(struct imap_action *a, enum imap_failure failure, const char *reason)
{
	switch (a->state) {
	case S_DONE:
		return;
	case S_UNSELECT:
	case S_LOGOUT:
		/* Every STORE succeeded: the job is done. */
		action_finish(a);
		return;
	case S_STORE:
		/* The reply to the STORE in flight was lost: the server may
		 * or may not have applied it. */
		action_fail(a, failure, "%s; some messages may have been marked as read", reason);
		return;
	default:
		action_fail(a, failure, "%s; " NOTHING_CHANGED, reason);
		return;
	}
}

static void client_failed(enum imap_failure failure, const char *message, void *data)
{
	connection_lost(data, failure, message);
}

static const struct imap_client_handler action_handler = {
    .untagged = handle_untagged, .failed = client_failed, /* P1: nothing of ours waits for "+" */
};

/* --- imap-login callbacks ------------------------------------------------ */

static void login_authenticated(void *owner)
{
	struct imap_action *a = owner;

	imap_client_set_handler(a->client, &action_handler, a);
	step_id(a);
}

static const struct imap_login_ops login_ops = {
    .authenticated = login_authenticated,
    .failed = client_failed,
};

/* --- public entry points ------------------------------------------------- */

static int uid_compare(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x;
	uint32_t b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

struct imap_action *imap_action_create(struct imap_client *client,
                                       const struct imap_action_config *config,
                                       const struct imap_action_ops *ops, void *user_data)
{
	struct imap_action *a = g_new0(struct imap_action, 1);

	a->account = config->account->name;
	a->folder = g_strdup(config->folder);
	a->uidvalidity = config->uidvalidity;
	a->uids = g_new(uint32_t, MAX(config->n_uids, 1));
	if (config->n_uids > 0) {
		memcpy(a->uids, config->uids, config->n_uids * sizeof(*a->uids));
		qsort(a->uids, config->n_uids, sizeof(*a->uids), uid_compare);
	}
	for (size_t i = 0; i < config->n_uids; i++) {
		if (a->n_uids == 0 || a->uids[i] != a->uids[a->n_uids - 1]) {
			a->uids[a->n_uids++] = a->uids[i];
		}
	}
	a->ops = ops;
	a->user_data = user_data;
	a->client = client;
	a->login = imap_login_create(client, config->account, config->password, &login_ops, a);
	a->state = S_LOGIN;
	return a;
}

void imap_action_destroy(struct imap_action *a)
{
	if (a == NULL) {
		return;
	}
	imap_login_destroy(a->login);
	g_free(a->uids);
	g_free(a->folder);
	g_free(a);
}

bool imap_action_is_running(const struct imap_action *a)
{
	return a->state != S_DONE;
}
