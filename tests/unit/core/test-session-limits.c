/* SPDX-License-Identifier: MIT */
/*
 * The session's limits on what a server sends (session-harness.h): an
 * EXISTS the sequence map cannot hold, untagged responses without end,
 * and more new messages than one burst.
 */
#include "session-harness.h"

#include <string.h>

/* A count the sequence map cannot hold is a protocol violation, not an
 * allocation of 48 GB. */
static const struct step exists_limit_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 IDLE] in\r\n", "A2 EXAMINE INBOX\r\n"},
    {"* 0 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA2 OK done\r\n", "A3 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 10000000 EXISTS\r\n", "DONE\r\n"},
    {"* 4000000000 EXISTS\r\n", ""},
    {NULL, NULL},
};

static const struct transcript exists_limit = {
    .name = "exists-limit",
    .security = CONFIG_SECURITY_TLS,
    .steps = exists_limit_steps,
    .events = "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n",
    .outcome = "failed:transient:server announced 4000000000 messages in folder 'INBOX', more "
               "than the 10000000 imapwatch accepts",
};
/* --- limits with generated input --------------------------------------- */

static void feed_str(struct harness *h, const char *data)
{
	imap_client_feed(h->wire.client, data, strlen(data));
}

/* A session idling on a folder of count messages, all seen. */
static struct mailbox *limits_start(struct harness *h, unsigned count)
{
	struct mailbox *mailbox = mailbox_create("work", "INBOX", session_harness_sink, h);

	session_harness_init(h, CONFIG_SECURITY_TLS, CONFIG_AUTH_AUTO);
	struct imap_session_params params = {
	    .account = &h->wire.account,
	    .password = "s3cret pass",
	    .home = mailbox,
	};
	h->session = imap_session_create(h->wire.client, &params, &session_harness_ops, h);
	feed_str(h, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n"
	            "A1 OK [CAPABILITY IMAP4rev1 IDLE] in\r\n");
	g_autofree char *examine =
	    g_strdup_printf("* %u EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA2 OK done\r\n", count);
	feed_str(h, examine);
	if (count > 0) {
		g_assert_true(
		    g_str_has_suffix(h->rec.sent->str, "A3 UID FETCH 1:* (UID FLAGS)\r\n"));
		/* One FETCH a message: more than IMAP_CLIENT_UNTAGGED_LIMIT
		 * responses for one command when the folder is large. */
		g_autoptr(GString) listing = g_string_new(NULL);
		for (unsigned i = 1; i <= count; i++) {
			g_string_append_printf(listing, "* %u FETCH (UID %u FLAGS (\\Seen))\r\n", i,
			                       i);
		}
		g_string_append(listing, "A3 OK done\r\n");
		imap_client_feed(h->wire.client, listing->str, listing->len);
	}
	g_assert_null(h->rec.outcome);
	g_assert_true(g_str_has_suffix(h->rec.sent->str, " IDLE\r\n"));
	feed_str(h, "+ idling\r\n");
	g_assert_cmpint(imap_session_get_state(h->session), ==, WATCH_STATE_IDLE);
	g_assert_true(imap_client_is_idling(h->wire.client));
	g_assert_false(imap_client_is_waiting(h->wire.client));
	return mailbox;
}

/* Keepalives one beyond the limit close the connection; the limit itself is
 * accepted. */
static void flood_check(unsigned count, size_t limit)
{
	struct harness h;
	struct mailbox *mailbox = limits_start(&h, count);
	static const char line[] = "* OK still here\r\n";
	g_autoptr(GString) flood = g_string_new(NULL);

	for (size_t i = 0; i < limit; i++) {
		g_string_append(flood, line);
	}
	imap_client_feed(h.wire.client, flood->str, flood->len);
	g_assert_null(h.rec.outcome);
	feed_str(&h, line);
	g_autofree char *expected = g_strdup_printf(
	    "failed:transient:server sent more than %zu responses without completing a command",
	    limit);
	g_assert_nonnull(h.rec.outcome);
	g_assert_true(g_str_has_prefix(h.rec.outcome, expected));
	session_harness_finish(&h, mailbox);
}

static void test_untagged_flood(void)
{
	flood_check(0, IMAP_CLIENT_UNTAGGED_LIMIT);
}

static void test_untagged_limit_follows_exists(void)
{
	/* The listing of a large folder is not a flood; the limit grows with
	 * the folder. */
	unsigned count = IMAP_CLIENT_UNTAGGED_LIMIT + 50000;

	flood_check(count,
	            IMAP_CLIENT_UNTAGGED_LIMIT + (size_t)count * IMAP_SESSION_UNTAGGED_PER_MESSAGE);
}

/* The tag of the last command the client sent ("A5 UID FETCH ..." → "A5"). */
static char *last_tag(const struct harness *h)
{
	g_auto(GStrv) lines = g_strsplit(h->rec.sent->str, "\r\n", -1);
	guint n = g_strv_length(lines);

	g_assert_cmpuint(n, >=, 2);
	return g_strndup(lines[n - 2], strcspn(lines[n - 2], " "));
}

/* More new messages than one burst: reported in bursts, each fetch starting
 * above the last one reported. */
static void test_new_in_bursts(void)
{
	struct harness h;
	struct mailbox *mailbox = limits_start(&h, 1);
	const unsigned total = MAILBOX_MAX_PENDING + 500;

	g_autofree char *idle_tag = last_tag(&h);
	g_autofree char *exists = g_strdup_printf("* %u EXISTS\r\n", total + 1);
	feed_str(&h, exists);
	g_assert_true(g_str_has_suffix(h.rec.sent->str, "DONE\r\n"));
	g_string_truncate(h.rec.sent, 0);
	g_autofree char *idle_done = g_strdup_printf("%s OK done\r\n", idle_tag);
	feed_str(&h, idle_done);
	g_assert_true(g_str_has_prefix(strchr(h.rec.sent->str, ' '), " UID FETCH 2:* "));

	for (unsigned round = 0; round < 2; round++) {
		g_autofree char *tag = last_tag(&h);
		g_autoptr(GString) reply = g_string_new(NULL);

		for (unsigned uid = total + 1; uid >= 2; uid--) {
			g_string_append_printf(reply,
			                       "* %u FETCH (UID %u FLAGS () BODY[HEADER.FIELDS "
			                       "(SUBJECT)] {14}\r\nSubject: x\r\n\r\n)\r\n",
			                       uid, uid);
		}
		g_string_append_printf(reply, "%s OK done\r\n", tag);
		g_string_truncate(h.rec.sent, 0);
		imap_client_feed(h.wire.client, reply->str, reply->len);
		g_assert_null(h.rec.outcome);
		if (round == 0) {
			g_autofree char *next =
			    g_strdup_printf(" UID FETCH %u:* ", MAILBOX_MAX_PENDING + 2);
			g_assert_true(g_str_has_prefix(strchr(h.rec.sent->str, ' '), next));
		} else {
			g_assert_true(g_str_has_suffix(h.rec.sent->str, " IDLE\r\n"));
		}
	}
	g_assert_cmpuint(mailbox_get_watermark(mailbox), ==, total + 1);
	session_harness_finish(&h, mailbox);
}

int main(int argc, char **argv)
{
	static const struct transcript *const all[] = {
	    &exists_limit,
	};

	g_test_init(&argc, &argv, NULL);
	session_add_transcripts(all, G_N_ELEMENTS(all));
	g_test_add_func("/session/limits/untagged-flood", test_untagged_flood);
	g_test_add_func("/session/limits/untagged-limit-follows-exists",
	                test_untagged_limit_follows_exists);
	g_test_add_func("/session/limits/new-in-bursts", test_new_in_bursts);
	return g_test_run();
}
