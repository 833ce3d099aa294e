/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/imap-probe.h"

#include "imapwatch/core/imap-command.h"
#include "imapwatch/core/imap-login.h"
#include "imapwatch/core/utf7.h"

#include <stdarg.h>
#include <string.h>

/* Server-controlled counts and lengths are bounded (style: every size has
 * a limit). */
#define MAILBOXES_MAX 10000
#define TEXT_MAX      200

enum state {
	S_LOGIN, /* greeting to authenticated: imap-login runs it */
	S_ID,
	S_LIST,
	S_EXAMINE,
	S_LOGOUT,
	S_DONE,
};

static const char *const state_names[] = {
    [S_LOGIN] = "login",     [S_ID] = "id",         [S_LIST] = "list",
    [S_EXAMINE] = "examine", [S_LOGOUT] = "logout", [S_DONE] = "done",
};

struct imap_probe {
	enum state state;
	const char *account; /* the account's name, borrowed */
	bool stop_after_greeting;
	const struct imap_probe_ops *ops;
	void *user_data;
	struct imap_client *client;
	struct imap_login *login;

	bool greeted;
	char *error;
	bool have_list;
	GPtrArray *mailboxes; /* char *, NULL-terminated */
	char separator;
	GPtrArray *folders; /* struct imap_probe_folder * */
	size_t current;     /* folder being examined */
};

static void set_state(struct imap_probe *p, enum state state)
{
	if (p->state != state) {
		g_debug("probe for account '%s': %s -> %s", p->account, state_names[p->state],
		        state_names[state]);
	}
	p->state = state;
}

/* Server text for the user: printable, one line, bounded. */
static char *printable(const char *text)
{
	GString *out = g_string_new(NULL);

	for (const char *c = text; *c != '\0' && out->len < TEXT_MAX; c++) {
		g_string_append_c(out, (*c >= 0x20 && *c < 0x7f) ? *c : '?');
	}
	return g_string_free(out, FALSE);
}

static void probe_finish(struct imap_probe *p)
{
	if (p->state == S_DONE) {
		return;
	}
	set_state(p, S_DONE);
	imap_client_stop(p->client);
	p->ops->finished(p->user_data);
}

G_GNUC_PRINTF(2, 3)
static void probe_fail(struct imap_probe *p, const char *fmt, ...)
{
	if (p->state == S_DONE) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	g_free(p->error);
	p->error = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	probe_finish(p);
}

static void handle_tagged(const struct imap_response *r, void *data);

static void send_command(struct imap_probe *p, enum state next, const char *command)
{
	set_state(p, next);
	imap_client_command(p->client, command, NULL, handle_tagged, p);
}

/* --- steps ----------------------------------------------------------------- */

static void step_logout(struct imap_probe *p)
{
	send_command(p, S_LOGOUT, "LOGOUT");
}

/* EXAMINE the next configured folder that LIST showed as selectable; the
 * others are reported from the list alone. */
static void step_examine(struct imap_probe *p)
{
	while (p->current < p->folders->len) {
		struct imap_probe_folder *f = p->folders->pdata[p->current];

		if (f->listed && !f->noselect) {
			g_autofree char *encoded = utf7_imap_encode(f->name);
			g_autoptr(GString) command = g_string_new("EXAMINE ");

			if (encoded != NULL && imap_command_append_astring(command, encoded)) {
				send_command(p, S_EXAMINE, command->str);
				return;
			}
			f->error = g_strdup("the name cannot be sent to the server");
		}
		p->current++;
	}
	step_logout(p);
}

static void step_list(struct imap_probe *p)
{
	send_command(p, S_LIST, "LIST \"\" \"*\"");
}

/* --- responses ----------------------------------------------------------- */

static struct imap_probe_folder *find_folder(struct imap_probe *p, const char *name)
{
	for (guint i = 0; i < p->folders->len; i++) {
		struct imap_probe_folder *f = p->folders->pdata[i];

		/* RFC 3501 §5.1: INBOX in any case is the inbox. */
		if (strcmp(f->name, name) == 0 || (g_ascii_strcasecmp(f->name, "INBOX") == 0 &&
		                                   g_ascii_strcasecmp(name, "INBOX") == 0)) {
			return f;
		}
	}
	return NULL;
}

/* "* LIST (\HasNoChildren) "/" "INBOX"" */
static void handle_list(struct imap_probe *p, const struct imap_response *r)
{
	static const char *const skipped_uses[] = {"\\Junk", "\\Trash", "\\Sent", "\\Drafts",
	                                           "\\All"};
	bool noselect = false;
	bool skipped = false;

	if (r->n_args < 3 || r->args[0].type != IMAP_ARG_LIST) {
		return;
	}
	const char *raw = imap_arg_as_string(&r->args[2]);
	if (raw == NULL || strlen(raw) != r->args[2].len) {
		return; /* NUL inside a name: not a mailbox we could name */
	}
	for (size_t i = 0; i < r->args[0].n_children; i++) {
		const struct imap_arg *flag = &r->args[0].children[i];

		if (imap_arg_is_atom(flag, "\\NonExistent")) {
			return;
		}
		if (imap_arg_is_atom(flag, "\\Noselect")) {
			noselect = true;
		}
		for (size_t k = 0; k < G_N_ELEMENTS(skipped_uses); k++) {
			skipped = skipped || imap_arg_is_atom(flag, skipped_uses[k]);
		}
	}
	const char *separator = imap_arg_as_string(&r->args[1]);
	if (separator != NULL && separator[0] != '\0' && p->separator == '\0') {
		p->separator = separator[0];
	}
	/* The caller makes names safe to show; they must stay comparable
	 * with the configured ones here. */
	char *decoded = utf7_imap_decode(raw);
	g_autofree char *name = decoded != NULL ? decoded : printable(raw);
	struct imap_probe_folder *f = find_folder(p, name);
	if (f != NULL) {
		f->listed = true;
		f->noselect = noselect;
	}
	for (guint i = 0; i < p->folders->len && !noselect && !skipped; i++) {
		struct imap_probe_folder *pattern = p->folders->pdata[i];

		if (config_folder_is_pattern(pattern->name) &&
		    config_folder_matches(pattern->name, name)) {
			pattern->matched++;
		}
	}
	if (p->mailboxes->len - 1 < MAILBOXES_MAX) {
		p->mailboxes->pdata[p->mailboxes->len - 1] = g_steal_pointer(&name);
		g_ptr_array_add(p->mailboxes, NULL);
	}
}

static void handle_untagged(const struct imap_response *r, void *data)
{
	struct imap_probe *p = data;
	uint32_t value;

	if (p->state == S_LIST && r->keyword != NULL && strcmp(r->keyword, "LIST") == 0) {
		handle_list(p, r);
		return;
	}
	if (p->state != S_EXAMINE) {
		return;
	}
	struct imap_probe_folder *f = p->folders->pdata[p->current];
	if (r->has_number && r->keyword != NULL && strcmp(r->keyword, "EXISTS") == 0) {
		f->exists = r->number;
	} else if (r->status == IMAP_STATUS_OK && r->code != NULL &&
	           strcmp(r->code, "UIDVALIDITY") == 0 && r->n_code_args == 1 &&
	           imap_arg_get_u32(&r->code_args[0], &value)) {
		f->uidvalidity = value;
	}
}

static void handle_tagged(const struct imap_response *r, void *data)
{
	struct imap_probe *p = data;
	bool ok = r->status == IMAP_STATUS_OK;

	switch (p->state) {
	case S_ID:
		/* A refused ID changes nothing for the checks. */
		step_list(p);
		return;
	case S_LIST:
		if (!ok) {
			g_autofree char *text = printable(r->text);
			probe_fail(p, "the server refused to list the folders: %s", text);
			return;
		}
		p->have_list = true;
		step_examine(p);
		return;
	case S_EXAMINE: {
		struct imap_probe_folder *f = p->folders->pdata[p->current];

		if (ok) {
			f->examined = true;
		} else {
			f->error = printable(r->text[0] != '\0' ? r->text : "no reason given");
		}
		p->current++;
		step_examine(p);
		return;
	}
	case S_LOGOUT:
		probe_finish(p);
		return;
	default:
		return;
	}
}

static void client_failed(enum imap_failure failure, const char *message, void *data)
{
	struct imap_probe *p = data;

	(void)failure;
	if (p->state == S_LOGOUT) {
		/* Everything was answered; the goodbye does not matter. */
		probe_finish(p);
		return;
	}
	probe_fail(p, "%s", message);
}

static const struct imap_client_handler probe_handler = {
    .untagged = handle_untagged, .failed = client_failed, /* P1: nothing of ours waits for "+" */
};

/* --- imap-login callbacks ------------------------------------------------ */

static void login_greeted(void *owner)
{
	struct imap_probe *p = owner;

	p->greeted = true;
	if (p->stop_after_greeting) {
		probe_finish(p);
	}
}

static void login_authenticated(void *owner)
{
	struct imap_probe *p = owner;

	imap_client_set_handler(p->client, &probe_handler, p);
	if (imap_client_has_cap(p->client, IMAP_CAP_ID)) {
		/* A8: some servers want ID before anything else. */
		send_command(p, S_ID, IMAP_CLIENT_ID_COMMAND);
		return;
	}
	step_list(p);
}

static const struct imap_login_ops login_ops = {
    .greeted = login_greeted,
    .authenticated = login_authenticated,
    .failed = client_failed,
};

/* --- public entry points ------------------------------------------------- */

static void folder_free(struct imap_probe_folder *f)
{
	g_free(f->name);
	g_free(f->error);
	g_free(f);
}

struct imap_probe *imap_probe_create(struct imap_client *client,
                                     const struct imap_probe_config *config,
                                     const struct imap_probe_ops *ops, void *user_data)
{
	struct imap_probe *p = g_new0(struct imap_probe, 1);

	p->account = config->account->name;
	p->stop_after_greeting = config->stop_after_greeting;
	p->ops = ops;
	p->user_data = user_data;
	p->mailboxes = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(p->mailboxes, NULL);
	p->folders = g_ptr_array_new_with_free_func((GDestroyNotify)folder_free);
	for (size_t i = 0; config->folders != NULL && config->folders[i] != NULL; i++) {
		struct imap_probe_folder *f = g_new0(struct imap_probe_folder, 1);

		f->name = g_strdup(config->folders[i]);
		g_ptr_array_add(p->folders, f);
	}
	p->client = client;
	p->login = imap_login_create(client, config->account, config->password, &login_ops, p);
	p->state = S_LOGIN;
	return p;
}

void imap_probe_destroy(struct imap_probe *p)
{
	if (p == NULL) {
		return;
	}
	imap_login_destroy(p->login);
	g_ptr_array_unref(p->mailboxes);
	g_ptr_array_unref(p->folders);
	g_free(p->error);
	g_free(p);
}

bool imap_probe_credentials_rejected(const struct imap_probe *p)
{
	return imap_login_credentials_rejected(p->login);
}

bool imap_probe_was_greeted(const struct imap_probe *p)
{
	return p->greeted;
}

bool imap_probe_is_authenticated(const struct imap_probe *p)
{
	return imap_login_is_authenticated(p->login);
}

const char *imap_probe_get_error(const struct imap_probe *p)
{
	return p->error;
}

bool imap_probe_has_list(const struct imap_probe *p)
{
	return p->have_list;
}

const char *const *imap_probe_get_mailboxes(const struct imap_probe *p, size_t *n_out)
{
	if (n_out != NULL) {
		*n_out = p->mailboxes->len - 1;
	}
	return (const char *const *)p->mailboxes->pdata;
}

char imap_probe_get_separator(const struct imap_probe *p)
{
	return p->separator;
}

size_t imap_probe_get_n_folders(const struct imap_probe *p)
{
	return p->folders->len;
}

const struct imap_probe_folder *imap_probe_get_folder(const struct imap_probe *p, size_t i)
{
	g_return_val_if_fail(i < p->folders->len, NULL);
	return p->folders->pdata[i];
}
