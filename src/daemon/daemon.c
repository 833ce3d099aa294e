/* SPDX-License-Identifier: MIT */
#include "daemon/daemon-private.h"

#include "imapwatch/io/state-store.h"
#include "imapwatch/io/stream.h"

#include <errno.h>
#include <gio/gio.h>

#include <string.h>

/* SIGTERM must end the process within 2 s even if a server never answers
 * LOGOUT (RFC 2683 §3.1.2 asks for a LOGOUT, not for waiting forever). */
#define STOP_GRACE_MS 1500

/* Exactly one of fn, reload and quiet is set. */
struct listener {
	guint id;
	daemon_listener fn;
	daemon_reload_listener reload;
	daemon_quiet_listener quiet;
	void *user_data;
};
G_DEFINE_QUARK(imapwatch - daemon - error - quark, daemon_error)

/* --- events -------------------------------------------------------------- */

static void daemon_event(const struct watch_event *event, void *user_data)
{
	struct daemon *d = user_data;

	if (event->type == WATCH_EVENT_NEW || event->type == WATCH_EVENT_CHANGED ||
	    event->type == WATCH_EVENT_REMOVED || event->type == WATCH_EVENT_RESET) {
		gint64 *when = g_new(gint64, 1);

		*when = g_get_real_time() / G_USEC_PER_SEC;
		g_hash_table_replace(d->last_event, g_strdup(event->account), when);
	}
	/* A listener may remove itself or add another: walk a copy. */
	g_autoptr(GArray) copy = g_array_copy(d->listeners);
	for (guint i = 0; i < copy->len; i++) {
		const struct listener *l = &g_array_index(copy, struct listener, i);

		if (l->fn != NULL) {
			l->fn(event, l->user_data);
		}
	}
}

static void daemon_reloaded(struct daemon *d)
{
	g_autoptr(GArray) copy = g_array_copy(d->listeners);

	for (guint i = 0; i < copy->len; i++) {
		const struct listener *l = &g_array_index(copy, struct listener, i);

		if (l->reload != NULL) {
			l->reload(l->user_data);
		}
	}
}

void daemon_quiet_changed(struct daemon *d)
{
	g_autoptr(GArray) copy = g_array_copy(d->listeners);

	for (guint i = 0; i < copy->len; i++) {
		const struct listener *l = &g_array_index(copy, struct listener, i);

		if (l->quiet != NULL) {
			l->quiet(l->user_data);
		}
	}
}

static guint daemon_add(struct daemon *d, struct listener l)
{
	l.id = ++d->next_listener;
	g_array_append_val(d->listeners, l);
	return l.id;
}

guint daemon_add_listener(struct daemon *d, daemon_listener fn, void *user_data)
{
	return daemon_add(d, (struct listener){.fn = fn, .user_data = user_data});
}

guint daemon_add_reload_listener(struct daemon *d, daemon_reload_listener fn, void *user_data)
{
	return daemon_add(d, (struct listener){.reload = fn, .user_data = user_data});
}

guint daemon_add_quiet_listener(struct daemon *d, daemon_quiet_listener fn, void *user_data)
{
	return daemon_add(d, (struct listener){.quiet = fn, .user_data = user_data});
}

void daemon_remove_listener(struct daemon *d, guint id)
{
	for (guint i = 0; i < d->listeners->len; i++) {
		if (g_array_index(d->listeners, struct listener, i).id == id) {
			g_array_remove_index(d->listeners, i);
			return;
		}
	}
}

/* --- lifecycle ----------------------------------------------------------- */

static struct account *daemon_new_account_for(struct daemon *d, const struct config *config,
                                              const struct config_account *account_config)
{
	struct account_options options = {
	    .password_timeout = config->password_timeout,
	    .trace = d->options.trace,
	    .state_dir = d->options.state_dir,
	};

	return account_create(account_config, &options, daemon_event, d);
}

/* State of accounts that are no longer configured goes. */
static void daemon_prune_state(struct daemon *d, const struct config *config)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();

	for (guint i = 0; i < config->accounts->len; i++) {
		g_ptr_array_add(names, ((struct config_account *)config->accounts->pdata[i])->name);
	}
	g_ptr_array_add(names, NULL);
	int r = state_store_prune(d->options.state_dir, (const char *const *)names->pdata);
	if (r < 0 && r != -ENOENT) {
		g_warning("cannot prune state in %s: %s", d->options.state_dir, g_strerror(-r));
	}
}

struct daemon *daemon_create(struct config *config, const struct daemon_options *options)
{
	struct daemon *d = g_new0(struct daemon, 1);

	d->config = config;
	d->options.trace = options->trace;
	d->options.config_path = g_strdup(options->config_path);
	d->options.state_dir =
	    options->state_dir != NULL ? g_strdup(options->state_dir) : state_store_default_dir();
	d->accounts = g_ptr_array_new_with_free_func((GDestroyNotify)account_destroy);
	d->retired = g_ptr_array_new_with_free_func((GDestroyNotify)account_destroy);
	d->old_configs = g_ptr_array_new_with_free_func((GDestroyNotify)config_free);
	d->listeners = g_array_new(FALSE, FALSE, sizeof(struct listener));
	d->last_event = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	d->requests = g_ptr_array_new();
	d->started = g_get_monotonic_time();
	daemon_prune_state(d, config);
	for (guint i = 0; i < config->accounts->len; i++) {
		g_ptr_array_add(d->accounts,
		                daemon_new_account_for(d, config, config->accounts->pdata[i]));
	}
	return d;
}

/* Route changes come in bursts (an interface going up adds several);
 * act once they settle. */
static gboolean network_settled(gpointer user_data)
{
	struct daemon *d = user_data;
	bool online = g_network_monitor_get_network_available(d->network);

	d->network_debounce = 0;
	g_message("network %s", online ? "changed" : "unavailable");
	d->online = online;
	for (guint i = 0; i < d->accounts->len; i++) {
		struct account *a = d->accounts->pdata[i];

		account_set_online(a, online);
		if (online) {
			account_probe(a);
		}
	}
	return G_SOURCE_REMOVE;
}

static void network_debounce(struct daemon *d)
{
	g_clear_handle_id(&d->network_debounce, g_source_remove);
	d->network_debounce = g_timeout_add(500, network_settled, d);
}

/* Routes changed (GIO's netlink monitor, also under NetworkManager). */
static void network_changed(GNetworkMonitor *monitor, gboolean available, gpointer user_data)
{
	(void)monitor;
	(void)available;
	network_debounce(user_data);
}

/* With NetworkManager, availability follows its State property, which can
 * change without a route change (and after one: connecting, then
 * connected); only a notify tells. */
static void network_available_notify(GObject *monitor, GParamSpec *pspec, gpointer user_data)
{
	(void)monitor;
	(void)pspec;
	network_debounce(user_data);
}

void daemon_probe(struct daemon *d)
{
	for (guint i = 0; i < d->accounts->len; i++) {
		account_probe(d->accounts->pdata[i]);
	}
	/* The timers ran on the monotonic clock, which stood still. */
	daemon_pause_check(d);
	daemon_quiet_changed(d);
}

void daemon_start(struct daemon *d)
{
	d->network = g_object_ref(g_network_monitor_get_default());
	d->online = g_network_monitor_get_network_available(d->network);
	d->network_handler =
	    g_signal_connect(d->network, "network-changed", G_CALLBACK(network_changed), d);
	d->network_notify_handler = g_signal_connect(d->network, "notify::network-available",
	                                             G_CALLBACK(network_available_notify), d);
	for (guint i = 0; i < d->accounts->len; i++) {
		account_set_online(d->accounts->pdata[i], d->online);
		account_start(d->accounts->pdata[i]);
	}
}

static void daemon_stop_finish(struct daemon *d)
{
	g_clear_handle_id(&d->stop_timer, g_source_remove);
	if (d->stopped != NULL) {
		void (*cb)(void *) = d->stopped;

		d->stopped = NULL;
		cb(d->stopped_data);
	}
}

static void account_stopped_cb(struct account *account, void *user_data)
{
	struct daemon *d = user_data;

	(void)account;
	if (d->stopping_accounts > 0 && --d->stopping_accounts == 0) {
		daemon_stop_finish(d);
	}
}

static gboolean stop_timeout_cb(gpointer user_data)
{
	struct daemon *d = user_data;

	d->stop_timer = 0;
	g_message("servers did not answer LOGOUT in time; leaving anyway");
	daemon_stop_finish(d);
	return G_SOURCE_REMOVE;
}

void daemon_stop(struct daemon *d, void (*done)(void *user_data), void *user_data)
{
	d->stopped = done;
	d->stopped_data = user_data;
	d->stopping_accounts = d->accounts->len;
	d->stop_timer = g_timeout_add(STOP_GRACE_MS, stop_timeout_cb, d);
	if (d->stopping_accounts == 0) {
		d->stop_timer = 0;
		g_idle_add_once((GSourceOnceFunc)daemon_stop_finish, d);
		return;
	}
	for (guint i = 0; i < d->accounts->len; i++) {
		account_stop(d->accounts->pdata[i], account_stopped_cb, d);
	}
}

void daemon_destroy(struct daemon *d)
{
	if (d == NULL) {
		return;
	}
	while (d->requests->len > 0) {
		daemon_mark_request_free(d->requests->pdata[0]);
	}
	g_ptr_array_unref(d->requests);
	g_clear_handle_id(&d->network_debounce, g_source_remove);
	if (d->network != NULL) {
		g_clear_signal_handler(&d->network_handler, d->network);
		g_clear_signal_handler(&d->network_notify_handler, d->network);
		g_object_unref(d->network);
	}
	g_clear_handle_id(&d->stop_timer, g_source_remove);
	g_clear_handle_id(&d->pause_timer, g_source_remove);
	g_ptr_array_unref(d->accounts);
	g_ptr_array_unref(d->retired);
	g_ptr_array_unref(d->old_configs);
	g_array_unref(d->listeners);
	g_hash_table_unref(d->last_event);
	config_free(d->config);
	g_free(d->options.config_path);
	g_free(d->options.state_dir);
	g_free(d);
}

const struct config *daemon_get_config(const struct daemon *d)
{
	return d->config;
}

struct account *daemon_find_account(struct daemon *d, const char *name)
{
	for (guint i = 0; i < d->accounts->len; i++) {
		struct account *a = d->accounts->pdata[i];

		if (strcmp(account_get_name(a), name) == 0) {
			return a;
		}
	}
	return NULL;
}

/* --- reload -------------------------------------------------------------- */

static void retired_stopped(struct account *account, void *user_data)
{
	struct daemon *d = user_data;

	g_ptr_array_remove(d->retired, account);
}

bool daemon_reload(struct daemon *d, GError **error)
{
	struct config *fresh = config_load_file(d->options.config_path, error);

	if (fresh == NULL) {
		return false;
	}
	g_autoptr(GPtrArray) next = g_ptr_array_new();
	g_autoptr(GPtrArray) started = g_ptr_array_new();
	bool daemon_changed = fresh->password_timeout != d->config->password_timeout;

	for (guint i = 0; i < fresh->accounts->len; i++) {
		const struct config_account *ca = fresh->accounts->pdata[i];
		struct account *old = daemon_find_account(d, ca->name);

		if (old != NULL && !daemon_changed &&
		    config_account_equal(account_get_config(old), ca)) {
			/* Unchanged: keeps its connections and what it knows. An
			 * account in error tries again: the user may have fixed
			 * what the server or the password command complained of. */
			account_set_config(old, ca);
			if (account_get_state(old) == WATCH_STATE_ERROR) {
				account_check(old);
			}
			g_ptr_array_add(next, old);
			continue;
		}
		struct account *a = daemon_new_account_for(d, fresh, ca);
		g_ptr_array_add(next, a);
		g_ptr_array_add(started, a);
	}
	/* Accounts not carried over log out and go. */
	for (guint i = d->accounts->len; i > 0; i--) {
		struct account *a = g_ptr_array_steal_index(d->accounts, i - 1);

		if (g_ptr_array_find(next, a, NULL)) {
			continue;
		}
		g_message("account '%s' removed or changed by the new configuration",
		          account_get_name(a));
		g_hash_table_remove(d->last_event, account_get_name(a));
		g_ptr_array_add(d->retired, a);
		account_stop(a, retired_stopped, d);
	}
	for (guint i = 0; i < next->len; i++) {
		g_ptr_array_add(d->accounts, next->pdata[i]);
	}
	/* Retired accounts still point into the old config until they are
	 * gone; keep it alive with them. */
	g_ptr_array_add(d->old_configs, d->config);
	d->config = fresh;
	daemon_prune_state(d, fresh);
	stream_flush_tls_cache();
	for (guint i = 0; i < started->len; i++) {
		account_set_online(started->pdata[i], d->online || d->network == NULL);
		account_start(started->pdata[i]);
	}
	g_message("configuration reloaded: %u accounts", d->accounts->len);
	daemon_reloaded(d);
	return true;
}
