/* SPDX-License-Identifier: MIT */
/*
 * The text of the notifier model's popups: clipping, locations, and the
 * show, notice and close operations with their summary and body.
 */
#include "core/notifier-model-private.h"

#include "imapwatch/core/header.h"

#include <string.h>

/* --- text ---------------------------------------------------------------- */

char *notifier_model_clip(const char *s, guint max_chars)
{
	g_autofree char *clean = header_sanitize(s ? s : "");
	glong len = g_utf8_strlen(clean, -1);
	const char *cut;
	GString *out;

	if (len <= (glong)max_chars || max_chars == 0) {
		return g_steal_pointer(&clean);
	}
	/* Cut at a character boundary; trailing spaces before the ellipsis
	 * would look like a mistake. */
	cut = g_utf8_offset_to_pointer(clean, (glong)max_chars - 1);
	out = g_string_new_len(clean, cut - clean);
	while (out->len > 0 && out->str[out->len - 1] == ' ') {
		g_string_truncate(out, out->len - 1);
	}
	g_string_append(out, "…");
	return g_string_free(out, FALSE);
}

char *notifier_model_error_text(const char *detail, guint max_chars)
{
	g_autofree char *quiet = header_sanitize_reply(detail);
	GString *out = g_string_new(quiet);
	size_t word = 0;

	while (out->len > 0 && strchr(",;: \t", out->str[out->len - 1]) != NULL) {
		g_string_truncate(out, out->len - 1);
	}
	/* "cannot open folder" reads as a sentence; "password_command
	 * failed" or "imap.example.com refused" keep a name as written. */
	while (g_ascii_islower(out->str[word])) {
		word++;
	}
	if (word > 0 && !g_ascii_isalnum(out->str[word]) && strchr("_-", out->str[word]) == NULL &&
	    !(out->str[word] == '.' && g_ascii_isalnum(out->str[word + 1]))) {
		out->str[0] = g_ascii_toupper(out->str[0]);
	}
	if (out->len > 0 && strchr(".!?", out->str[out->len - 1]) == NULL &&
	    !g_str_has_suffix(out->str, "…")) {
		g_string_append_c(out, '.');
	}
	g_autofree char *text = g_string_free(out, FALSE);
	return notifier_model_clip(text, max_chars);
}

char *notifier_model_location_of(const char *account, const char *folder)
{
	g_autofree char *a = notifier_model_clip(account, NOTIFIER_MODEL_NAME_CHARS);
	g_autofree char *f = notifier_model_clip(folder, NOTIFIER_MODEL_NAME_CHARS);

	return g_strdup_printf("%s/%s", a, f);
}

const char *notifier_model_messages_word(guint n)
{
	return n == 1 ? "message" : "messages";
}

static guint slot_count(const struct slot *s)
{
	return s->entries->len + s->uncounted;
}

/* The newest entries' subjects or senders, one per line, as much as each
 * message's content allows (none for count). */
static void append_newest(const struct slot *s, GString *body)
{
	guint lines = 0;

	for (guint i = s->entries->len; i > 0 && lines < NOTIFIER_MODEL_SUMMARY_LINES; i--) {
		const struct entry *e = s->entries->pdata[i - 1];
		const char *text = e->content == CONFIG_CONTENT_FULL ? e->subject : e->sender;

		if (e->content == CONFIG_CONTENT_COUNT) {
			continue;
		}
		if (body->len > 0) {
			g_string_append_c(body, '\n');
		}
		g_string_append(body, text);
		lines++;
	}
}

/* Per-folder counts of a catch-up summary (or, by_account, per-account
 * counts of a quiet time's), when it spans several. A linear search: a
 * summary spans a handful of folders. */
static void append_locations(const struct slot *s, bool by_account, GString *body)
{
	g_autoptr(GPtrArray) where = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) counts = g_array_new(FALSE, TRUE, sizeof(guint));

	for (guint i = 0; i < s->entries->len; i++) {
		const struct entry *e = s->entries->pdata[i];
		g_autofree char *loc =
		    by_account ? notifier_model_clip(e->message.account, NOTIFIER_MODEL_NAME_CHARS)
		               : notifier_model_location_of(e->message.account, e->message.folder);
		guint j = 0;

		while (j < where->len && strcmp(where->pdata[j], loc) != 0) {
			j++;
		}
		if (j == where->len) {
			g_ptr_array_add(where, g_steal_pointer(&loc));
			g_array_set_size(counts, where->len);
		}
		g_array_index(counts, guint, j)++;
	}
	if (where->len < 2) {
		return;
	}
	for (guint j = 0; j < where->len; j++) {
		g_string_append_printf(body, "%s%s: %u", body->len > 0 ? "\n" : "",
		                       (const char *)where->pdata[j],
		                       g_array_index(counts, guint, j));
	}
}

/* "account/folder" when every message of s is in that one folder, else
 * NULL. New string. */
static char *single_location(const struct slot *s)
{
	const struct entry *first;

	if (s->entries->len == 0) {
		return NULL;
	}
	first = s->entries->pdata[0];
	for (guint i = 1; i < s->entries->len; i++) {
		const struct entry *e = s->entries->pdata[i];

		if (strcmp(e->message.account, first->message.account) != 0 ||
		    strcmp(e->message.folder, first->message.folder) != 0) {
			return NULL;
		}
	}
	return notifier_model_location_of(first->message.account, first->message.folder);
}

/* The phrase of a quiet time's summary: why it was quiet. */
static const char *quiet_phrase(guint quiet)
{
	switch (quiet) {
	case NOTIFIER_QUIET_HOURS:
		return "during quiet hours";
	case NOTIFIER_QUIET_DND:
		return "while Do Not Disturb was on";
	default:
		return "while notifications were paused";
	}
}

static enum config_urgency slot_urgency(const struct slot *s)
{
	enum config_urgency urgency = CONFIG_URGENCY_LOW;

	for (guint i = 0; i < s->entries->len; i++) {
		const struct entry *e = s->entries->pdata[i];

		urgency = MAX(urgency, e->urgency);
	}
	return urgency;
}

const char *notifier_model_slot_sound(const struct slot *s)
{
	const struct entry *best = NULL;

	for (guint i = 0; i < s->entries->len; i++) {
		const struct entry *e = s->entries->pdata[i];

		if (e->sound != NULL && (best == NULL || e->urgency >= best->urgency)) {
			best = e;
		}
	}
	return best != NULL ? best->sound : NULL;
}

struct notifier_op *notifier_model_op_show(const struct notifier_model *m, const struct slot *s,
                                           const char *sound, bool only_if_shown)
{
	struct notifier_op *op = g_new0(struct notifier_op, 1);
	GString *body = g_string_new(NULL);
	guint n = slot_count(s);

	op->type = NOTIFIER_OP_SHOW;
	op->slot = s->id;
	op->category = CATEGORY_NEW_MAIL;
	op->count = n;
	op->urgency = s->entries->len > 0 ? slot_urgency(s) : CONFIG_URGENCY_NORMAL;
	op->sound = g_strdup(sound);
	op->only_if_shown = only_if_shown;
	op->icon = NOTIFIER_ICON_MAIL;
	if (s->kind == SLOT_SINGLE) {
		const struct entry *e = s->entries->pdata[0];

		switch (e->content) {
		case CONFIG_CONTENT_FULL:
			op->summary = g_strdup(e->sender);
			g_string_append(body, e->subject);
			break;
		case CONFIG_CONTENT_SENDER:
			op->summary = g_strdup(e->sender);
			g_string_append(body, "New message");
			break;
		case CONFIG_CONTENT_COUNT:
			op->summary = g_strdup("New message");
			break;
		}
		if (m->options.show_location) {
			g_string_append_printf(body, "%s%s", body->len > 0 ? "\n" : "",
			                       s->location);
		}
	} else if (s->kind == SLOT_FOLDER) {
		op->summary = g_strdup_printf("%u new %s in %s", n, notifier_model_messages_word(n),
		                              s->location);
		append_newest(s, body);
	} else if (s->kind == SLOT_CATCHUP) {
		op->summary = g_strdup_printf("%u new %s since imapwatch last ran", n,
		                              notifier_model_messages_word(n));
		append_locations(s, false, body);
		append_newest(s, body);
	} else if (s->kind == SLOT_WATCHED) {
		/* Not news from while imapwatch was away: a folder it did not
		 * watch until now (a reload added it), with what came
		 * meanwhile. Always where, whatever show_location says. */
		g_autofree char *where = single_location(s);

		if (where != NULL) {
			op->summary = g_strdup_printf("%u new %s in %s (newly watched)", n,
			                              notifier_model_messages_word(n), where);
		} else {
			op->summary = g_strdup_printf("%u new %s in newly watched folders", n,
			                              notifier_model_messages_word(n));
			append_locations(s, false, body);
		}
		append_newest(s, body);
	} else {
		op->summary = g_strdup_printf("%u new %s %s", n, notifier_model_messages_word(n),
		                              quiet_phrase(s->quiet));
		/* Per account; within one account, per folder. */
		append_locations(s, true, body);
		if (body->len == 0) {
			append_locations(s, false, body);
		}
		append_newest(s, body);
	}
	op->body = g_string_free(body, FALSE);
	return op;
}

/* A popup about no message in particular (no message actions, no sound,
 * the mail icon until the caller sets another); takes summary and body. */
struct notifier_op *notifier_model_op_notice(guint64 slot, const char *category, char *summary,
                                             char *body)
{
	struct notifier_op *op = g_new0(struct notifier_op, 1);

	op->type = NOTIFIER_OP_SHOW;
	op->slot = slot;
	op->urgency = CONFIG_URGENCY_NORMAL;
	op->category = category;
	op->icon = NOTIFIER_ICON_MAIL;
	op->summary = summary;
	op->body = body;
	return op;
}

struct notifier_op *notifier_model_op_close(guint64 slot)
{
	struct notifier_op *op = g_new0(struct notifier_op, 1);

	op->type = NOTIFIER_OP_CLOSE;
	op->slot = slot;
	return op;
}
