/* SPDX-License-Identifier: MIT */
#include "imapwatch/ctl/ctl-template.h"

#include <string.h>

#define FIELDS                                                                                     \
	"the fields are {unseen}, {state}, {accounts}, {unseen:ACCOUNT}, {state:ACCOUNT} and "     \
	"{unseen:ACCOUNT/FOLDER}; write {{ and }} for a brace"

enum part_kind {
	PART_TEXT,
	PART_UNSEEN,
	PART_STATE,
	PART_ACCOUNTS,
};

struct part {
	enum part_kind kind;
	char *text;    /* PART_TEXT: the text; a field: as written, "{unseen:work}" */
	char *account; /* NULL: every account */
	char *folder;  /* NULL: every folder of the account */
};

struct ctl_template {
	GArray *parts; /* struct part */
};

static void part_clear(gpointer p)
{
	struct part *part = p;

	g_free(part->text);
	g_free(part->account);
	g_free(part->folder);
}

void ctl_template_free(struct ctl_template *template)
{
	if (template == NULL) {
		return;
	}
	g_array_unref(template->parts);
	g_free(template);
}

static void add_text(struct ctl_template *t, GString *text)
{
	if (text->len == 0) {
		return;
	}
	struct part part = {.kind = PART_TEXT, .text = g_strndup(text->str, text->len)};
	g_array_append_val(t->parts, part);
	g_string_truncate(text, 0);
}

/* One field, the text between its braces; false with *error. */
static bool parse_field(struct ctl_template *t, const char *content, bool offline, char **error)
{
	const char *colon = strchr(content, ':');
	g_autofree char *name =
	    colon != NULL ? g_strndup(content, (gsize)(colon - content)) : g_strdup(content);
	const char *arg = colon != NULL ? colon + 1 : NULL;
	struct part part = {.text = g_strdup_printf("{%s}", content)};

	if (strcmp(name, "unseen") == 0) {
		part.kind = PART_UNSEEN;
	} else if (strcmp(name, "state") == 0) {
		part.kind = PART_STATE;
	} else if (strcmp(name, "accounts") == 0 && arg == NULL) {
		part.kind = PART_ACCOUNTS;
	} else {
		*error = g_strdup_printf("unknown field '%s'; " FIELDS, part.text);
		goto fail;
	}
	if (arg != NULL) {
		const char *slash = strchr(arg, '/');

		if (slash != NULL && part.kind == PART_STATE) {
			*error =
			    g_strdup_printf("unknown field '%s': a state is an account's, not a "
			                    "folder's; " FIELDS,
			                    part.text);
			goto fail;
		}
		part.account = slash != NULL ? g_strndup(arg, (gsize)(slash - arg)) : g_strdup(arg);
		part.folder = slash != NULL ? g_strdup(slash + 1) : NULL;
		if (part.account[0] == '\0' || (part.folder != NULL && part.folder[0] == '\0')) {
			*error = g_strdup_printf("the field '%s' names no %s; " FIELDS, part.text,
			                         part.account[0] == '\0' ? "account" : "folder");
			goto fail;
		}
	}
	if (offline && part.kind != PART_STATE) {
		*error = g_strdup_printf("'%s' is not known while imapwatchd is not running: this "
		                         "text knows only {state} and {state:ACCOUNT} (which read "
		                         "'" CTL_BAR_OFFLINE "')",
		                         part.text);
		goto fail;
	}
	g_array_append_val(t->parts, part);
	return true;
fail:
	part_clear(&part);
	return false;
}

struct ctl_template *ctl_template_parse(const char *text, bool offline, char **error)
{
	g_autoptr(ctl_template) t = g_new0(struct ctl_template, 1);
	g_autoptr(GString) literal = g_string_new(NULL);
	const char *p = text;

	t->parts = g_array_new(FALSE, TRUE, sizeof(struct part));
	g_array_set_clear_func(t->parts, part_clear);
	if (!g_utf8_validate(text, -1, NULL)) {
		*error = g_strdup("the text is not valid UTF-8");
		return NULL;
	}
	while (*p != '\0') {
		/* Places are counted in characters from 1, as people count. */
		long column = g_utf8_pointer_to_offset(text, p) + 1;

		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			g_string_append_c(literal, p[0]);
			p += 2;
		} else if (p[0] == '}') {
			*error = g_strdup_printf("the '}' at character %ld closes no field; write "
			                         "}} for a brace",
			                         column);
			return NULL;
		} else if (p[0] == '{') {
			const char *close = strchr(p + 1, '}');
			const char *open = strchr(p + 1, '{');

			if (close == NULL || (open != NULL && open < close)) {
				*error = g_strdup_printf(
				    "the '{' at character %ld opens a field that is "
				    "not closed; write {{ for a brace",
				    column);
				return NULL;
			}
			g_autofree char *content = g_strndup(p + 1, (gsize)(close - p - 1));
			add_text(t, literal);
			if (!parse_field(t, content, offline, error)) {
				return NULL;
			}
			p = close + 1;
		} else {
			g_string_append_c(literal, *p);
			p++;
		}
	}
	add_text(t, literal);
	return g_steal_pointer(&t);
}

static char *account_names(const struct ctl_bar_status *status)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < status->accounts->len; i++) {
		const struct ctl_bar_account *a = g_ptr_array_index(status->accounts, i);

		g_string_append_printf(out, "%s%s", i > 0 ? ", " : "", a->name);
	}
	return g_string_free(out, FALSE);
}

static char *folder_names(const struct ctl_bar_account *account)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < account->folders->len; i++) {
		const struct ctl_bar_folder *f = g_ptr_array_index(account->folders, i);

		g_string_append_printf(out, "%s%s", i > 0 ? ", " : "", f->name);
	}
	return g_string_free(out, FALSE);
}

bool ctl_template_check(const struct ctl_template *t, const struct ctl_bar_status *status,
                        char **error)
{
	for (guint i = 0; i < t->parts->len; i++) {
		const struct part *part = &g_array_index(t->parts, struct part, i);
		const struct ctl_bar_account *a;

		if (part->account == NULL) {
			continue;
		}
		a = ctl_bar_status_account(status, part->account);
		if (a == NULL) {
			g_autofree char *names = account_names(status);

			*error =
			    g_strdup_printf("the field '%s' names no account of imapwatchd's; its "
			                    "accounts are: %s",
			                    part->text, names);
			return false;
		}
		if (part->folder != NULL && ctl_bar_account_folder(a, part->folder) == NULL) {
			g_autofree char *names = folder_names(a);

			*error =
			    g_strdup_printf("the field '%s' names a folder that account '%s' does "
			                    "not watch; it watches: %s",
			                    part->text, a->name, names);
			return false;
		}
	}
	return true;
}

static void render_unseen(GString *out, const struct part *part,
                          const struct ctl_bar_status *status)
{
	const struct ctl_bar_account *a;
	const struct ctl_bar_folder *f;

	if (part->account == NULL) {
		g_string_append_printf(out, "%" G_GUINT32_FORMAT, status->unseen);
	} else if ((a = ctl_bar_status_account(status, part->account)) == NULL) {
		g_string_append_c(out, '?');
	} else if (part->folder == NULL) {
		g_string_append_printf(out, "%" G_GUINT32_FORMAT, a->unseen);
	} else if ((f = ctl_bar_account_folder(a, part->folder)) == NULL) {
		g_string_append_c(out, '?');
	} else {
		g_string_append_printf(out, "%" G_GUINT32_FORMAT, f->unseen);
	}
}

char *ctl_template_render(const struct ctl_template *t, const struct ctl_bar_status *status)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < t->parts->len; i++) {
		const struct part *part = &g_array_index(t->parts, struct part, i);
		const struct ctl_bar_account *a;

		switch (part->kind) {
		case PART_TEXT:
			g_string_append(out, part->text);
			break;
		case PART_UNSEEN:
			render_unseen(out, part, status);
			break;
		case PART_STATE:
			if (!status->running || part->account == NULL) {
				g_string_append(out, ctl_bar_state(status));
			} else if ((a = ctl_bar_status_account(status, part->account)) != NULL) {
				g_string_append(out, a->state);
			} else {
				g_string_append_c(out, '?');
			}
			break;
		case PART_ACCOUNTS:
			g_string_append_printf(out, "%u", status->accounts->len);
			break;
		}
	}
	return g_string_free(out, FALSE);
}
