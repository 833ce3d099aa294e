/* SPDX-License-Identifier: MIT */
/*
 * The account supervisor through its seam (struct account_env): fake
 * connections that a script makes connect, idle, fail, fall into black
 * holes or sleep, on a clock of the test's own. Each scenario is a table of
 * steps; hours of reconnects run in microseconds, and every delay is
 * checked to the millisecond (the jitter is pinned: random 0 gives half the
 * nominal backoff).
 */
#include "imapwatch/core/liveness.h"
#include "imapwatch/io/account.h"
#include "imapwatch/io/link.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

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
	c->folder = g_strdup(mailbox_get_folder(params->mailbox));
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

static void fake_destroy(struct connection *c)
{
	if (c->doom != 0) {
		fake_timer_cancel(c->doom);
	}
	g_assert_true(g_ptr_array_remove(world.live, c));
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

/* --- scenarios -------------------------------------------------------------- */

enum op {
	END,
	AT,            /* arg: ms since the start; runs the timers up to then */
	REACH,         /* connection #i reaches state */
	FAIL,          /* connection #i fails with failure */
	BLACKHOLE,     /* connection #i stops hearing from its server */
	PROBE,         /* resume from sleep or a network change */
	DEAD_ON_PROBE, /* the probed connections are dead */
	CHECK,         /* the user's Check */
	OFFLINE,
	ONLINE,
	STOP,            /* account_stop(); connections log out */
	EXPECT_STATE,    /* the account's state, and text in its detail */
	EXPECT_LIVE,     /* arg: connections open now */
	EXPECT_CREATED,  /* arg: connections created in all */
	EXPECT_PROBED,   /* connection #i was probed with arg as timeout */
	EXPECT_RESYNCED, /* connection #i resynchronised arg times */
};

struct step {
	enum op op;
	gint64 arg;
	guint i;
	enum watch_state state;
	enum imap_failure failure;
	const char *text;
};

struct scenario {
	const char *name;
	const char *const *folders;
	const struct step *steps;
	/* Every state event, "state:detail", one a line; NULL: not checked. */
	const char *states;
};

static const char *const inbox[] = {"INBOX", NULL};
static const char *const three[] = {"INBOX", "Lists", "Work", NULL};

#define AT_(ms)                                                                                    \
	{                                                                                          \
		AT, (ms), 0, 0, 0, NULL                                                            \
	}
#define REACH_(i, s)                                                                               \
	{                                                                                          \
		REACH, 0, (i), WATCH_STATE_##s, 0, NULL                                            \
	}
#define FAIL_(i, f, text)                                                                          \
	{                                                                                          \
		FAIL, 0, (i), 0, IMAP_FAILURE_##f, (text)                                          \
	}
#define EXPECT(s, text)                                                                            \
	{                                                                                          \
		EXPECT_STATE, 0, 0, WATCH_STATE_##s, 0, (text)                                     \
	}
#define LIVE(n)                                                                                    \
	{                                                                                          \
		EXPECT_LIVE, (n), 0, 0, 0, NULL                                                    \
	}
#define CREATED(n)                                                                                 \
	{                                                                                          \
		EXPECT_CREATED, (n), 0, 0, 0, NULL                                                 \
	}
#define OP(o)                                                                                      \
	{                                                                                          \
		o, 0, 0, 0, 0, NULL                                                                \
	}
#define SERVING(i) REACH_(i, AUTHENTICATING), REACH_(i, SYNCING), REACH_(i, IDLE)

/* A server that drops the connection now and then: reconnects after 0.5,
 * 1, 2 s (half of 1, 2, 4 s); a connection that served for 30 s starts the
 * backoff afresh. */
static const struct step reconnects[] = {
    SERVING(0),
    EXPECT(IDLE, ""),
    AT_(10000),
    FAIL_(0, TRANSIENT, "server closed the connection"),
    EXPECT(BACKOFF, "server closed the connection, retrying in 1 s"),
    LIVE(0),
    AT_(10499),
    LIVE(0),
    AT_(10500),
    LIVE(1),
    EXPECT(CONNECTING, ""),
    FAIL_(0, TRANSIENT, "connection refused"),
    AT_(11499),
    CREATED(2),
    AT_(11500),
    CREATED(3),
    FAIL_(0, TRANSIENT, "connection refused"),
    EXPECT(BACKOFF, "connection refused, retrying in 2 s"),
    AT_(13500),
    CREATED(4),
    SERVING(0),
    AT_(43500), /* in service for 30 s */
    FAIL_(0, TRANSIENT, "server closed the connection"),
    EXPECT(BACKOFF, "retrying in 1 s"),
    AT_(44000),
    CREATED(5),
    {END},
};

/* A server that accepts every connection and drops it right after IDLE is
 * not hammered: the delays keep doubling. */
static const struct step flapping[] = {
    SERVING(0),
    FAIL_(0, TRANSIENT, "x"),
    AT_(500),
    CREATED(2),
    SERVING(0),
    FAIL_(0, TRANSIENT, "x"),
    AT_(1499),
    CREATED(2),
    AT_(1500),
    SERVING(0),
    FAIL_(0, TRANSIENT, "x"),
    AT_(3499),
    CREATED(3),
    AT_(3500),
    CREATED(4),
    SERVING(0),
    FAIL_(0, TRANSIENT, "x"),
    EXPECT(BACKOFF, "retrying in 4 s"),
    {END},
};

/* Rejected credentials: error, and nothing more until the user's Check. */
static const struct step permanent[] = {
    REACH_(0, AUTHENTICATING),
    FAIL_(0, PERMANENT, "authentication failed for user 'me': bad password"),
    EXPECT(ERROR, "authentication failed"),
    AT_(3600 * 1000),
    CREATED(1),
    LIVE(0),
    OP(CHECK),
    CREATED(2),
    EXPECT(CONNECTING, ""),
    {END},
};

/* Too many connections: from 15 s (half of 30 s). */
static const struct step resource[] = {
    FAIL_(0, RESOURCE, "server temporarily refused the login"),
    EXPECT(BACKOFF, "retrying in 15 s"),
    AT_(14999),
    CREATED(1),
    AT_(15000),
    CREATED(2),
    FAIL_(0, RESOURCE, "server temporarily refused the login"),
    EXPECT(BACKOFF, "retrying in 30 s"),
    {END},
};

/* Black hole during IDLE (idle_refresh = 1m, no keepalives): found after
 * 90 s, back after 0.5 s more, and idle again. */
static const struct step blackhole[] = {
    SERVING(0), {BLACKHOLE, 0, 0, 0, 0, NULL},
    AT_(89999), EXPECT(IDLE, ""),
    AT_(90000), EXPECT(BACKOFF, "no response from the server within 30 s, retrying in 1 s"),
    AT_(90500), CREATED(2),
    SERVING(0), EXPECT(IDLE, ""),
    {END},
};

/* Resume from sleep: every connection is probed with 10 s; a dead one is
 * found then, and reconnects from the shortest delay (it had served long);
 * one waiting to retry tries at once. */
static const struct step sleep_resume[] = {
    SERVING(0),
    SERVING(1),
    SERVING(2),
    AT_(600000),
    FAIL_(2, TRANSIENT, "connection reset"),
    EXPECT(BACKOFF, "connection reset, retrying in 1 s"),
    OP(PROBE),
    {EXPECT_PROBED, 10, 0, 0, 0, NULL},
    {EXPECT_PROBED, 10, 1, 0, 0, NULL},
    CREATED(4), /* the one in backoff, at once */
    EXPECT(CONNECTING, ""),
    SERVING(2),
    OP(DEAD_ON_PROBE),
    AT_(609999),
    EXPECT(IDLE, ""),
    AT_(610000),
    EXPECT(BACKOFF, "no response from the server within 30 s, retrying in 1 s"),
    LIVE(1),
    AT_(610500),
    LIVE(3),
    CREATED(6),
    {END},
};

/* Offline: a failure waits the longest delay, and says why; the network's
 * return (a probe) retries at once. */
static const struct step offline[] = {
    SERVING(0),
    OP(OFFLINE),
    FAIL_(0, TRANSIENT, "network unreachable"),
    EXPECT(BACKOFF, "network unreachable, retrying in 300 s or when the network returns"),
    AT_(299999),
    CREATED(1),
    OP(ONLINE),
    OP(PROBE),
    CREATED(2),
    {END},
};

/* The account shows the least advanced folder; error and backoff first. */
static const struct step precedence[] = {
    EXPECT(CONNECTING, ""),
    SERVING(0),
    EXPECT(CONNECTING, ""),
    SERVING(1),
    REACH_(2, SYNCING),
    EXPECT(SYNCING, ""),
    REACH_(2, POLLING),
    EXPECT(POLLING, ""),
    REACH_(2, IDLE),
    EXPECT(IDLE, ""),
    FAIL_(1, TRANSIENT, "server closed the connection"),
    EXPECT(BACKOFF, "server closed"),
    FAIL_(0, PERMANENT, "cannot open folder 'INBOX': it does not exist on the server"),
    EXPECT(ERROR, "does not exist"),
    {END},
};

/* Check: watching connections resynchronise, the rest connect now. */
static const struct step check[] = {
    SERVING(0),
    SERVING(1),
    FAIL_(2, TRANSIENT, "x"),
    OP(CHECK),
    {EXPECT_RESYNCED, 1, 0, 0, 0, NULL},
    {EXPECT_RESYNCED, 1, 1, 0, 0, NULL},
    CREATED(4),
    LIVE(3),
    {END},
};

/* Stop: every connection logs out; the account ends disconnected. */
static const struct step stop[] = {
    SERVING(0),
    OP(STOP),
    {EXPECT_STATE, 0, 0, WATCH_STATE_IDLE, 0, ""},
    FAIL_(0, TRANSIENT, "server closed the connection"),
    EXPECT(DISCONNECTED, ""),
    AT_(3600 * 1000),
    CREATED(1),
    {END},
};

static const struct scenario scenarios[] = {
    {"reconnects", inbox, reconnects,
     "connecting:\nauthenticating:\nsyncing:\nidle:\n"
     "backoff:server closed the connection, retrying in 1 s\n"
     "connecting:\n"
     "backoff:connection refused, retrying in 1 s\n"
     "connecting:\n"
     "backoff:connection refused, retrying in 2 s\n"
     "connecting:\nauthenticating:\nsyncing:\nidle:\n"
     "backoff:server closed the connection, retrying in 1 s\n"
     "connecting:\n"},
    {"flapping", inbox, flapping, NULL},
    {"permanent", inbox, permanent, NULL},
    {"resource", inbox, resource, NULL},
    {"blackhole", inbox, blackhole, NULL},
    {"sleep-resume", three, sleep_resume, NULL},
    {"offline", inbox, offline, NULL},
    {"precedence", three, precedence, NULL},
    {"check", three, check, NULL},
    {"stop", inbox, stop, NULL},
};

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
	    .name = "work",
	    .host = "imap.example.com",
	    .port = 993,
	    .username = "me",
	    .password = "s3cret",
	    .folders = (char **)s->folders,
	    .idle_refresh = 60,
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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	g_log_set_writer_func(quiet, NULL, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(scenarios); i++) {
		g_autofree char *path = g_strdup_printf("/account/%s", scenarios[i].name);
		g_test_add_data_func(path, &scenarios[i], run);
	}
	return g_test_run();
}
