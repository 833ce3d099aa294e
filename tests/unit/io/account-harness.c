/* SPDX-License-Identifier: MIT */
#include "account-harness.h"

#include "imapwatch/core/liveness.h"
#include "imapwatch/io/account.h"
#include "imapwatch/io/link.h"

#include <glib/gstdio.h>
#include <string.h>

const char *const account_harness_inbox[] = {"INBOX", NULL};
const char *const account_harness_three[] = {"INBOX", "Lists", "Work", NULL};

/* --- the fake world ------------------------------------------------------- */

struct timer {
	guint id;
	gint64 due;
	GSourceFunc func;
	gpointer data;
};

/* The fake account_env's connection: this test's own definition of the
 * opaque struct (connection.c is not used here). */
struct connection {
	const struct connection_ops *ops;
	void *user_data;
	char *folder;
	enum watch_state state;
	bool started;
	bool logged_out;
	unsigned resyncs;
	unsigned probes;
	guint probe_timeout;
	guint doom; /* a timer that fails it: a black hole found */
	bool lists; /* it was asked to LIST the folders entries */
	/* What the account learnt of the server's IDLE (I9). */
	const struct idle_lifetime *idle_lifetime;
	guint guests;         /* folders it watches as guests */
	GString *guest_names; /* their names, ';' between */
};

static struct {
	gint64 now;
	guint next_id;
	GArray *timers;   /* struct timer */
	GPtrArray *live;  /* struct connection *, in creation order */
	unsigned created; /* connections created in all */
	GString *states;  /* "state:detail" of every state event, one a line */
	const struct config_account *config;
} world;

static gint64 fake_now(void)
{
	return world.now;
}

static guint fake_timer_add(guint ms, GSourceFunc func, gpointer data)
{
	struct timer t = {++world.next_id, world.now + (gint64)ms * 1000, func, data};

	g_array_append_val(world.timers, t);
	return t.id;
}

static void fake_timer_cancel(guint id)
{
	for (guint i = 0; i < world.timers->len; i++) {
		if (g_array_index(world.timers, struct timer, i).id == id) {
			g_array_remove_index(world.timers, i);
			return;
		}
	}
	g_error("cancelled timer %u that does not exist", id);
}

static uint32_t fake_random(void)
{
	return 0;
}

/* Runs every timer due up to now + us, in order, then stops the clock
 * there. */
static void advance(gint64 us)
{
	gint64 end = world.now + us;

	for (;;) {
		gint best = -1;

		for (guint i = 0; i < world.timers->len; i++) {
			const struct timer *t = &g_array_index(world.timers, struct timer, i);

			if (t->due <= end &&
			    (best < 0 ||
			     t->due < g_array_index(world.timers, struct timer, best).due)) {
				best = (gint)i;
			}
		}
		if (best < 0) {
			break;
		}
		struct timer t = g_array_index(world.timers, struct timer, best);
		g_array_remove_index(world.timers, best);
		world.now = MAX(world.now, t.due);
		t.func(t.data);
	}
	world.now = end;
}

static struct connection *fake_create(const struct connection_params *params,
                                      const struct connection_ops *ops, void *user_data)
{
	struct connection *c = g_new0(struct connection, 1);

	c->ops = ops;
	c->user_data = user_data;
	c->folder = g_strdup(params->home != NULL ? mailbox_get_folder(params->home) : "");
	c->lists = params->list != NULL;
	c->idle_lifetime = params->idle_lifetime;
	g_assert_nonnull(c->idle_lifetime);
	c->guest_names = g_string_new(NULL);
	c->state = WATCH_STATE_CONNECTING;
	g_assert_cmpstr(params->password, ==, "s3cret");
	g_ptr_array_add(world.live, c);
	world.created++;
	return c;
}

static void fake_start(struct connection *c)
{
	c->started = true;
}

static void fake_resync(struct connection *c)
{
	c->resyncs++;
}

static void fake_probe(struct connection *c, guint timeout)
{
	c->probes++;
	c->probe_timeout = timeout;
}

static void fake_logout(struct connection *c)
{
	c->logged_out = true;
}

static void fake_set_home(struct connection *c, struct mailbox *home)
{
	g_free(c->folder);
	c->folder = g_strdup(mailbox_get_folder(home));
}

static void fake_set_guests(struct connection *c, struct mailbox *const *guests, size_t n)
{
	c->guests = (guint)n;
	g_string_truncate(c->guest_names, 0);
	for (size_t i = 0; i < n; i++) {
		g_string_append_printf(c->guest_names, "%s%s", i > 0 ? ";" : "",
		                       mailbox_get_folder(guests[i]));
	}
}

static void fake_destroy(struct connection *c)
{
	if (c->doom != 0) {
		fake_timer_cancel(c->doom);
	}
	g_assert_true(g_ptr_array_remove(world.live, c));
	g_string_free(c->guest_names, TRUE);
	g_free(c->folder);
	g_free(c);
}

static const struct account_env fake_env = {
    .connection_create = fake_create,
    .connection_start = fake_start,
    .connection_resync = fake_resync,
    .connection_probe = fake_probe,
    .connection_logout = fake_logout,
    .connection_destroy = fake_destroy,
    .connection_set_home = fake_set_home,
    .connection_set_guests = fake_set_guests,
    .now = fake_now,
    .timer_add = fake_timer_add,
    .timer_cancel = fake_timer_cancel,
    .random = fake_random,
};

static void sink(const struct watch_event *event, void *user_data)
{
	(void)user_data;
	if (event->type == WATCH_EVENT_STATE) {
		g_string_append_printf(world.states, "%s:%s\n", event->state, event->detail);
	}
}

/* --- what a script can make a connection do -------------------------------- */

static struct connection *conn(guint i)
{
	g_assert_cmpuint(i, <, world.live->len);
	return world.live->pdata[i];
}

static void conn_reach(guint i, enum watch_state state)
{
	struct connection *c = conn(i);

	c->state = state;
	c->ops->state_changed(c, state, c->user_data);
}

static void conn_fail(struct connection *c, enum imap_failure failure, const char *message)
{
	c->ops->failed(c, failure, message, c->user_data);
}

static gboolean doom_cb(gpointer data)
{
	struct connection *c = data;

	c->doom = 0;
	conn_fail(c, IMAP_FAILURE_TRANSIENT, "no response from the server within 30 s");
	return G_SOURCE_REMOVE;
}

/* The network swallows everything from now on: the connection's own
 * timers find it when the liveness rule probes (idle_refresh without
 * keepalives, core/liveness.h) and the probe's reply does not come within
 * the response timeout. */
static void conn_blackhole(guint i)
{
	struct connection *c = conn(i);
	struct liveness l = {0};
	guint silence = liveness_silence_allowed(&l, world.config->idle_refresh);

	c->doom = fake_timer_add((silence + IMAP_RESPONSE_TIMEOUT) * 1000, doom_cb, c);
}

/* Every probed connection that is dead does not answer within its probe's
 * timeout. */
static void probed_ones_die(void)
{
	for (guint i = 0; i < world.live->len; i++) {
		struct connection *c = world.live->pdata[i];

		if (c->probes > 0 && c->doom == 0) {
			c->doom = fake_timer_add(c->probe_timeout * 1000, doom_cb, c);
		}
	}
}

/* Connection #i's IDLE ended after ms, with the refresh the account gives
 * now: "done" (ours), "server" (completed unasked) or "closed" (BYE or a
 * close: its failure follows with FAIL). */
static void conn_idle_end(guint i, gint64 ms, const char *how)
{
	struct connection *c = conn(i);
	enum imap_session_idle_end end = IMAP_SESSION_IDLE_END_CLOSED;

	if (strcmp(how, "done") == 0) {
		end = IMAP_SESSION_IDLE_END_DONE;
	} else if (strcmp(how, "server") == 0) {
		end = IMAP_SESSION_IDLE_END_SERVER;
	} else {
		g_assert_cmpstr(how, ==, "closed");
	}
	c->ops->idle_ended(c, end, ms * 1000,
	                   idle_lifetime_refresh(c->idle_lifetime, world.config->idle_refresh),
	                   c->user_data);
}

/* "INBOX;Lists/a;Junk=\\Junk;Box=noselect;Public/Team@Public/": a LIST
 * pass's result (after @, the folder's foreign namespace). */
static void play_listed(struct connection *c, const char *spec)
{
	g_auto(GStrv) items = g_strsplit(spec, ";", -1);
	g_autoptr(GArray) entries = g_array_new(FALSE, TRUE, sizeof(struct imap_session_listed));

	g_assert_true(c->lists);
	for (size_t i = 0; items[i] != NULL; i++) {
		char *at = strchr(items[i], '@');
		char *eq = strchr(items[i], '=');
		struct imap_session_listed l = {.name = items[i]};

		if (at != NULL) {
			*at = '\0';
			l.foreign = at + 1;
		}
		if (eq != NULL) {
			*eq = '\0';
			l.noselect = strcmp(eq + 1, "noselect") == 0;
			l.special_use = l.noselect ? NULL : eq + 1;
		}
		g_array_append_val(entries, l);
	}
	c->ops->listed(c, (const struct imap_session_listed *)(void *)entries->data, entries->len,
	               c->user_data);
}

/* "Work:message": the guest Work could not be selected. */
static void play_guest_failed(struct account *a, struct connection *c, const char *spec)
{
	g_auto(GStrv) parts = g_strsplit(spec, ":", 2);

	for (guint i = 0; i < account_get_n_folders(a); i++) {
		struct mailbox *mb = account_get_mailbox(a, i);

		if (strcmp(mailbox_get_folder(mb), parts[0]) == 0) {
			c->ops->guest_failed(c, mb, parts[1], c->user_data);
			return;
		}
	}
	g_error("no folder '%s'", parts[0]);
}

/* "INBOX=idle;Lists=notify": every watched folder and how. */
static void expect_watch(const struct scenario *s, gsize at, struct account *a,
                         const char *expected)
{
	g_autoptr(GString) got = g_string_new(NULL);

	for (guint i = 0; i < account_get_n_folders(a); i++) {
		const char *detail;
		const char *how = account_get_folder_watch(a, i, &detail);

		g_string_append_printf(got, "%s%s=%s", i > 0 ? ";" : "",
		                       mailbox_get_folder(account_get_mailbox(a, i)), how);
	}
	if (strcmp(got->str, expected) != 0) {
		g_error("%s, step %zu: folders watched as '%s', expected '%s'", s->name, at,
		        got->str, expected);
	}
}

static void stopped_cb(struct account *account, void *user_data)
{
	(void)account;
	*(bool *)user_data = true;
}

static void run(gconstpointer data)
{
	const struct scenario *s = data;
	g_autofree char *dir = g_dir_make_tmp("imapwatch-account-XXXXXX", NULL);
	struct config_account config = {
	    .max_connections = s->max_connections > 0 ? s->max_connections : 3,
	    .name = "work",
	    .host = "imap.example.com",
	    .port = 993,
	    .username = "me",
	    .password = "s3cret",
	    .folders = (char **)s->folders,
	    .idle_refresh = s->steps[0].op == IDLE_REFRESH ? (guint)s->steps[0].arg : 60,
	    .poll_interval = 120,
	};
	struct account_options options = {
	    .password_timeout = 30,
	    .state_dir = dir,
	    .env = &fake_env,
	};
	bool stopped = false;

	world.now = 1000 * G_USEC_PER_SEC; /* a monotonic clock is never 0 */
	world.timers = g_array_new(FALSE, FALSE, sizeof(struct timer));
	world.live = g_ptr_array_new();
	world.created = 0;
	world.states = g_string_new(NULL);
	world.config = &config;
	gint64 start = world.now;

	struct account *a = account_create(&config, &options, sink, NULL);
	account_start(a);
	for (const struct step *st = s->steps; st->op != END; st++) {
		gsize at = st - s->steps;

		switch (st->op) {
		case END:
		case IDLE_REFRESH:
			break;
		case AT:
			g_assert_cmpint(start + st->arg * 1000, >=, world.now);
			advance(start + st->arg * 1000 - world.now);
			break;
		case REACH:
			conn_reach(st->i, st->state);
			break;
		case FAIL:
			conn_fail(conn(st->i), st->failure, st->text);
			break;
		case BLACKHOLE:
			conn_blackhole(st->i);
			break;
		case PROBE:
			account_probe(a);
			break;
		case DEAD_ON_PROBE:
			probed_ones_die();
			break;
		case CHECK:
			account_check(a);
			break;
		case OFFLINE:
			account_set_online(a, false);
			break;
		case ONLINE:
			account_set_online(a, true);
			break;
		case STOP:
			account_stop(a, stopped_cb, &stopped);
			for (guint i = 0; i < world.live->len; i++) {
				g_assert_true(conn(i)->logged_out);
			}
			break;
		case EXPECT_STATE:
			if (account_get_state(a) != st->state ||
			    strstr(account_get_detail(a), st->text) == NULL) {
				g_error("%s, step %zu: account is %s (%s), expected %s (%s)",
				        s->name, at, watch_state_name(account_get_state(a)),
				        account_get_detail(a), watch_state_name(st->state),
				        st->text);
			}
			break;
		case EXPECT_LIVE:
			if (world.live->len != st->arg) {
				g_error(
				    "%s, step %zu: %u connections open, expected %" G_GINT64_FORMAT,
				    s->name, at, world.live->len, st->arg);
			}
			break;
		case EXPECT_CREATED:
			if (world.created != st->arg) {
				g_error(
				    "%s, step %zu: %u connections made, expected %" G_GINT64_FORMAT,
				    s->name, at, world.created, st->arg);
			}
			break;
		case EXPECT_PROBED:
			g_assert_cmpuint(conn(st->i)->probes, ==, 1);
			g_assert_cmpuint(conn(st->i)->probe_timeout, ==, st->arg);
			break;
		case EXPECT_RESYNCED:
			g_assert_cmpuint(conn(st->i)->resyncs, ==, st->arg);
			break;
		case GUESTS:
			conn(st->i)->ops->guests_changed(conn(st->i),
			                                 (enum imap_session_guests)st->arg,
			                                 st->text, conn(st->i)->user_data);
			break;
		case LISTED:
			play_listed(conn(st->i), st->text);
			break;
		case GUEST_FAILED:
			play_guest_failed(a, conn(st->i), st->text);
			break;
		case EXPECT_HOME:
			if (strcmp(conn(st->i)->folder, st->text) != 0) {
				g_error("%s, step %zu: connection %u IDLEs on '%s', expected '%s'",
				        s->name, at, st->i, conn(st->i)->folder, st->text);
			}
			break;
		case EXPECT_GUESTS:
			if (strcmp(conn(st->i)->guest_names->str, st->text) != 0) {
				g_error(
				    "%s, step %zu: connection %u has guests '%s', expected '%s'",
				    s->name, at, st->i, conn(st->i)->guest_names->str, st->text);
			}
			break;
		case EXPECT_WATCH:
			expect_watch(s, at, a, st->text);
			break;
		case IDLE_END:
			conn_idle_end(st->i, st->arg, st->text);
			break;
		case EXPECT_REFRESH: {
			guint refresh =
			    idle_lifetime_refresh(conn(st->i)->idle_lifetime, config.idle_refresh);

			if (refresh != st->arg) {
				g_error(
				    "%s, step %zu: connection %u refreshes after %u s, expected "
				    "%" G_GINT64_FORMAT " s",
				    s->name, at, st->i, refresh, st->arg);
			}
			break;
		}
		case RESTART:
			account_destroy(a);
			g_assert_cmpuint(world.live->len, ==, 0);
			a = account_create(&config, &options, sink, NULL);
			account_start(a);
			break;
		}
	}
	for (guint i = 0; i < world.live->len; i++) {
		g_assert_true(conn(i)->started);
	}
	if (s->states != NULL) {
		g_assert_cmpstr(world.states->str, ==, s->states);
	}
	if (account_get_state(a) == WATCH_STATE_DISCONNECTED && world.live->len == 0) {
		advance(0);
		g_assert_true(stopped);
	}
	account_destroy(a);
	g_assert_cmpuint(world.live->len, ==, 0);
	g_assert_cmpuint(world.timers->len, ==, 0);
	g_ptr_array_unref(world.live);
	g_array_unref(world.timers);
	g_string_free(world.states, TRUE);

	g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
	for (const char *name = g_dir_read_name(listing); name != NULL;
	     name = g_dir_read_name(listing)) {
		g_autofree char *file = g_build_filename(dir, name, NULL);
		g_unlink(file);
	}
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* The account logs every state change, and errors as warnings: expected
 * here, checked through the state events, and kept off the test output. */
static GLogWriterOutput quiet(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                              gpointer user_data)
{
	(void)user_data;
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
		return g_log_writer_default(level, fields, n_fields, NULL);
	}
	return G_LOG_WRITER_HANDLED;
}

void account_harness_add(const struct scenario *scenarios, size_t n)
{
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	g_log_set_writer_func(quiet, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		g_autofree char *path = g_strdup_printf("/account/%s", scenarios[i].name);
		g_test_add_data_func(path, &scenarios[i], run);
	}
}
