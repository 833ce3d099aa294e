/* SPDX-License-Identifier: MIT */
/*
 * password_secret lookups through libsecret (keyring.h). One search with
 * the item's secret loaded, without unlocking: an unlocked item answers at
 * once; a locked one is waited for — any signal of the Secret Service's
 * collections (an unlock sends them) or the recheck timer starts one more
 * search, never several at once.
 */
#include "imapwatch/io/keyring.h"

#include <libsecret/secret.h>
#include <stdbool.h>
#include <string.h>

#define SECRET_SERVICE_NAME "org.freedesktop.secrets"

struct keyring_request {
	GHashTable *attributes;
	keyring_callback callback;
	keyring_locked_callback locked;
	void *user_data;
	GCancellable *cancellable;
	SecretService *service;
	guint signal_id; /* collection signals while waiting */
	guint recheck;   /* the next look at a locked item */
	bool searching;  /* a search is under way */
	bool again;      /* a signal came during it: one more */
	bool told_locked;
	bool done;
};

static void request_free(struct keyring_request *r)
{
	if (r->signal_id != 0 && r->service != NULL) {
		g_dbus_connection_signal_unsubscribe(
		    g_dbus_proxy_get_connection(G_DBUS_PROXY(r->service)), r->signal_id);
	}
	if (r->recheck != 0) {
		g_source_remove(r->recheck);
	}
	g_clear_object(&r->service);
	g_clear_object(&r->cancellable);
	g_hash_table_unref(r->attributes);
	g_free(r);
}

static void deliver(struct keyring_request *r, const char *password, const GError *error)
{
	r->done = true;
	r->callback(password, error, r->user_data);
	request_free(r);
}

static void search(struct keyring_request *r);

static gboolean recheck_cb(gpointer data)
{
	struct keyring_request *r = data;

	r->recheck = 0;
	search(r);
	return G_SOURCE_REMOVE;
}

static void collection_signal(GDBusConnection *connection, const char *sender, const char *path,
                              const char *interface, const char *signal, GVariant *parameters,
                              gpointer data)
{
	struct keyring_request *r = data;

	(void)connection;
	(void)sender;
	(void)path;
	(void)interface;
	(void)signal;
	(void)parameters;
	search(r);
}

/* Locked: wait for a signal or the recheck timer, and say so once — last,
 * since the callback may cancel the request. */
static void wait_unlocked(struct keyring_request *r)
{
	if (r->signal_id == 0) {
		/* Any signal of the Secret Service: collections send
		 * ItemChanged and PropertiesChanged when they are unlocked,
		 * the service CollectionChanged. */
		r->signal_id = g_dbus_connection_signal_subscribe(
		    g_dbus_proxy_get_connection(G_DBUS_PROXY(r->service)), SECRET_SERVICE_NAME,
		    NULL, NULL, NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, collection_signal, r, NULL);
	}
	if (r->recheck == 0) {
		r->recheck = g_timeout_add_seconds(KEYRING_RECHECK_S, recheck_cb, r);
	}
	if (!r->told_locked) {
		r->told_locked = true;
		if (r->locked != NULL) {
			r->locked(r->user_data);
		}
	}
}

static void searched(GObject *source, GAsyncResult *result, gpointer data)
{
	struct keyring_request *r = data;
	g_autoptr(GError) error = NULL;
	GList *items = secret_service_search_finish(SECRET_SERVICE(source), result, &error);
	bool locked = false;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		return; /* r is gone */
	}
	r->searching = false;
	if (items == NULL && error != NULL) {
		g_prefix_error(&error, "cannot search the Secret Service: ");
		deliver(r, NULL, error);
		return;
	}
	for (GList *l = items; l != NULL; l = l->next) {
		SecretItem *item = l->data;
		g_autoptr(SecretValue) value = secret_item_get_secret(item);

		if (secret_item_get_locked(item) || value == NULL) {
			locked = true;
			continue;
		}
		const char *text = secret_value_get_text(value);
		if (text == NULL) {
			continue; /* not text: not a password */
		}
		g_list_free_full(items, g_object_unref);
		deliver(r, text, NULL);
		return;
	}
	g_list_free_full(items, g_object_unref);
	if (!locked) {
		g_autoptr(GError) none = g_error_new_literal(
		    G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
		    "the Secret Service holds no item with these attributes (check them with "
		    "secret-tool lookup)");
		deliver(r, NULL, none);
		return;
	}
	if (r->again) {
		r->again = false;
		search(r);
		return;
	}
	wait_unlocked(r);
}

static void search(struct keyring_request *r)
{
	if (r->searching) {
		r->again = true;
		return;
	}
	r->searching = true;
	r->again = false;
	/* Never SECRET_SEARCH_UNLOCK: a prompt nobody sees would hang. */
	secret_service_search(r->service, NULL, r->attributes,
	                      SECRET_SEARCH_ALL | SECRET_SEARCH_LOAD_SECRETS, r->cancellable,
	                      searched, r);
}

static void got_service(GObject *source, GAsyncResult *result, gpointer data)
{
	struct keyring_request *r = data;
	g_autoptr(GError) error = NULL;
	SecretService *service = secret_service_get_finish(result, &error);

	(void)source;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		return;
	}
	if (service == NULL) {
		g_prefix_error(&error, "no Secret Service on the session bus: ");
		deliver(r, NULL, error);
		return;
	}
	r->service = service;
	search(r);
}

struct keyring_request *keyring_request_start(char *const *pairs, keyring_callback callback,
                                              keyring_locked_callback locked, void *user_data)
{
	struct keyring_request *r = g_new0(struct keyring_request, 1);

	r->attributes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; pairs != NULL && pairs[i] != NULL && pairs[i + 1] != NULL; i += 2) {
		g_hash_table_insert(r->attributes, g_strdup(pairs[i]), g_strdup(pairs[i + 1]));
	}
	r->callback = callback;
	r->locked = locked;
	r->user_data = user_data;
	r->cancellable = g_cancellable_new();
	secret_service_get(SECRET_SERVICE_OPEN_SESSION, r->cancellable, got_service, r);
	return r;
}

void keyring_request_cancel(struct keyring_request *r)
{
	if (r == NULL || r->done) {
		return;
	}
	/* The pending callbacks see CANCELLED and leave r alone. */
	g_cancellable_cancel(r->cancellable);
	request_free(r);
}
