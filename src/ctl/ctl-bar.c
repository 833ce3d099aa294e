/* SPDX-License-Identifier: MIT */
#include "imapwatch/ctl/ctl-bar.h"

#include "imapwatch/core/event.h"
#include "imapwatch/core/mailbox.h"
#include "imapwatch/core/supervisor.h"

#include <string.h>

static void folder_free(gpointer p)
{
	struct ctl_bar_folder *f = p;

	g_free(f->name);
	g_free(f);
}

static void account_free(gpointer p)
{
	struct ctl_bar_account *a = p;

	g_free(a->name);
	g_free(a->state);
	g_free(a->detail);
	g_ptr_array_unref(a->folders);
	g_free(a);
}

struct ctl_bar_status *ctl_bar_status_new_offline(void)
{
	struct ctl_bar_status *s = g_new0(struct ctl_bar_status, 1);

	s->accounts = g_ptr_array_new_with_free_func(account_free);
	return s;
}

static char *lookup_string(GVariant *dict, const char *key)
{
	const char *value = NULL;

	return g_strdup(g_variant_lookup(dict, key, "&s", &value) ? value : "");
}

static struct ctl_bar_account *account_new(GVariant *dict)
{
	struct ctl_bar_account *a = g_new0(struct ctl_bar_account, 1);
	g_autoptr(GVariant) folders =
	    g_variant_lookup_value(dict, "folders", G_VARIANT_TYPE("aa{sv}"));

	a->name = lookup_string(dict, "name");
	a->state = lookup_string(dict, "state");
	a->detail = lookup_string(dict, "detail");
	a->folders = g_ptr_array_new_with_free_func(folder_free);
	for (gsize i = 0; folders != NULL && i < g_variant_n_children(folders); i++) {
		g_autoptr(GVariant) folder = g_variant_get_child_value(folders, i);
		struct ctl_bar_folder *f = g_new0(struct ctl_bar_folder, 1);

		f->name = lookup_string(folder, "name");
		(void)g_variant_lookup(folder, "unseen", "u", &f->unseen);
		a->unseen += f->unseen;
		g_ptr_array_add(a->folders, f);
	}
	return a;
}

struct ctl_bar_status *ctl_bar_status_new(GVariant *status)
{
	struct ctl_bar_status *s = ctl_bar_status_new_offline();
	g_autoptr(GVariant) accounts =
	    g_variant_lookup_value(status, "accounts", G_VARIANT_TYPE("aa{sv}"));

	s->running = true;
	(void)g_variant_lookup(status, "total_unseen", "u", &s->unseen);
	for (gsize i = 0; accounts != NULL && i < g_variant_n_children(accounts); i++) {
		g_autoptr(GVariant) account = g_variant_get_child_value(accounts, i);

		g_ptr_array_add(s->accounts, account_new(account));
	}
	return s;
}

void ctl_bar_status_free(struct ctl_bar_status *status)
{
	if (status == NULL) {
		return;
	}
	g_ptr_array_unref(status->accounts);
	g_free(status);
}

const struct ctl_bar_account *ctl_bar_status_account(const struct ctl_bar_status *status,
                                                     const char *name)
{
	for (guint i = 0; i < status->accounts->len; i++) {
		const struct ctl_bar_account *a = g_ptr_array_index(status->accounts, i);

		if (strcmp(a->name, name) == 0) {
			return a;
		}
	}
	return NULL;
}

const struct ctl_bar_folder *ctl_bar_account_folder(const struct ctl_bar_account *account,
                                                    const char *name)
{
	for (guint i = 0; i < account->folders->len; i++) {
		const struct ctl_bar_folder *f = g_ptr_array_index(account->folders, i);

		if (mailbox_same_folder(f->name, name)) {
			return f;
		}
	}
	return NULL;
}

/* A state name of the contract back to the enum; unknown names count as
 * disconnected: not watching, not an error. */
static enum watch_state state_from_name(const char *name)
{
	for (int s = WATCH_STATE_DISCONNECTED; s <= WATCH_STATE_DISABLED; s++) {
		if (strcmp(watch_state_name((enum watch_state)s), name) == 0) {
			return (enum watch_state)s;
		}
	}
	return WATCH_STATE_DISCONNECTED;
}

const char *ctl_bar_state(const struct ctl_bar_status *status)
{
	guint n = status->accounts->len;

	if (!status->running) {
		return CTL_BAR_OFFLINE;
	}
	if (n == 0) {
		return watch_state_name(WATCH_STATE_DISABLED);
	}
	g_autofree enum watch_state *states = g_new(enum watch_state, n);
	for (guint i = 0; i < n; i++) {
		const struct ctl_bar_account *a = g_ptr_array_index(status->accounts, i);

		states[i] = state_from_name(a->state);
	}
	/* The deciding account's own word: a state this imapwatch does not
	 * know (a newer daemon) is ranked as disconnected but shown as is. */
	const struct ctl_bar_account *worst =
	    g_ptr_array_index(status->accounts, supervisor_pick_state(states, n));
	return worst->state;
}

const char *ctl_bar_alt(const struct ctl_bar_status *status)
{
	if (!status->running) {
		return CTL_BAR_OFFLINE;
	}
	if (strcmp(ctl_bar_state(status), "error") == 0) {
		return "error";
	}
	return status->unseen > 0 ? "unread" : "read";
}

char *ctl_bar_tooltip(const struct ctl_bar_status *status)
{
	GString *out = g_string_new(NULL);

	if (!status->running) {
		g_string_append(out, "imapwatchd is not running");
		return g_string_free(out, FALSE);
	}
	for (guint i = 0; i < status->accounts->len; i++) {
		const struct ctl_bar_account *a = g_ptr_array_index(status->accounts, i);

		if (out->len > 0) {
			g_string_append_c(out, '\n');
		}
		g_string_append_printf(out, "%s: %" G_GUINT32_FORMAT " unseen, %s%s%s", a->name,
		                       a->unseen, a->state, a->detail[0] != '\0' ? ": " : "",
		                       a->detail);
		for (guint j = 0; j < a->folders->len; j++) {
			const struct ctl_bar_folder *f = g_ptr_array_index(a->folders, j);

			g_string_append_printf(out, "\n  %s: %" G_GUINT32_FORMAT, f->name,
			                       f->unseen);
		}
	}
	return g_string_free(out, FALSE);
}

char *ctl_bar_waybar(const struct ctl_bar_status *status, const char *text)
{
	GString *out = g_string_new("{\"text\":");
	g_autofree char *tooltip = ctl_bar_tooltip(status);
	g_autofree char *markup = g_markup_escape_text(tooltip, -1);
	const char *alt = ctl_bar_alt(status);

	watch_event_append_json_string(out, text);
	g_string_append(out, ",\"alt\":");
	watch_event_append_json_string(out, alt);
	g_string_append(out, ",\"tooltip\":");
	watch_event_append_json_string(out, markup);
	g_string_append(out, ",\"class\":[");
	if (status->running) {
		watch_event_append_json_string(out, status->unseen > 0 ? "unread" : "read");
		g_string_append_c(out, ',');
		watch_event_append_json_string(out, ctl_bar_state(status));
	} else {
		watch_event_append_json_string(out, CTL_BAR_OFFLINE);
	}
	g_string_append(out, "]}");
	return g_string_free(out, FALSE);
}
