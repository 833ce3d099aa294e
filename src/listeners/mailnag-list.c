/* SPDX-License-Identifier: MIT */
/*
 * The list of mailnag's service (mailnag.h), its two signals, and mails in
 * D-Bus messages.
 *
 * The list is not kept up to date event by event: the daemon knows which
 * messages are unseen, so after a burst of events the list is read again
 * (daemon_list_messages) and compared with the one announced last. Which
 * messages count as new is decided by `known`, the ids that were unseen at
 * the last comparison: a message that was unseen and listed before is not
 * announced again. Of the others, mail that arrived (a new event) is new,
 * and so is unseen mail that was there before the daemon started (its
 * details come without an event); mail made unseen again elsewhere is not,
 * nor what a folder holds after a new UIDVALIDITY (its ids change, the
 * mail does not). The list may show a folder's new ids before the daemon's
 * reset event comes (it reads the model, the events trail it by a turn or
 * a fetch), so the UIDVALIDITY each folder's mail was seen with is kept and
 * a change counts as the reset.
 */
#include "listeners/mailnag-private.h"

#include "imapwatch/io/bus-loop.h"

#include <inttypes.h>
#include <string.h>

/* --- marshalling --------------------------------------------------------- */

/* One entry of a mail dictionary: key and a variant of type (s or i). */
static void mailnag_append_entry(DBusMessageIter *dict, const char *key, int type,
                                 const void *value)
{
	DBusMessageIter entry, variant;
	const char signature[2] = {(char)type, '\0'};

	bus_message_open(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
	bus_message_append_string(&entry, key);
	bus_message_open(&entry, DBUS_TYPE_VARIANT, signature, &variant);
	if (type == DBUS_TYPE_STRING) {
		bus_message_append_string(&variant, *(const char *const *)value);
	} else {
		bus_message_append(&variant, type, value);
	}
	bus_message_close(&entry, &variant);
	bus_message_close(dict, &entry);
}

/* A mail as mailnag sends it: datetime is an int32 of Unix seconds, 0 when
 * unknown or beyond its range. */
static void mailnag_append_mail(DBusMessageIter *array, const struct daemon_message *message)
{
	DBusMessageIter dict;
	dbus_int32_t datetime = 0;

	if (message->date > 0 && message->date <= G_MAXINT32) {
		datetime = (dbus_int32_t)message->date;
	}
	bus_message_open(array, DBUS_TYPE_ARRAY, "{sv}", &dict);
	mailnag_append_entry(&dict, "datetime", DBUS_TYPE_INT32, &datetime);
	mailnag_append_entry(&dict, "subject", DBUS_TYPE_STRING, &message->subject);
	mailnag_append_entry(&dict, "sender_name", DBUS_TYPE_STRING, &message->from_name);
	mailnag_append_entry(&dict, "sender_addr", DBUS_TYPE_STRING, &message->from_addr);
	mailnag_append_entry(&dict, "account_name", DBUS_TYPE_STRING, &message->account);
	mailnag_append_entry(&dict, "id", DBUS_TYPE_STRING, &message->id);
	bus_message_close(array, &dict);
}

/* Appends the mails as one aa{sv}; with only_in, those whose id is in it. */
void mailnag_append_mails(DBusMessageIter *iter, GPtrArray *mails, GHashTable *only_in)
{
	DBusMessageIter array;

	bus_message_open(iter, DBUS_TYPE_ARRAY, "a{sv}", &array);
	for (guint i = 0; i < mails->len; i++) {
		const struct daemon_message *message = mails->pdata[i];

		if (only_in == NULL || g_hash_table_contains(only_in, message->id)) {
			mailnag_append_mail(&array, message);
		}
	}
	bus_message_close(iter, &array);
}

/* --- the list ------------------------------------------------------------ */

/* The list as it is now: the daemon's unseen messages, newest first,
 * less the mails being marked as read, at most MAILNAG_MAX_MAILS. unseen
 * receives the id of every unseen message, hidden or not. */
static GPtrArray *mailnag_read_list(struct mailnag_service *m, GHashTable *unseen)
{
	g_autoptr(GPtrArray) all = daemon_list_messages(m->daemon, "", "", true, NULL);
	GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)daemon_message_free);

	/* "" names every account, even none: the daemon cannot refuse it. */
	g_assert(all != NULL);
	for (guint i = 0; i < all->len; i++) {
		const struct daemon_message *message = all->pdata[i];

		g_hash_table_add(unseen, g_strdup(message->id));
		if (list->len < MAILNAG_MAX_MAILS &&
		    !g_hash_table_contains(m->hidden, message->id)) {
			/* Moved, not copied: the free function accepts the
			 * NULL left. */
			g_ptr_array_add(list, g_steal_pointer(&all->pdata[i]));
		}
	}
	return list;
}

/* The ids of mails, in order; free with g_strfreev. */
static char **mailnag_ids(GPtrArray *mails)
{
	char **ids = g_new(char *, mails->len + 1);

	for (guint i = 0; i < mails->len; i++) {
		const struct daemon_message *message = mails->pdata[i];

		ids[i] = g_strdup(message->id);
	}
	ids[mails->len] = NULL;
	return ids;
}

static DBusMessage *mailnag_new_signal(const char *name)
{
	DBusMessage *signal = dbus_message_new_signal(MAILNAG_PATH, MAILNAG_INTERFACE, name);

	bus_message_oom_if(signal == NULL, "creating a D-Bus signal");
	return signal;
}

/* "account/folder/uidvalidity/": the folder part of a message id. */
static char *mailnag_folder_key(const char *account, const char *folder, uint32_t uidvalidity)
{
	return g_strdup_printf("%s/%s/%" PRIu32 "/", account, folder, uidvalidity);
}

/* Notes the UIDVALIDITY a folder's mail was seen with. A change is a
 * reset (M3) even when the daemon's event about it has not come yet: the
 * list may show the folder's new ids first. */
static void mailnag_note_folder(struct mailnag_service *m, const char *account, const char *folder,
                                uint32_t uidvalidity, bool reset)
{
	g_autofree char *name = g_strconcat(account, "/", folder, NULL);
	gpointer before = NULL;

	if (g_hash_table_lookup_extended(m->folders, name, NULL, &before) &&
	    GPOINTER_TO_UINT(before) != uidvalidity) {
		reset = true;
	}
	if (reset) {
		g_hash_table_add(m->reset_folders,
		                 mailnag_folder_key(account, folder, uidvalidity));
	}
	g_hash_table_insert(m->folders, g_steal_pointer(&name), GUINT_TO_POINTER(uidvalidity));
}

static bool mailnag_is_new(struct mailnag_service *m, const char *id)
{
	if (g_hash_table_contains(m->known, id)) {
		return false;
	}
	if (g_hash_table_contains(m->arrived, id)) {
		return true;
	}
	/* The id's folder part: up to the last '/', which the uid follows. */
	g_autofree char *folder = g_strndup(id, (gsize)(strrchr(id, '/') + 1 - id));

	return !g_hash_table_contains(m->unread_again, id) &&
	       !g_hash_table_contains(m->reset_folders, folder);
}

/* Reads the list again and announces what changed: MailsAdded(new, all)
 * when messages appeared that were not unseen before, else
 * MailsRemoved(all) when the list is not the one announced last. */
void mailnag_flush(struct mailnag_service *m)
{
	g_clear_handle_id(&m->flush_source, g_source_remove);
	if (m->state != MAILNAG_SERVING) {
		return;
	}
	if (!dbus_connection_get_is_connected(m->conn)) {
		/* The bus service has said so and closes the connection. */
		mailnag_stop(m);
		return;
	}
	g_autoptr(GHashTable) unseen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) mails = mailnag_read_list(m, unseen);
	g_auto(GStrv) before = mailnag_ids(m->mails);
	g_auto(GStrv) after = mailnag_ids(mails);
	g_autoptr(GHashTable) added = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < mails->len; i++) {
		const struct daemon_message *message = mails->pdata[i];

		mailnag_note_folder(m, message->account, message->folder, message->uidvalidity,
		                    false);
	}
	for (guint i = 0; i < mails->len; i++) {
		const struct daemon_message *message = mails->pdata[i];

		if (mailnag_is_new(m, message->id)) {
			g_hash_table_add(added, message->id);
		}
	}
	/* A hidden message that is no longer unseen has been read (or is
	 * gone): nothing is left to hide. */
	GHashTableIter iter;
	gpointer id;
	g_hash_table_iter_init(&iter, m->hidden);
	while (g_hash_table_iter_next(&iter, &id, NULL)) {
		if (!g_hash_table_contains(unseen, id)) {
			g_hash_table_iter_remove(&iter);
		}
	}
	g_hash_table_remove_all(m->arrived);
	g_hash_table_remove_all(m->unread_again);

	g_autoptr(DBusMessage) signal = NULL;
	DBusMessageIter args;
	if (g_hash_table_size(added) > 0) {
		signal = mailnag_new_signal("MailsAdded");
		dbus_message_iter_init_append(signal, &args);
		mailnag_append_mails(&args, mails, added);
		mailnag_append_mails(&args, mails, NULL);
	} else if (!g_strv_equal((const char *const *)before, (const char *const *)after)) {
		signal = mailnag_new_signal("MailsRemoved");
		dbus_message_iter_init_append(signal, &args);
		mailnag_append_mails(&args, mails, NULL);
	}
	if (signal != NULL) {
		bus_message_send(m->conn, signal);
	}
	g_hash_table_unref(m->known);
	m->known = g_steal_pointer(&unseen);
	g_ptr_array_unref(m->mails);
	m->mails = g_steal_pointer(&mails);
}

static gboolean mailnag_flush_cb(gpointer user_data)
{
	struct mailnag_service *m = user_data;

	m->flush_source = 0;
	mailnag_flush(m);
	return G_SOURCE_REMOVE;
}

void mailnag_schedule_flush(struct mailnag_service *m)
{
	if (m->state == MAILNAG_SERVING && m->flush_source == 0) {
		/* Idle priority: a burst read from a socket is collected whole
		 * before the list is read again. */
		m->flush_source =
		    g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, mailnag_flush_cb, m, NULL);
	}
}

void mailnag_on_event(const struct watch_event *event, void *user_data)
{
	struct mailnag_service *m = user_data;

	if (m->state != MAILNAG_SERVING) {
		return;
	}
	switch (event->type) {
	case WATCH_EVENT_NEW:
	case WATCH_EVENT_CHANGED:
		if (!event->seen) {
			g_hash_table_add(event->type == WATCH_EVENT_NEW ? m->arrived
			                                                : m->unread_again,
			                 watch_event_message_id(event->account, event->folder,
			                                        event->uidvalidity, event->uid));
		}
		mailnag_note_folder(m, event->account, event->folder, event->uidvalidity, false);
		break;
	case WATCH_EVENT_REMOVED:
		mailnag_note_folder(m, event->account, event->folder, event->uidvalidity, false);
		break;
	case WATCH_EVENT_RESET:
		mailnag_note_folder(m, event->account, event->folder, event->uidvalidity, true);
		break;
	default:
		break;
	}
	/* Every kind may change the list: messages, their flags, a folder
	 * reset, and account states (the details of mail that was there
	 * before arrive without an event of their own, before the account is
	 * idle). */
	mailnag_schedule_flush(m);
}

void mailnag_list_clear(struct mailnag_service *m)
{
	g_clear_handle_id(&m->flush_source, g_source_remove);
	g_ptr_array_set_size(m->mails, 0);
	g_hash_table_remove_all(m->known);
	g_hash_table_remove_all(m->arrived);
	g_hash_table_remove_all(m->unread_again);
	g_hash_table_remove_all(m->reset_folders);
	g_hash_table_remove_all(m->folders);
}
