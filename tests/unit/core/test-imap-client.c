/* SPDX-License-Identifier: MIT */
/*
 * The wire of a connection on its own: tags and replies matched to their
 * commands (also out of order), IDLE and what "waiting" means for the
 * response timer, the untagged limit, STARTTLS's plaintext check, BYE and
 * the close, redacted traces, and nothing sent or called back once
 * stopped.
 */
#include "imapwatch/core/imap-client.h"

#include "transcript.h"

#include <glib.h>
#include <string.h>

struct harness {
	struct transcript_recorder rec; /* first: the recorder callbacks take the harness */
	struct imap_client_io io;
	struct imap_client *client;
	GString *log; /* what the handler and the reply callbacks saw, one line each */
	unsigned tls_ready;
};

static void h_untagged(const struct imap_response *r, void *owner)
{
	struct harness *h = owner;

	g_string_append_printf(h->log, "untagged %s\n", r->keyword != NULL ? r->keyword : "status");
}

static void h_continuation(const struct imap_response *r, void *owner)
{
	struct harness *h = owner;

	(void)r;
	g_string_append(h->log, "continuation\n");
}

static void h_failed(enum imap_failure failure, const char *message, void *owner)
{
	struct harness *h = owner;

	g_string_append_printf(h->log, "failed %s: %s\n", imap_failure_name(failure), message);
}

static const struct imap_client_handler handler = {
    .untagged = h_untagged,
    .continuation = h_continuation,
    .failed = h_failed,
};

/* The harness of the running test: reply callbacks get the command's name
 * as their data. */
static struct harness *current;

static void reply_logged(const struct imap_response *r, void *data)
{
	g_string_append_printf(current->log, "reply %s %s %s\n", (const char *)data, r->tag,
	                       r->status == IMAP_STATUS_OK ? "OK" : "not-OK");
}

static void tls_ready(void *data)
{
	struct harness *h = data;

	h->tls_ready++;
}

static void feed(struct harness *h, const char *data)
{
	imap_client_feed(h->client, data, strlen(data));
}

static void harness_init(struct harness *h)
{
	recorder_init(&h->rec);
	h->io = (struct imap_client_io){
	    .send = recorder_send,
	    .start_tls = recorder_start_tls,
	    .trace = recorder_trace,
	    .user_data = h,
	};
	h->client = imap_client_create("work", true, &h->io);
	h->log = g_string_new(NULL);
	h->tls_ready = 0;
	imap_client_set_handler(h->client, &handler, h);
	current = h;
	/* Every test starts after an ordinary greeting. */
	feed(h, "* OK [CAPABILITY IMAP4rev1 IDLE STARTTLS] hi\r\n");
	g_string_truncate(h->log, 0);
}

static void harness_clear(struct harness *h)
{
	imap_client_destroy(h->client);
	g_string_free(h->log, TRUE);
	recorder_clear(&h->rec);
	current = NULL;
}

/* A6: what a tagged NO means for retries, by its response code. */
static void test_failure_for_code(void)
{
	static const struct {
		const char *code;
		enum imap_failure failure;
	} cases[] = {
	    {NULL, IMAP_FAILURE_PERMANENT},
	    {"AUTHENTICATIONFAILED", IMAP_FAILURE_PERMANENT},
	    {"NONEXISTENT", IMAP_FAILURE_PERMANENT},
	    {"EXPIRED", IMAP_FAILURE_PERMANENT},
	    {"PRIVACYREQUIRED", IMAP_FAILURE_PERMANENT},
	    {"UNAVAILABLE", IMAP_FAILURE_RESOURCE},
	    {"LIMIT", IMAP_FAILURE_RESOURCE},
	    {"INUSE", IMAP_FAILURE_RESOURCE},
	    {"OVERQUOTA", IMAP_FAILURE_RESOURCE},
	    {"SERVERBUG", IMAP_FAILURE_TRANSIENT},
	    {"X-UNKNOWN", IMAP_FAILURE_PERMANENT},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_assert_cmpint(imap_failure_for_code(cases[i].code), ==, cases[i].failure);
	}
	/* Limits said in words only. */
	g_assert_cmpint(
	    imap_failure_for_reply(NULL, "Too many simultaneous connections. (Failure)"), ==,
	    IMAP_FAILURE_RESOURCE);
	g_assert_cmpint(imap_failure_for_reply(NULL, "Maximum number of connections from user+IP "
	                                             "exceeded"),
	                ==, IMAP_FAILURE_RESOURCE);
	g_assert_cmpint(imap_failure_for_reply(NULL, "Invalid credentials (Failure)"), ==,
	                IMAP_FAILURE_PERMANENT);
	g_assert_cmpint(imap_failure_for_reply("AUTHENTICATIONFAILED", "too many connections"), ==,
	                IMAP_FAILURE_PERMANENT);
}

/* The greeting is read for its capabilities before anyone asks. */
static void test_greeting_capabilities(void)
{
	struct harness h;

	harness_init(&h);
	g_assert_true(imap_client_caps_known(h.client));
	g_assert_true(imap_client_has_cap(h.client, IMAP_CAP_IDLE));
	g_assert_false(imap_client_has_cap(h.client, IMAP_CAP_QRESYNC));
	g_autofree char *caps = imap_client_describe_capabilities(h.client);
	g_assert_cmpstr(caps, ==, "IMAP4REV1 STARTTLS IDLE");
	harness_clear(&h);
}

/* Several commands outstanding: each reply reaches the command it answers,
 * whatever the order; a reply to no command is dropped. */
static void test_pipelining(void)
{
	struct harness h;

	harness_init(&h);
	g_assert_false(imap_client_is_waiting(h.client));
	imap_client_command(h.client, "NOOP", NULL, reply_logged, "first");
	imap_client_command(h.client, "CHECK", NULL, reply_logged, "second");
	g_assert_cmpstr(h.rec.sent->str, ==, "A1 NOOP\r\nA2 CHECK\r\n");
	g_assert_true(imap_client_is_waiting(h.client));
	feed(&h, "* 3 EXISTS\r\nA2 OK done\r\nA9 OK stray\r\n");
	g_assert_true(imap_client_is_waiting(h.client));
	feed(&h, "A1 NO later\r\n");
	g_assert_false(imap_client_is_waiting(h.client));
	g_assert_cmpstr(h.log->str, ==,
	                "untagged EXISTS\nreply second A2 OK\nreply first A1 not-OK\n");
	harness_clear(&h);
}

/* I1/I3: IDLE is awaited until "+", not waited on while it runs, and awaited
 * again from DONE to its tagged reply. */
static void test_idle(void)
{
	struct harness h;

	harness_init(&h);
	imap_client_idle_done(h.client); /* nothing to end yet */
	g_assert_cmpstr(h.rec.sent->str, ==, "");
	imap_client_idle(h.client, reply_logged, "idle");
	g_assert_true(imap_client_is_waiting(h.client));
	g_assert_false(imap_client_is_idling(h.client));
	feed(&h, "* 1 EXPUNGE\r\n+ idling\r\n");
	g_assert_false(imap_client_is_waiting(h.client));
	g_assert_true(imap_client_is_idling(h.client));
	imap_client_idle_done(h.client);
	g_assert_cmpstr(h.rec.sent->str, ==, "A1 IDLE\r\nDONE\r\n");
	g_assert_true(imap_client_is_waiting(h.client));
	feed(&h, "A1 OK done\r\n");
	g_assert_false(imap_client_is_waiting(h.client));
	g_assert_cmpstr(h.log->str, ==, "untagged EXPUNGE\ncontinuation\nreply idle A1 OK\n");
	harness_clear(&h);
}

/* I1: a server that refuses IDLE answers with a tagged reply at once. */
static void test_idle_refused(void)
{
	struct harness h;

	harness_init(&h);
	imap_client_idle(h.client, reply_logged, "idle");
	feed(&h, "A1 BAD no idle here\r\n");
	g_assert_false(imap_client_is_waiting(h.client));
	g_assert_false(imap_client_is_idling(h.client));
	g_assert_cmpstr(h.log->str, ==, "reply idle A1 not-OK\n");
	harness_clear(&h);
}

/* A flood of untagged responses for one command ends the connection; the
 * count starts again with every completed command. */
static void test_untagged_limit(void)
{
	struct harness h;
	g_autoptr(GString) flood = g_string_new(NULL);

	harness_init(&h);
	for (unsigned i = 0; i < IMAP_CLIENT_UNTAGGED_LIMIT; i++) {
		g_string_append(flood, "* OK x\r\n");
	}
	imap_client_command(h.client, "NOOP", NULL, reply_logged, "noop");
	imap_client_feed(h.client, flood->str, flood->len);
	feed(&h, "A1 OK done\r\n");
	g_assert_true(g_str_has_suffix(h.log->str, "reply noop A1 OK\n"));
	imap_client_feed(h.client, flood->str, flood->len);
	g_assert_false(imap_client_is_stopped(h.client));
	feed(&h, "* OK one too many\r\n");
	g_assert_true(imap_client_is_stopped(h.client));
	g_assert_true(g_str_has_suffix(h.log->str,
	                               "failed transient: server sent more than 100000 responses "
	                               "without completing a command; closing the connection\n"));
	harness_clear(&h);
}

/* S3/S4: STARTTLS's OK starts TLS only when nothing follows it; the
 * plaintext capabilities are forgotten. */
static void test_starttls(void)
{
	struct harness h;

	harness_init(&h);
	imap_client_starttls(h.client, tls_ready, reply_logged, &h);
	g_assert_true(imap_client_is_waiting(h.client));
	feed(&h, "A1 OK begin TLS\r\n");
	g_assert_cmpint(h.rec.start_tls_calls, ==, 1);
	g_assert_false(imap_client_caps_known(h.client));
	g_assert_false(imap_client_has_cap(h.client, IMAP_CAP_IDLE));
	g_assert_true(imap_client_is_waiting(h.client)); /* the handshake is awaited */
	g_assert_false(imap_client_is_tls(h.client));
	imap_client_tls_ready(h.client);
	g_assert_cmpuint(h.tls_ready, ==, 1);
	g_assert_true(imap_client_is_tls(h.client));
	g_assert_false(imap_client_is_waiting(h.client));
	g_assert_cmpstr(h.log->str, ==, "");
	harness_clear(&h);

	/* Bytes in the same read as the OK: an injection. */
	harness_init(&h);
	imap_client_starttls(h.client, tls_ready, reply_logged, &h);
	feed(&h, "A1 OK begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n");
	g_assert_cmpint(h.rec.start_tls_calls, ==, 0);
	g_assert_true(g_str_has_prefix(h.log->str, "failed permanent: server sent data after "
	                                           "accepting STARTTLS"));
	harness_clear(&h);

	/* Refused: the refusal callback decides. */
	harness_init(&h);
	imap_client_starttls(h.client, tls_ready, reply_logged, "starttls");
	feed(&h, "A1 NO not now\r\n");
	g_assert_cmpint(h.rec.start_tls_calls, ==, 0);
	g_assert_cmpstr(h.log->str, ==, "reply starttls A1 not-OK\n");
	harness_clear(&h);

	/* S1: "+" to STARTTLS is no answer at all. */
	harness_init(&h);
	imap_client_starttls(h.client, tls_ready, reply_logged, &h);
	feed(&h, "+ go ahead\r\n");
	g_assert_true(g_str_has_prefix(h.log->str, "failed permanent: server answered STARTTLS "
	                                           "with a continuation request"));
	harness_clear(&h);
}

/* P7/A6: the close after a BYE says why, and [UNAVAILABLE] means "later". */
static void test_close_after_bye(void)
{
	struct harness h;

	harness_init(&h);
	feed(&h, "* BYE [UNAVAILABLE] maintenance\r\n");
	imap_client_transport_closed(h.client, IMAP_FAILURE_TRANSIENT, "EOF");
	imap_client_transport_closed(h.client, IMAP_FAILURE_TRANSIENT, "EOF");
	g_assert_cmpstr(h.log->str, ==,
	                "untagged status\n"
	                "failed resource: server closed the connection: maintenance\n");
	harness_clear(&h);

	harness_init(&h);
	imap_client_transport_closed(h.client, IMAP_FAILURE_PERMANENT, "certificate expired");
	g_assert_cmpstr(h.log->str, ==, "failed permanent: certificate expired\n");
	harness_clear(&h);
}

/* Once stopped: nothing is sent, parsed or called back. */
static void test_stopped(void)
{
	struct harness h;

	harness_init(&h);
	imap_client_command(h.client, "NOOP", NULL, reply_logged, "noop");
	imap_client_stop(h.client);
	g_assert_false(imap_client_is_waiting(h.client));
	imap_client_command(h.client, "CHECK", NULL, reply_logged, "check");
	imap_client_send_raw(h.client, "DONE\r\n", 6, NULL);
	feed(&h, "A1 OK done\r\n* 1 EXISTS\r\n");
	imap_client_fail(h.client, IMAP_FAILURE_TRANSIENT, "late");
	g_assert_cmpstr(h.rec.sent->str, ==, "A1 NOOP\r\n");
	g_assert_cmpstr(h.log->str, ==, "");
	harness_clear(&h);
}

/* Secrets never reach the trace: the redacted text stands in for them. */
static void test_trace_redacted(void)
{
	struct harness h;

	harness_init(&h);
	g_string_truncate(h.rec.trace, 0);
	imap_client_command(h.client, "LOGIN alice s3cret", "LOGIN <redacted>", reply_logged,
	                    "login");
	imap_client_send_raw(h.client, "dG9rZW4=\r\n", 10, "<redacted>");
	feed(&h, "A1 OK in\r\n");
	g_assert_cmpstr(h.rec.sent->str, ==, "A1 LOGIN alice s3cret\r\ndG9rZW4=\r\n");
	g_assert_cmpstr(h.rec.trace->str, ==,
	                "C: A1 LOGIN <redacted>\nC: <redacted>\nS: A1 OK in\n");
	harness_clear(&h);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap-client/failure-for-code", test_failure_for_code);
	g_test_add_func("/imap-client/greeting-capabilities", test_greeting_capabilities);
	g_test_add_func("/imap-client/pipelining", test_pipelining);
	g_test_add_func("/imap-client/idle", test_idle);
	g_test_add_func("/imap-client/idle-refused", test_idle_refused);
	g_test_add_func("/imap-client/untagged-limit", test_untagged_limit);
	g_test_add_func("/imap-client/starttls", test_starttls);
	g_test_add_func("/imap-client/close-after-bye", test_close_after_bye);
	g_test_add_func("/imap-client/stopped", test_stopped);
	g_test_add_func("/imap-client/trace-redacted", test_trace_redacted);
	return g_test_run();
}
