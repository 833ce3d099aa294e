/* SPDX-License-Identifier: MIT */
/*
 * The LIST pass of a session: the configured names and patterns, one LIST
 * each, pipelined; what each folder is for (SPECIAL-USE, RFC 6154); and,
 * where patterns are used, the namespaces of other users and shared
 * folders (NAMESPACE, RFC 2342), so that the owner can tell a team's folder
 * from the user's own.
 */
#include "core/imap-session-private.h"

#include "imapwatch/core/utf7.h"

#include <string.h>

/* Namespaces of other users and shared folders kept at most (a server's
 * answer, so bounded). */
#define MAX_NAMESPACES 32

static const char *const special_uses[] = {"\\Junk", "\\Trash", "\\Sent", "\\Drafts", "\\All"};

static void listed_free(gpointer p)
{
	struct imap_session_listed *l = p;

	g_free((char *)l->name);
	g_free(l);
}

/* "* LIST (\HasNoChildren \Junk) "/" Junk" */
void imap_session_list_untagged(struct imap_session *s, const struct imap_response *r)
{
	if (r->n_args < 3 || r->args[0].type != IMAP_ARG_LIST) {
		return;
	}
	const char *raw = imap_arg_as_string(&r->args[2]);
	if (raw == NULL || strlen(raw) != r->args[2].len) {
		return; /* a NUL inside a name: not a folder we could name */
	}
	if (s->state != S_LIST) {
		/* MailboxName (NOTIFY): a folder came or went; the owner looks
		 * at the patterns again. */
		if (s->list_reported) {
			s->pending |= PENDING_LIST;
		}
		return;
	}
	if (s->listing->len >= IMAP_SESSION_MAX_LISTED) {
		return;
	}
	g_autofree char *name = utf7_imap_decode(raw);
	if (name == NULL) {
		return;
	}
	struct imap_session_listed *l = g_new0(struct imap_session_listed, 1);
	for (size_t i = 0; i < r->args[0].n_children; i++) {
		const struct imap_arg *flag = &r->args[0].children[i];

		if (imap_arg_is_atom(flag, "\\NonExistent")) {
			g_free(l);
			return;
		}
		if (imap_arg_is_atom(flag, "\\Noselect")) {
			l->noselect = true;
		}
		for (size_t j = 0; j < G_N_ELEMENTS(special_uses); j++) {
			if (imap_arg_is_atom(flag, special_uses[j])) {
				l->special_use = special_uses[j];
			}
		}
	}
	/* The same folder from two entries is listed once. */
	for (guint i = 0; i < s->listing->len; i++) {
		if (strcmp(((struct imap_session_listed *)s->listing->pdata[i])->name, name) == 0) {
			g_free(l);
			return;
		}
	}
	l->name = g_steal_pointer(&name);
	g_ptr_array_add(s->listing, l);
}

/* The entries given at creation, else the home folder alone (its special
 * use), one LIST each, pipelined; first, once per connection, NAMESPACE
 * when a pattern might reach into other namespaces. */
void imap_session_list_step(struct imap_session *s)
{
	const char *home[] = {s->home != NULL ? mailbox_get_folder(s->home) : NULL, NULL};
	const char *const *entries = s->list != NULL ? (const char *const *)s->list : home;

	s->pending &= ~(unsigned)PENDING_LIST;
	s->list_reported = s->list != NULL;
	if (s->listing != NULL) {
		g_ptr_array_unref(s->listing);
	}
	s->listing = g_ptr_array_new_with_free_func(listed_free);
	s->outstanding = 0;
	if (s->foreign == NULL && s->list_reported && imap_session_has_pattern(s) &&
	    imap_client_has_cap(s->client, IMAP_CAP_NAMESPACE)) {
		s->foreign = g_new0(char *, 1);
		s->outstanding++;
		imap_session_send(s, S_LIST, "NAMESPACE");
	}
	for (size_t i = 0; entries[i] != NULL; i++) {
		g_autoptr(GString) command = g_string_new("LIST \"\" ");

		if (!imap_session_append_folder(command, entries[i])) {
			continue;
		}
		s->outstanding++;
		imap_session_send(s, S_LIST, command->str);
	}
	if (s->outstanding == 0) {
		imap_session_step_next(s);
	}
}

/* The pass is complete: special uses to the models, the listing (each
 * folder with its namespace) to the owner. */
void imap_session_list_done(struct imap_session *s)
{
	g_autoptr(GPtrArray) listing = g_steal_pointer(&s->listing);

	for (guint i = 0; i < listing->len; i++) {
		struct imap_session_listed *l = listing->pdata[i];
		struct imap_session_guest *g = imap_session_guest_find(s, l->name);

		for (char **prefix = s->foreign; prefix != NULL && *prefix != NULL; prefix++) {
			if (g_str_has_prefix(l->name, *prefix)) {
				l->foreign = *prefix;
			}
		}
		if (l->special_use == NULL) {
			continue;
		}
		if (s->home != NULL && mailbox_same_folder(mailbox_get_folder(s->home), l->name)) {
			mailbox_set_special_use(s->home, l->special_use);
		} else if (g != NULL) {
			mailbox_set_special_use(g->mailbox, l->special_use);
		}
	}
	if (s->list_reported && s->ops->listed != NULL) {
		g_autoptr(GArray) entries =
		    g_array_new(FALSE, FALSE, sizeof(struct imap_session_listed));

		for (guint i = 0; i < listing->len; i++) {
			g_array_append_val(entries,
			                   *(struct imap_session_listed *)listing->pdata[i]);
		}
		s->ops->listed((const struct imap_session_listed *)(void *)entries->data,
		               entries->len, s->user_data);
	}
}

/* "* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Public/" "/"))": the
 * prefixes of the second and third lists (each NIL or a list of
 * (prefix delimiter ...) entries), decoded. An empty prefix stands for no
 * namespace of its own and is left out. */
void imap_session_list_namespace(struct imap_session *s, const struct imap_response *r)
{
	g_autoptr(GPtrArray) prefixes = g_ptr_array_new_with_free_func(g_free);

	if (s->foreign == NULL || r->n_args != 3) {
		return;
	}
	for (size_t i = 1; i < 3; i++) {
		const struct imap_arg *list = &r->args[i];

		for (size_t k = 0; list->type == IMAP_ARG_LIST && k < list->n_children; k++) {
			const struct imap_arg *entry = &list->children[k];
			const char *raw = entry->type == IMAP_ARG_LIST && entry->n_children >= 1
			                      ? imap_arg_as_string(&entry->children[0])
			                      : NULL;
			char *prefix =
			    raw != NULL && *raw != '\0' && strlen(raw) == entry->children[0].len
			        ? utf7_imap_decode(raw)
			        : NULL;

			if (prefix != NULL && prefixes->len < MAX_NAMESPACES) {
				g_ptr_array_add(prefixes, prefix);
			} else {
				g_free(prefix);
			}
		}
	}
	g_ptr_array_add(prefixes, NULL);
	g_strfreev(s->foreign);
	s->foreign = (char **)g_ptr_array_free(g_steal_pointer(&prefixes), FALSE);
}

void imap_session_list_free(struct imap_session *s)
{
	g_strfreev(s->list);
	g_strfreev(s->foreign);
	if (s->listing != NULL) {
		g_ptr_array_unref(s->listing);
	}
}
