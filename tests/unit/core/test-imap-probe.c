/* SPDX-License-Identifier: MIT */
/*
 * Transcript tests for the doctor's probe session: server bytes in, the
 * exact client bytes expected out, fed whole and one byte at a time. The
 * probe must never send anything that changes a mailbox or selects one
 * read-write.
 */
#include "imapwatch/core/imap-probe.h"

#include <glib.h>
#include <string.h>

#define PLAIN_IR "AGFsaWNlAHMzY3JldA==" /* base64("\0alice\0s3cret") */

struct step {
	const char *server; /* bytes the server sends, or <CLOSE> */
	const char *client; /* exact bytes the client must have sent after it */
};

struct harness {
	GString *sent;
	GString *all_sent;
	unsigned finished;
	struct config_account account;
	struct imap_client_io io;
	struct imap_client *client;
};

static void h_send(const char *data, size_t len, void *user_data)
{
	struct harness *h = user_data;

	g_string_append_len(h->sent, data, len);
	g_string_append_len(h->all_sent, data, len);
}

static void h_start_tls(void *user_data)
{
	(void)user_data;
	g_assert_not_reached();
}

static void h_finished(void *user_data)
{
	struct harness *h = user_data;

	h->finished++;
}

static const struct imap_probe_ops ops = {
    .finished = h_finished,
};

static void assert_read_only(const char *sent)
{
	static const char *const forbidden[] = {" SELECT ", "STORE",  "EXPUNGE", "CLOSE",
	                                        "COPY",     "MOVE",   "APPEND",  "DELETE",
	                                        "CREATE",   "RENAME", "BODY["};
	g_autofree char *upper = g_ascii_strup(sent, -1);

	for (size_t j = 0; j < G_N_ELEMENTS(forbidden); j++) {
		g_assert_null(strstr(upper, forbidden[j]));
	}
}

/* Runs the steps; returns the probe for the caller to inspect. */
static struct imap_probe *run(const struct step *steps, const char *const *folders,
                              bool stop_after_greeting, bool bytewise, struct harness *h)
{
	h->account = (struct config_account){
	    .name = "test",
	    .security = CONFIG_SECURITY_TLS,
	    .auth = CONFIG_AUTH_AUTO,
	    .username = "alice",
	};
	struct imap_probe_config config = {
	    .account = &h->account,
	    .password = "s3cret",
	    .folders = folders,
	    .stop_after_greeting = stop_after_greeting,
	};
	h->io = (struct imap_client_io){.send = h_send, .start_tls = h_start_tls, .user_data = h};
	h->client = imap_client_create(h->account.name, false, &h->io);
	h->sent = g_string_new(NULL);
	h->all_sent = g_string_new(NULL);
	h->finished = 0;

	struct imap_probe *p = imap_probe_create(h->client, &config, &ops, h);
	for (const struct step *s = steps; s->server != NULL; s++) {
		if (strcmp(s->server, "<CLOSE>") == 0) {
			imap_client_transport_closed(h->client, IMAP_FAILURE_TRANSIENT, "closed");
		} else if (bytewise) {
			for (size_t i = 0; s->server[i] != '\0'; i++) {
				imap_client_feed(h->client, &s->server[i], 1);
			}
		} else {
			imap_client_feed(h->client, s->server, strlen(s->server));
		}
		g_assert_cmpstr(h->sent->str, ==, s->client);
		g_string_truncate(h->sent, 0);
	}
	assert_read_only(h->all_sent->str);
	return p;
}

static void harness_clear(struct harness *h)
{
	g_string_free(h->sent, TRUE);
	g_string_free(h->all_sent, TRUE);
	imap_client_destroy(h->client);
}

static const struct step full_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=login ID] hi\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK [CAPABILITY IMAP4rev1 IDLE CONDSTORE QRESYNC ID] in\r\n",
     "A2 " IMAP_CLIENT_ID_COMMAND "\r\n"},
    {"* ID NIL\r\nA2 OK\r\n", "A3 LIST \"\" \"*\"\r\n"},
    {"* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
     "* LIST (\\HasNoChildren) \"/\" \"&AMQ-rger\"\r\n"
     "* LIST (\\Noselect \\HasChildren) \"/\" Lists\r\n"
     "* LIST (\\HasNoChildren) \"/\" {9}\r\nLists/dev\r\n"
     "* LIST (\\NonExistent) \"/\" Gone\r\n"
     "A3 OK done\r\n",
     "A4 EXAMINE inbox\r\n"},
    {"* 3 EXISTS\r\n* OK [UIDVALIDITY 77] ok\r\nA4 OK [READ-ONLY] done\r\n",
     "A5 EXAMINE &AMQ-rger\r\n"},
    {"A5 NO [NOPERM] not for you\r\n", "A6 LOGOUT\r\n"},
    {"* BYE bye\r\n", ""},
    {"<CLOSE>", ""},
    {NULL, NULL},
};

static void test_full(gconstpointer data)
{
	static const char *const folders[] = {"inbox", "Ärger",      "Lists",
	                                      "Gone",  "Lists/dev2", NULL};
	struct harness h;
	g_autoptr(imap_probe) p = run(full_steps, folders, false, GPOINTER_TO_INT(data), &h);

	g_assert_cmpuint(h.finished, ==, 1);
	g_assert_null(imap_probe_get_error(p));
	g_assert_true(imap_probe_was_greeted(p));
	g_assert_true(imap_probe_is_authenticated(p));
	g_assert_true(imap_probe_has_list(p));

	g_assert_cmpstr(imap_client_get_auth_mechanisms(h.client), ==, "PLAIN LOGIN");
	g_assert_true(imap_client_has_cap(h.client, IMAP_CAP_IDLE));
	g_assert_true(imap_client_has_cap(h.client, IMAP_CAP_QRESYNC));
	g_assert_false(imap_client_has_cap(h.client, IMAP_CAP_NOTIFY));
	g_assert_false(imap_probe_credentials_rejected(p));

	size_t n = 0;
	const char *const *names = imap_probe_get_mailboxes(p, &n);
	g_assert_cmpuint(n, ==, 4);
	g_assert_cmpstr(names[0], ==, "INBOX");
	g_assert_cmpstr(names[1], ==, "Ärger");
	g_assert_cmpstr(names[2], ==, "Lists");
	g_assert_cmpstr(names[3], ==, "Lists/dev");
	g_assert_null(names[4]);
	g_assert_cmpint(imap_probe_get_separator(p), ==, '/');

	g_assert_cmpuint(imap_probe_get_n_folders(p), ==, 5);
	const struct imap_probe_folder *inbox = imap_probe_get_folder(p, 0);
	g_assert_true(inbox->listed && inbox->examined && !inbox->noselect);
	g_assert_cmpuint(inbox->exists, ==, 3);
	g_assert_cmpuint(inbox->uidvalidity, ==, 77);
	const struct imap_probe_folder *aerger = imap_probe_get_folder(p, 1);
	g_assert_true(aerger->listed && !aerger->examined);
	g_assert_cmpstr(aerger->error, ==, "not for you");
	const struct imap_probe_folder *lists = imap_probe_get_folder(p, 2);
	g_assert_true(lists->listed && lists->noselect && !lists->examined);
	g_assert_false(imap_probe_get_folder(p, 3)->listed); /* \NonExistent */
	g_assert_false(imap_probe_get_folder(p, 4)->listed);
	harness_clear(&h);
}

static const struct step rejected_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n", "A1 AUTHENTICATE PLAIN\r\n"},
    {"+ \r\n", PLAIN_IR "\r\n"},
    {"A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", ""},
    {NULL, NULL},
};

static void test_rejected(gconstpointer data)
{
	struct harness h;
	g_autoptr(imap_probe) p = run(rejected_steps, NULL, false, GPOINTER_TO_INT(data), &h);

	g_assert_cmpuint(h.finished, ==, 1);
	g_assert_true(imap_probe_was_greeted(p));
	g_assert_false(imap_probe_is_authenticated(p));
	g_assert_true(imap_probe_credentials_rejected(p));
	g_assert_nonnull(strstr(imap_probe_get_error(p), "Authentication failed."));
	g_assert_false(imap_probe_has_list(p));
	harness_clear(&h);
}

/* [UNAVAILABLE] is temporary: not a verdict on the password (A6). */
static const struct step unavailable_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 NO [UNAVAILABLE] try later\r\n", ""},
    {NULL, NULL},
};

static void test_unavailable(void)
{
	struct harness h;
	g_autoptr(imap_probe) p = run(unavailable_steps, NULL, false, false, &h);

	g_assert_cmpuint(h.finished, ==, 1);
	g_assert_false(imap_probe_credentials_rejected(p));
	g_assert_nonnull(imap_probe_get_error(p));
	harness_clear(&h);
}

static const struct step greeting_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2] hi\r\n", ""},
    {NULL, NULL},
};

static void test_stop_after_greeting(void)
{
	struct harness h;
	g_autoptr(imap_probe) p = run(greeting_steps, NULL, true, false, &h);

	g_assert_cmpuint(h.finished, ==, 1);
	g_assert_true(imap_probe_was_greeted(p));
	g_assert_null(imap_probe_get_error(p));
	g_assert_cmpstr(h.all_sent->str, ==, "");
	g_assert_cmpstr(imap_client_get_auth_mechanisms(h.client), ==, "PLAIN XOAUTH2");
	harness_clear(&h);
}

static const struct step dropped_steps[] = {
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n",
     "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},
    {"A1 OK in\r\n", "A2 CAPABILITY\r\n"},
    {"* CAPABILITY IMAP4rev1\r\nA2 OK\r\n", "A3 LIST \"\" \"*\"\r\n"},
    {"* LIST () \"/\" INBOX\r\n", ""},
    {"<CLOSE>", ""},
    {NULL, NULL},
};

static void test_dropped_during_list(void)
{
	static const char *const folders[] = {"INBOX", NULL};
	struct harness h;
	g_autoptr(imap_probe) p = run(dropped_steps, folders, false, false, &h);

	g_assert_cmpuint(h.finished, ==, 1);
	g_assert_true(imap_probe_is_authenticated(p));
	g_assert_false(imap_probe_has_list(p));
	g_assert_cmpstr(imap_probe_get_error(p), ==, "closed");
	g_assert_false(imap_probe_get_folder(p, 0)->examined);
	harness_clear(&h);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/imap-probe/full/whole", GINT_TO_POINTER(0), test_full);
	g_test_add_data_func("/imap-probe/full/bytewise", GINT_TO_POINTER(1), test_full);
	g_test_add_data_func("/imap-probe/rejected/whole", GINT_TO_POINTER(0), test_rejected);
	g_test_add_data_func("/imap-probe/rejected/bytewise", GINT_TO_POINTER(1), test_rejected);
	g_test_add_func("/imap-probe/unavailable", test_unavailable);
	g_test_add_func("/imap-probe/stop-after-greeting", test_stop_after_greeting);
	g_test_add_func("/imap-probe/dropped-during-list", test_dropped_during_list);
	return g_test_run();
}
