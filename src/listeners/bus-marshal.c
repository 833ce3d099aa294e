/* SPDX-License-Identifier: MIT */
#include "listeners/bus-private.h"

#include "imapwatch/core/notifier-model.h"
#include "imapwatch/io/account.h"

void bus_marshal_uint32(DBusMessageIter *iter, uint32_t value)
{
	dbus_uint32_t v = value;

	bus_message_append(iter, DBUS_TYPE_UINT32, &v);
}

void bus_marshal_strv(DBusMessageIter *iter, const char *const *values)
{
	DBusMessageIter array;

	bus_message_open(iter, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING_AS_STRING, &array);
	for (size_t i = 0; values != NULL && values[i] != NULL; i++) {
		bus_message_append_string(&array, values[i]);
	}
	bus_message_close(iter, &array);
}

void bus_marshal_variant_uint32(DBusMessageIter *iter, uint32_t value)
{
	DBusMessageIter variant;

	bus_message_open(iter, DBUS_TYPE_VARIANT, DBUS_TYPE_UINT32_AS_STRING, &variant);
	bus_marshal_uint32(&variant, value);
	bus_message_close(iter, &variant);
}

void bus_marshal_variant_int64(DBusMessageIter *iter, gint64 value)
{
	DBusMessageIter variant;
	dbus_int64_t v = value;

	bus_message_open(iter, DBUS_TYPE_VARIANT, DBUS_TYPE_INT64_AS_STRING, &variant);
	bus_message_append(&variant, DBUS_TYPE_INT64, &v);
	bus_message_close(iter, &variant);
}

char **bus_marshal_quiet_names(guint quiet)
{
	GPtrArray *names = g_ptr_array_new();

	for (guint i = 0; i < NOTIFIER_QUIET_N; i++) {
		if (quiet & (1u << i)) {
			g_ptr_array_add(names, g_strdup(notifier_quiet_name(1u << i)));
		}
	}
	g_ptr_array_add(names, NULL);
	return (char **)g_ptr_array_free(names, FALSE);
}

void bus_marshal_variant_strv(DBusMessageIter *iter, const char *const *values)
{
	DBusMessageIter variant;

	bus_message_open(iter, DBUS_TYPE_VARIANT,
	                 DBUS_TYPE_ARRAY_AS_STRING DBUS_TYPE_STRING_AS_STRING, &variant);
	bus_marshal_strv(&variant, values);
	bus_message_close(iter, &variant);
}

void bus_marshal_variant_string(DBusMessageIter *iter, const char *value)
{
	DBusMessageIter variant;

	bus_message_open(iter, DBUS_TYPE_VARIANT, DBUS_TYPE_STRING_AS_STRING, &variant);
	bus_message_append_string(&variant, value);
	bus_message_close(iter, &variant);
}

/* --- dictionaries (a{sv}) ------------------------------------------------ */

/* Opens the entry "key" of a dictionary and the variant of the given
 * signature inside it; entry_end() closes both. */
static void entry_begin(DBusMessageIter *dict, const char *key, const char *signature,
                        DBusMessageIter *entry, DBusMessageIter *variant)
{
	bus_message_open(dict, DBUS_TYPE_DICT_ENTRY, NULL, entry);
	bus_message_append_string(entry, key);
	bus_message_open(entry, DBUS_TYPE_VARIANT, signature, variant);
}

static void entry_end(DBusMessageIter *dict, DBusMessageIter *entry, DBusMessageIter *variant)
{
	bus_message_close(entry, variant);
	bus_message_close(dict, entry);
}

static void entry_string(DBusMessageIter *dict, const char *key, const char *value)
{
	DBusMessageIter entry, variant;

	entry_begin(dict, key, DBUS_TYPE_STRING_AS_STRING, &entry, &variant);
	bus_message_append_string(&variant, value);
	entry_end(dict, &entry, &variant);
}

static void entry_basic(DBusMessageIter *dict, const char *key, int type, const void *value)
{
	DBusMessageIter entry, variant;
	char signature[2] = {(char)type, '\0'};

	entry_begin(dict, key, signature, &entry, &variant);
	bus_message_append(&variant, type, value);
	entry_end(dict, &entry, &variant);
}

static void entry_uint32(DBusMessageIter *dict, const char *key, uint32_t value)
{
	dbus_uint32_t v = value;

	entry_basic(dict, key, DBUS_TYPE_UINT32, &v);
}

static void entry_int64(DBusMessageIter *dict, const char *key, gint64 value)
{
	dbus_int64_t v = value;

	entry_basic(dict, key, DBUS_TYPE_INT64, &v);
}

static void entry_bool(DBusMessageIter *dict, const char *key, bool value)
{
	dbus_bool_t v = value ? TRUE : FALSE;

	entry_basic(dict, key, DBUS_TYPE_BOOLEAN, &v);
}

static void entry_strv(DBusMessageIter *dict, const char *key, const char *const *values)
{
	DBusMessageIter entry, variant;

	entry_begin(dict, key, DBUS_TYPE_ARRAY_AS_STRING DBUS_TYPE_STRING_AS_STRING, &entry,
	            &variant);
	bus_marshal_strv(&variant, values);
	entry_end(dict, &entry, &variant);
}

#define DICT_SIGNATURE "{sv}"
#define DICT_ARRAY     "aa{sv}"

void bus_marshal_event(DBusMessageIter *array, const struct watch_event *ev)
{
	DBusMessageIter dict;
	g_autofree char *id =
	    watch_event_message_id(ev->account, ev->folder, ev->uidvalidity, ev->uid);

	bus_message_open(array, DBUS_TYPE_ARRAY, DICT_SIGNATURE, &dict);
	entry_string(&dict, "id", id);
	entry_string(&dict, "account", ev->account);
	entry_string(&dict, "folder", ev->folder);
	entry_uint32(&dict, "uid", ev->uid);
	entry_uint32(&dict, "uidvalidity", ev->uidvalidity);
	if (ev->type == WATCH_EVENT_NEW) {
		entry_string(&dict, "message_id", ev->message_id);
		entry_string(&dict, "from_name", ev->from_name);
		entry_string(&dict, "from_addr", ev->from_addr);
		entry_string(&dict, "subject", ev->subject);
		entry_int64(&dict, "date", ev->date);
		if (ev->catchup) {
			entry_bool(&dict, "catchup", true);
		}
		if (ev->gm_msgid != 0) {
			dbus_uint64_t gm = ev->gm_msgid;

			entry_basic(&dict, "gm_msgid", DBUS_TYPE_UINT64, &gm);
		}
	}
	if (ev->type == WATCH_EVENT_NEW || ev->type == WATCH_EVENT_CHANGED) {
		entry_strv(&dict, "flags", ev->flags);
		entry_bool(&dict, "seen", ev->seen);
	}
	bus_message_close(array, &dict);
}

void bus_marshal_message(DBusMessageIter *array, const struct daemon_message *m)
{
	const struct watch_event ev = {
	    .type = WATCH_EVENT_NEW,
	    .account = m->account,
	    .folder = m->folder,
	    .uidvalidity = m->uidvalidity,
	    .uid = m->uid,
	    .message_id = m->message_id,
	    .from_name = m->from_name,
	    .from_addr = m->from_addr,
	    .subject = m->subject,
	    .date = m->date,
	    .flags = (const char *const *)m->flags,
	    .seen = m->seen,
	};

	bus_marshal_event(array, &ev);
}

static void marshal_folders(DBusMessageIter *dict, const GPtrArray *folders)
{
	DBusMessageIter entry, variant, array, folder;

	entry_begin(dict, "folders", DICT_ARRAY, &entry, &variant);
	bus_message_open(&variant, DBUS_TYPE_ARRAY, "a{sv}", &array);
	for (guint i = 0; i < folders->len; i++) {
		const struct daemon_folder_status *f = folders->pdata[i];

		bus_message_open(&array, DBUS_TYPE_ARRAY, DICT_SIGNATURE, &folder);
		entry_string(&folder, "name", f->name);
		entry_uint32(&folder, "unseen", f->unseen);
		entry_string(&folder, "watch", f->watch);
		entry_string(&folder, "detail", f->detail);
		bus_message_close(&array, &folder);
	}
	bus_message_close(&variant, &array);
	entry_end(dict, &entry, &variant);
}

void bus_marshal_status(DBusMessageIter *iter, const struct daemon_status *status)
{
	DBusMessageIter dict, entry, variant, array, account;
	dbus_uint64_t uptime = status->uptime;

	bus_message_open(iter, DBUS_TYPE_ARRAY, DICT_SIGNATURE, &dict);
	entry_string(&dict, "version", status->version);
	entry_basic(&dict, "uptime", DBUS_TYPE_UINT64, &uptime);
	entry_uint32(&dict, "total_unseen", status->total_unseen);
	entry_int64(&dict, "paused_until", status->paused_until);
	g_auto(GStrv) quiet = bus_marshal_quiet_names(status->quiet);
	entry_strv(&dict, "quiet", (const char *const *)quiet);
	entry_begin(&dict, "accounts", DICT_ARRAY, &entry, &variant);
	bus_message_open(&variant, DBUS_TYPE_ARRAY, "a{sv}", &array);
	for (guint i = 0; i < status->accounts->len; i++) {
		const struct daemon_account_status *a = status->accounts->pdata[i];

		bus_message_open(&array, DBUS_TYPE_ARRAY, DICT_SIGNATURE, &account);
		entry_string(&account, "name", a->name);
		entry_string(&account, "state", watch_state_name(a->state));
		entry_string(&account, "detail", a->detail);
		entry_int64(&account, "connected_since", a->connected_since);
		entry_int64(&account, "last_event", a->last_event);
		entry_uint32(&account, "connections", a->connections);
		marshal_folders(&account, a->folders);
		bus_message_close(&array, &account);
	}
	bus_message_close(&variant, &array);
	entry_end(&dict, &entry, &variant);
	bus_message_close(iter, &dict);
}
