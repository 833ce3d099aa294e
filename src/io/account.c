/* SPDX-License-Identifier: MIT */
/*
 * The supervisor: the state from its parts, stop, check and probe. The
 * connections and their retries are in account-slots.c; which folders are watched and on which
 * connection is in account-folders.c; where the credentials come from, and
 * the start, in account-credentials.c; what is kept on disk in
 * account-persist.c.
 */
#include "io/account-private.h"

#include "imapwatch/core/header.h"
#include "imapwatch/core/oauth.h"
#include "imapwatch/io/state-store.h"

#include <string.h>

/* --- the real world ------------------------------------------------------ */

static guint real_timer_add(guint ms, GSourceFunc func, gpointer data)
{
	return ms == 0 ? g_idle_add(func, data) : g_timeout_add(ms, func, data);
}

static void real_timer_cancel(guint id)
{
	g_source_remove(id);
}

static uint32_t real_random(void)
{
	return g_random_int();
}

const struct account_env account_env_default = {
    .connection_create = connection_create,
    .connection_start = connection_start,
    .connection_resync = connection_resync,
    .connection_probe = connection_probe,
    .connection_logout = connection_logout,
    .connection_destroy = connection_destroy,
    .connection_set_home = connection_set_home,
    .connection_set_guests = connection_set_guests,
    .now = g_get_monotonic_time,
    .timer_add = real_timer_add,
    .timer_cancel = real_timer_cancel,
    .random = real_random,
};

void account_timer_clear(struct account *a, guint *id)
{
	if (*id != 0) {
		a->env->timer_cancel(*id);
		*id = 0;
	}
}

/* --- the state ------------------------------------------------------------ */

const char *account_get_name(const struct account *a)
{
	return a->config->name;
}

enum watch_state account_get_state(const struct account *a)
{
	return a->state;
}

void account_update_state(struct account *a)
{
	guint n = a->slots->len + a->folders->len + 1;
	g_autofree enum watch_state *states = g_new(enum watch_state, n);
	g_autoptr(GPtrArray) details = g_ptr_array_new_with_free_func(g_free);

	n = 0;
	for (guint i = 0; i < a->slots->len; i++) {
		const struct slot *s = a->slots->pdata[i];

		if (!s->leaving) {
			/* A quick reconnect after the server's timeout shows
			 * nothing (I9). */
			enum watch_state shown =
			    supervisor_slot_shown(&s->policy, s->state, a->env->now());

			states[n++] = shown;
			g_ptr_array_add(details, g_strdup(shown == s->state ? s->detail : NULL));
		}
	}
	for (guint i = 0; i < a->folders->len; i++) {
		const struct folder *f = a->folders->pdata[i];

		if (f->error != NULL) {
			states[n++] = WATCH_STATE_ERROR;
			g_ptr_array_add(details, g_strdup(f->error));
		}
	}
	if (a->password_state != WATCH_STATE_IDLE) {
		states[n++] = a->password_state;
		g_ptr_array_add(details, g_strdup(a->password_detail));
	}
	if (n == 0) {
		return;
	}
	size_t pick = supervisor_pick_state(states, n);
	enum watch_state state = states[pick];
	const char *raw = details->pdata[pick];
	/* Details quote server text (BYE, NO; its noise went where it came
	 * in, account-slots.c): valid UTF-8 without control or bidi
	 * characters before it reaches logs, JSON and D-Bus (E4). */
	g_autofree char *detail = header_sanitize(raw != NULL ? raw : "");

	if (a->state == state && g_strcmp0(a->detail, detail) == 0) {
		return;
	}
	const char *from = watch_state_name(a->state);
	const char *to = watch_state_name(state);
	if (state == a->state) {
		/* Not a change of state: a new reason (the next retry). */
		g_debug("account '%s': still %s: %s", a->config->name, to, detail);
	} else if (state == WATCH_STATE_ERROR) {
		g_warning("account '%s': %s -> %s: %s", a->config->name, from, to, detail);
	} else if (detail[0] != '\0') {
		g_message("account '%s': %s -> %s: %s", a->config->name, from, to, detail);
	} else {
		g_message("account '%s': %s -> %s", a->config->name, from, to);
	}
	if (watch_state_is_watching(state) && !watch_state_is_watching(a->state)) {
		a->connected_since = g_get_real_time() / G_USEC_PER_SEC;
	} else if (!watch_state_is_watching(state)) {
		a->connected_since = 0;
	}
	a->state = state;
	g_free(a->detail);
	a->detail = g_steal_pointer(&detail);

	struct watch_event ev = {
	    .type = WATCH_EVENT_STATE,
	    .account = a->config->name,
	    .state = to,
	    .detail = a->detail,
	};
	account_emit(a, &ev);
}

void account_password_set_state(struct account *a, enum watch_state state, const char *detail)
{
	a->password_state = state;
	g_free(a->password_detail);
	a->password_detail = g_strdup(detail);
	account_update_state(a);
}

/* --- the account ------------------------------------------------------------ */

/* The rule that learns the server's IDLE lifetime (I9), as in production.
 * For tests only, never for users: IMAPWATCH_TEST_IDLE_FLOOR=<seconds,
 * 1..59> lowers its floor (and its slack to a third of it), so that the
 * integration test tests/integration/test_idle_lifetime.py plays in
 * seconds a server whose IDLE lifetime would take minutes to learn. It can
 * only make IDLE refreshes more frequent, and only on a server that keeps
 * ending IDLE that soon; nothing else reads it. */
static struct idle_lifetime_params idle_params(const char *account)
{
	struct idle_lifetime_params params = idle_lifetime_defaults;
	const char *floor = g_getenv("IMAPWATCH_TEST_IDLE_FLOOR");
	guint64 seconds;

	if (floor != NULL &&
	    g_ascii_string_to_unsigned(floor, 10, 1, IDLE_LIFETIME_FLOOR - 1, &seconds, NULL)) {
		params.floor = (guint)seconds;
		params.slack = MAX(1u, params.floor / 3);
		g_message("account '%s': IMAPWATCH_TEST_IDLE_FLOOR is set (for tests only): IDLE "
		          "may be refreshed every %u s",
		          account, params.floor);
	}
	return params;
}

struct account *account_create(const struct config_account *config,
                               const struct account_options *options, account_sink sink,
                               void *user_data)
{
	struct account *a = g_new0(struct account, 1);

	a->config = config;
	a->options = *options;
	a->env = options->env != NULL ? options->env : &account_env_default;
	a->sink = sink;
	a->user_data = user_data;
	a->state = WATCH_STATE_DISCONNECTED;
	a->detail = g_strdup("");
	a->password_state = WATCH_STATE_IDLE;
	a->per_connection =
	    config->password_command != NULL &&
	    (config->auth == CONFIG_AUTH_XOAUTH2 || config->auth == CONFIG_AUTH_OAUTHBEARER);
	a->budget = config->max_connections > 0 ? config->max_connections : 1;
	a->folders = g_ptr_array_new_with_free_func(account_folder_free);
	a->retired = g_ptr_array_new_with_free_func(account_folder_free);
	a->slots = g_ptr_array_new_with_free_func(account_slot_free);
	a->held = g_ptr_array_new_with_free_func((GDestroyNotify)watch_event_free);
	a->credential_waits = g_ptr_array_new();
	struct idle_lifetime_params idle = idle_params(config->name);

	idle_lifetime_init(&a->idle_lifetime, &idle);
	a->state_dir = g_strdup(options->state_dir);
	a->options.state_dir = a->state_dir;
	if (config->disabled) {
		/* enabled = false: no folders, so nothing stale is reported; its
		 * state file stays as it is for when it is enabled again. */
		return a;
	}
	account_load(a);
	if (account_restore_idle_lifetime(a)) {
		g_message("account '%s': the server ended IDLE after about %s (learnt before); "
		          "refreshing every %s",
		          config->name, DURATION(a->idle_lifetime.lifetime),
		          DURATION(a->idle_lifetime.refresh));
	}
	account_folders_init(a);
	return a;
}

static gboolean stopped_cb(gpointer data)
{
	struct account *a = data;

	a->stopped_timer = 0;
	if (a->stopped != NULL) {
		account_stopped cb = a->stopped;
		a->stopped = NULL;
		cb(a, a->stopped_data);
	}
	return G_SOURCE_REMOVE;
}

void account_check_stopped(struct account *a)
{
	if (!a->stopping) {
		return;
	}
	for (guint i = 0; i < a->slots->len; i++) {
		const struct slot *s = a->slots->pdata[i];

		if (s->connection != NULL) {
			return;
		}
	}
	if (a->stopped_timer == 0) {
		a->stopped_timer = a->env->timer_add(0, stopped_cb, a);
	}
}

void account_stop(struct account *a, account_stopped stopped, void *user_data)
{
	account_flush(a);
	if (a->save_timer != 0) {
		account_save(a);
	}
	a->stopping = true;
	a->stopped = stopped;
	a->stopped_data = user_data;
	password_request_cancel(a->password_request);
	a->password_request = NULL;
	keyring_request_cancel(a->keyring_request);
	a->keyring_request = NULL;
	goa_request_cancel(a->goa_request);
	a->goa_request = NULL;
	for (guint i = 0; i < a->slots->len; i++) {
		struct slot *s = a->slots->pdata[i];

		account_timer_clear(a, &s->retry_timer);
		if (s->connection != NULL) {
			a->env->connection_logout(s->connection);
		}
	}
	account_check_stopped(a);
}

void account_destroy(struct account *a)
{
	if (a == NULL) {
		return;
	}
	password_request_cancel(a->password_request);
	keyring_request_cancel(a->keyring_request);
	goa_request_cancel(a->goa_request);
	account_credential_waits_answer(a, "the account is going away");
	g_ptr_array_unref(a->credential_waits);
	goa_imap_clear(&a->goa);
	g_free(a->login);
	account_timer_clear(a, &a->stopped_timer);
	/* Events still held have no listener left to hear them (the daemon
	 * is going); the state they would have moved stays unwritten, so a
	 * restart reports them (N4). */
	account_timer_clear(a, &a->flush_timer);
	if (a->save_timer != 0) {
		account_save(a);
	}
	/* Connections first: they borrow the folders' models. */
	g_ptr_array_unref(a->slots);
	state_account_free(a->saved);
	g_free(a->state_dir);
	g_ptr_array_unref(a->folders);
	g_ptr_array_unref(a->retired);
	g_ptr_array_unref(a->held);
	secret_unref(a->password);
	g_free(a->password_detail);
	g_free(a->detail);
	g_free(a);
}

const char *account_get_detail(const struct account *a)
{
	return a->detail;
}

gint64 account_get_connected_since(const struct account *a)
{
	return a->connected_since;
}

const struct config_account *account_get_login_config(const struct account *a)
{
	return a->login != NULL ? a->login : a->config;
}

const struct config_account *account_get_config(const struct account *a)
{
	return a->config;
}

void account_set_config(struct account *a, const struct config_account *config)
{
	a->config = config;
}

struct secret *account_get_password(const struct account *a)
{
	return a->password;
}

guint account_get_n_folders(const struct account *a)
{
	return a->folders->len;
}

struct mailbox *account_get_mailbox(const struct account *a, guint index)
{
	return ((struct folder *)a->folders->pdata[index])->mailbox;
}

const char *account_get_folder_watch(const struct account *a, guint index, const char **detail)
{
	const struct folder *f = a->folders->pdata[index];
	const struct slot *primary = a->slots->len > 0 ? a->slots->pdata[0] : NULL;

	*detail = f->error != NULL ? f->error : "";
	if (f->error != NULL) {
		return "error";
	}
	if (f->home_of != NULL) {
		enum watch_state state =
		    supervisor_slot_shown(&f->home_of->policy, f->home_of->state, a->env->now());

		return state == WATCH_STATE_POLLING     ? "poll"
		       : watch_state_is_watching(state) ? "idle"
		                                        : "";
	}
	if (primary == NULL || !watch_state_is_watching(primary->state)) {
		return "";
	}
	return primary->guests == IMAP_SESSION_GUESTS_NOTIFY ? "notify"
	       : primary->guests == IMAP_SESSION_GUESTS_POLL ? "poll"
	                                                     : "";
}

guint account_get_n_connections(const struct account *a)
{
	guint n = 0;

	for (guint i = 0; i < a->slots->len; i++) {
		n += ((const struct slot *)a->slots->pdata[i])->connection != NULL;
	}
	return n;
}

/* Folders in error (missing, refused) are looked at again. */
static void folders_retry(struct account *a)
{
	bool any = false;

	for (guint i = 0; i < a->folders->len; i++) {
		struct folder *f = a->folders->pdata[i];

		any = any || f->error != NULL;
		g_clear_pointer(&f->error, g_free);
	}
	if (any) {
		account_plan(a);
	}
}

/* Every slot now: a connection resynchronises (or, probing, proves it is
 * alive); a slot waiting to reconnect tries at once — the world changed. */
static void slots_poke(struct account *a, bool probe)
{
	g_autoptr(GPtrArray) slots = account_slots_snapshot(a);

	for (guint i = 0; i < slots->len; i++) {
		struct slot *s = slots->pdata[i];

		if (!g_ptr_array_find(a->slots, s, NULL) || s->leaving || s->queued) {
			continue;
		}
		if (s->connection == NULL) {
			account_slot_retry_now(s);
		} else if (probe) {
			a->env->connection_probe(s->connection, ACCOUNT_PROBE_TIMEOUT);
		} else {
			a->env->connection_resync(s->connection);
		}
	}
}

void account_check(struct account *a)
{
	if (a->config->disabled || a->stopping || a->password_request != NULL ||
	    a->keyring_request != NULL || a->goa_request != NULL) {
		return;
	}
	if (a->password == NULL) {
		/* The password command failed: ask it again. */
		account_start(a);
		return;
	}
	folders_retry(a);
	slots_poke(a, false);
}

void account_probe(struct account *a)
{
	if (a->stopping || a->password == NULL) {
		return;
	}
	slots_poke(a, true);
}

void account_set_online(struct account *a, bool online)
{
	a->offline = !online;
}
