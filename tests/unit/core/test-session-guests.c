/* SPDX-License-Identifier: MIT */
/*
 * Transcripts of a session with guests: NOTIFY (the baseline STATUS, pushed
 * STATUS and FETCH, overflow, refusal, a folder the server leaves out),
 * polling with a STATUS pass, visits and the way home, a guest that cannot
 * be selected, and the LIST pass that names the folders. Server bytes in,
 * the exact client bytes out, and the watch events; each step fed whole,
 * then one byte at a time — except steps marked together, which a server
 * sends in one piece and which are always fed whole (NOTIFY's EXISTS with
 * its FETCH).
 */
#include "imapwatch/core/imap-session.h"

#include "transcript.h"

#include <glib.h>
#include <string.h>

#define PLAIN_IR "AGFsaWNlAHMzY3JldCBwYXNz" /* base64("\0alice\0s3cret pass") */
#define HEADER_ITEMS                                                                               \
	"(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE "          \
	"MESSAGE-ID)])"
#define NOTIFY_SET                                                                                 \
	"NOTIFY SET STATUS (selected (MessageNew " HEADER_ITEMS " MessageExpunge FlagChange)) "    \
	"(mailboxes (INBOX Work) (MessageNew MessageExpunge FlagChange))"
#define CAPS "IMAP4rev1 IDLE ENABLE QRESYNC CONDSTORE ESEARCH UIDPLUS"

struct gstep {
	const char *server; /* bytes, or <POLL>, <DROP> (no guests any more), <CLOSE> */
	const char *client;
	bool together; /* fed whole in both runs */
};

struct gtranscript {
	const char *name;
	const char *caps;        /* after login */
	const char *const *list; /* entries to LIST, or NULL (home INBOX, guest Work) */
	bool no_notify;          /* allow_notify = false */
	const struct gstep *steps;
	const char *events;  /* JSON lines of the message events (new, changed, removed, reset) */
	const char *log;     /* guests_changed, listed and guest_failed, a line each */
	const char *outcome; /* NULL: still running */
};

struct harness {
	struct transcript_recorder rec; /* first: the recorder callbacks take the harness */
	struct transcript_wire wire;
	GString *events;
	GString *log;
	struct mailbox *inbox;
	struct mailbox *work;
	struct imap_session *session;
};

static void sink(const struct watch_event *event, void *user_data)
{
	struct harness *h = user_data;

	if (event->type == WATCH_EVENT_UNSEEN || event->type == WATCH_EVENT_STATE) {
		return;
	}
	g_autofree char *json = watch_event_to_json(event);
	g_string_append_printf(h->events, "%s\n", json);
}

static void h_state(enum watch_state state, void *user_data)
{
	(void)state;
	(void)user_data;
}

static void h_guests(enum imap_session_guests mode, const char *reason, void *user_data)
{
	struct harness *h = user_data;
	static const char *const names[] = {"none", "notify", "poll"};

	g_string_append_printf(h->log, "guests %s%s%s\n", names[mode], reason != NULL ? ": " : "",
	                       reason != NULL ? reason : "");
}

static void h_listed(const struct imap_session_listed *entries, size_t n, void *user_data)
{
	struct harness *h = user_data;

	g_string_append(h->log, "listed");
	for (size_t i = 0; i < n; i++) {
		g_string_append_printf(h->log, " %s%s%s%s%s", entries[i].name,
		                       entries[i].special_use != NULL ? "=" : "",
		                       entries[i].special_use != NULL ? entries[i].special_use : "",
		                       entries[i].foreign != NULL ? "@" : "",
		                       entries[i].foreign != NULL ? entries[i].foreign : "");
	}
	g_string_append_c(h->log, '\n');
	/* The owner's choice: every listed folder but INBOX is a guest. */
	imap_session_set_home(h->session, h->inbox);
	imap_session_set_guests(h->session, &h->work, 1);
}

static void h_guest_failed(struct mailbox *guest, const char *message, void *user_data)
{
	struct harness *h = user_data;

	g_string_append_printf(h->log, "guest failed %s: %s\n", mailbox_get_folder(guest), message);
}

static const struct imap_session_ops ops = {
    .state_changed = h_state,
    .guests_changed = h_guests,
    .listed = h_listed,
    .guest_failed = h_guest_failed,
    .failed = recorder_failed,
    .finished = recorder_finished,
};

static void run(const struct gtranscript *t, bool byte_by_byte)
{
	struct harness h = {.events = g_string_new(NULL), .log = g_string_new(NULL)};

	recorder_init(&h.rec);
	transcript_wire_init(&h.wire, &h.rec, CONFIG_SECURITY_TLS, CONFIG_AUTH_AUTO);
	h.inbox = mailbox_create("work", "INBOX", sink, &h);
	h.work = mailbox_create("work", "Work", sink, &h);
	struct imap_session_params params = {
	    .account = &h.wire.account,
	    .password = "s3cret pass",
	    .home = t->list != NULL ? NULL : h.inbox,
	    .list = t->list,
	    .allow_notify = !t->no_notify,
	};
	h.session = imap_session_create(h.wire.client, &params, &ops, &h);
	if (t->list == NULL) {
		imap_session_set_guests(h.session, &h.work, 1);
	}
	/* A step list is a struct step list with one more field: check by
	 * hand, as transcript_check_step() does. */
	for (const struct gstep *s = t->steps; s->server != NULL; s++) {
		if (strcmp(s->server, "<POLL>") == 0) {
			imap_session_poll(h.session);
		} else if (strcmp(s->server, "<DROP>") == 0) {
			imap_session_set_guests(h.session, NULL, 0);
		} else if (!transcript_wire_step(&h.wire, &h.rec, s->server)) {
			transcript_feed(transcript_client_feed, h.wire.client, s->server,
			                byte_by_byte && !s->together);
		}
		if (g_strcmp0(h.rec.sent->str, s->client) != 0) {
			g_error(
			    "%s (%s), step %zd: after server\n%s\nexpected client\n%s\ngot\n%s\n"
			    "outcome: %s\nlog:\n%s",
			    t->name, byte_by_byte ? "byte by byte" : "whole", s - t->steps,
			    s->server, s->client, h.rec.sent->str, h.rec.outcome, h.log->str);
		}
		g_string_truncate(h.rec.sent, 0);
	}
	g_assert_cmpstr(h.events->str, ==, t->events);
	g_assert_cmpstr(h.log->str, ==, t->log);
	transcript_check_outcome(&h.rec, t->name, t->outcome);
	g_assert_null(strstr(h.rec.all_sent->str, " SELECT "));
	g_assert_null(strstr(h.rec.all_sent->str, "STORE"));

	imap_session_destroy(h.session);
	transcript_wire_clear(&h.wire);
	mailbox_destroy(h.inbox);
	mailbox_destroy(h.work);
	g_string_free(h.events, TRUE);
	g_string_free(h.log, TRUE);
	recorder_clear(&h.rec);
}

static void test_transcript(gconstpointer data)
{
	run(data, false);
	run(data, true);
}

#define LOGIN_STEPS(caps)                                                                          \
	{"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n",                                  \
	 "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n", false},                                         \
	{                                                                                          \
		"A1 OK [CAPABILITY " caps "] in\r\n", "A2 ENABLE QRESYNC\r\n", false               \
	}

#define EXAMINE_EMPTY(tag, uidvalidity)                                                            \
	"* FLAGS (\\Seen)\r\n* 0 EXISTS\r\n* OK [UIDVALIDITY " #uidvalidity "] x\r\n"              \
	"* OK [UIDNEXT 1] x\r\n* OK [HIGHESTMODSEQ 1] x\r\n" tag " OK [READ-ONLY] done\r\n"

#define NEW_WORK_FETCH                                                                             \
	"* 1 FETCH (UID 1 FLAGS () INTERNALDATE \"01-Jan-2026 10:00:00 +0000\" RFC822.SIZE 9 "     \
	"BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)] {39}\r\n"                              \
	"From: a@example.com\r\nSubject: hello\r\n\r\n)\r\n"

/* NOTIFY: the baseline STATUS of every folder, INBOX selected, Work
 * visited once and left, IDLE; then Work changes (a pushed STATUS): it is
 * visited and its new mail reported; then INBOX gets mail pushed with its
 * header: reported without a fetch, and the IDLE goes on. */
static const struct gstep notify_steps[] = {
    LOGIN_STEPS(CAPS " NOTIFY"),
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 " NOTIFY_SET "\r\n", false},
    {"* STATUS INBOX (MESSAGES 0 UIDNEXT 1)\r\n* STATUS Work (MESSAGES 0 UIDNEXT 1)\r\n"
     "A3 OK done\r\n",
     "A4 EXAMINE INBOX\r\n", false},
    {EXAMINE_EMPTY("A4", 7), "A5 EXAMINE Work\r\n", false},
    {"* OK [CLOSED] x\r\n" EXAMINE_EMPTY("A5", 9), "A6 EXAMINE INBOX (QRESYNC (7 1))\r\n", false},
    {"* OK [CLOSED] x\r\n" EXAMINE_EMPTY("A6", 7), "A7 IDLE\r\n", false},
    {"+ idling\r\n", "", false},
    {"* STATUS Work (MESSAGES 1 UIDNEXT 2 UNSEEN 1)\r\n", "DONE\r\n", false},
    {"A7 OK\r\n", "A8 EXAMINE Work (QRESYNC (9 1))\r\n", false},
    {"* OK [CLOSED] x\r\n* FLAGS (\\Seen)\r\n* 1 EXISTS\r\n* OK [UIDVALIDITY 9] x\r\n"
     "* OK [UIDNEXT 2] x\r\nA8 OK [READ-ONLY] done\r\n",
     "A9 UID FETCH 1:* " HEADER_ITEMS "\r\n", false},
    {NEW_WORK_FETCH "A9 OK\r\n", "A10 EXAMINE INBOX (QRESYNC (7 1))\r\n", false},
    {"* OK [CLOSED] x\r\n" EXAMINE_EMPTY("A10", 7), "A11 IDLE\r\n", false},
    {"+ idling\r\n", "", false},
    {"* 1 EXISTS\r\n* 1 FETCH (UID 1 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT DATE "
     "MESSAGE-ID)] {34}\r\nFrom: b@example.com\r\nSubject: hi\r\n)\r\n",
     "", true},
    {NULL, NULL, false},
};

static const struct gtranscript notify = {
    .name = "notify",
    .steps = notify_steps,
    .events = "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"Work\",\"uidvalidity\":9,"
              "\"uid\":1,\"id\":\"work/Work/9/1\",\"message_id\":\"\",\"from_name\":\"\","
              "\"from_addr\":\"a@example.com\",\"subject\":\"hello\",\"date\":1767261600,"
              "\"flags\":[],\"seen\":false}\n"
              "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\",\"uidvalidity\":7,"
              "\"uid\":1,\"id\":\"work/INBOX/7/1\",\"message_id\":\"\",\"from_name\":\"\","
              "\"from_addr\":\"b@example.com\",\"subject\":\"hi\",\"date\":0,\"flags\":[],"
              "\"seen\":false}\n",
    .log = "guests notify\n",
};

/* Without NOTIFY: the guest is visited once, then a STATUS pass at each
 * poll; a change makes a visit, no change none. */
static const struct gstep poll_steps[] = {
    LOGIN_STEPS(CAPS),
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 EXAMINE INBOX\r\n", false},
    {EXAMINE_EMPTY("A3", 7), "A4 EXAMINE Work\r\n", false},
    {"* OK [CLOSED] x\r\n" EXAMINE_EMPTY("A4", 9), "A5 EXAMINE INBOX (QRESYNC (7 1))\r\n", false},
    {"* OK [CLOSED] x\r\n" EXAMINE_EMPTY("A5", 7), "A6 IDLE\r\n", false},
    {"+ idling\r\n", "", false},
    {"<POLL>", "DONE\r\n", false},
    {"A6 OK\r\n", "A7 STATUS Work (MESSAGES UIDNEXT UNSEEN UIDVALIDITY HIGHESTMODSEQ)\r\n", false},
    {"* STATUS Work (MESSAGES 0 UIDNEXT 1 UNSEEN 0 UIDVALIDITY 9 HIGHESTMODSEQ 1)\r\nA7 OK\r\n",
     "A8 IDLE\r\n", false},
    {"+ idling\r\n", "", false},
    {"<POLL>", "DONE\r\n", false},
    {"A8 OK\r\n", "A9 STATUS Work (MESSAGES UIDNEXT UNSEEN UIDVALIDITY HIGHESTMODSEQ)\r\n", false},
    {"* STATUS Work (MESSAGES 1 UIDNEXT 2 UNSEEN 1 UIDVALIDITY 9 HIGHESTMODSEQ 2)\r\nA9 OK\r\n",
     "A10 EXAMINE Work (QRESYNC (9 1))\r\n", false},
    {NULL, NULL, false},
};

static const struct gtranscript poll = {
    .name = "poll",
    .caps = CAPS,
    .steps = poll_steps,
    .events = "",
    .log = "guests poll: the server does not offer NOTIFY\n",
};

/* NOTIFY refused ([BADEVENT]): polling, said once, nothing lost. */
static const struct gstep badevent_steps[] = {
    LOGIN_STEPS(CAPS " NOTIFY"),
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 " NOTIFY_SET "\r\n", false},
    {"A3 NO [BADEVENT (MessageNew MessageExpunge)] no FlagChange here\r\n", "A4 EXAMINE INBOX\r\n",
     false},
    {EXAMINE_EMPTY("A4", 7), "A5 EXAMINE Work\r\n", false},
    {NULL, NULL, false},
};

static const struct gtranscript badevent = {
    .name = "badevent",
    .steps = badevent_steps,
    .events = "",
    .log = "guests poll: the server refused NOTIFY BADEVENT: no FlagChange here\n",
};

/* A folder the server leaves out of NOTIFY's baseline would never be
 * reported: polling instead. */
static const struct gstep uncovered_steps[] = {
    LOGIN_STEPS(CAPS " NOTIFY"),
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 " NOTIFY_SET "\r\n", false},
    {"* STATUS INBOX (MESSAGES 0 UIDNEXT 1)\r\nA3 OK done\r\n", "A4 EXAMINE INBOX\r\n", false},
    {NULL, NULL, false},
};

static const struct gtranscript uncovered = {
    .name = "uncovered",
    .steps = uncovered_steps,
    .events = "",
    .log = "guests poll: the server's NOTIFY does not cover folder 'Work'\n",
};

/* NOTIFICATIONOVERFLOW while idling: polling from now on, and everything
 * selected again since what NOTIFY dropped is unknown. */
static const struct gstep overflow_steps[] = {
    LOGIN_STEPS(CAPS " NOTIFY"),
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 " NOTIFY_SET "\r\n", false},
    {"* STATUS INBOX (MESSAGES 0 UIDNEXT 1)\r\n* STATUS Work (MESSAGES 0 UIDNEXT 1)\r\n"
     "A3 OK done\r\n",
     "A4 EXAMINE INBOX\r\n", false},
    {EXAMINE_EMPTY("A4", 7), "A5 EXAMINE Work\r\n", false},
    {"* OK [CLOSED] x\r\n" EXAMINE_EMPTY("A5", 9), "A6 EXAMINE INBOX (QRESYNC (7 1))\r\n", false},
    {"* OK [CLOSED] x\r\n" EXAMINE_EMPTY("A6", 7), "A7 IDLE\r\n", false},
    {"+ idling\r\n", "", false},
    {"* OK [NOTIFICATIONOVERFLOW] too much\r\n", "DONE\r\n", false},
    {"A7 OK\r\n", "A8 EXAMINE INBOX (QRESYNC (7 1))\r\n", false},
    {"* OK [CLOSED] x\r\n" EXAMINE_EMPTY("A8", 7), "A9 EXAMINE Work (QRESYNC (9 1))\r\n", false},
    {NULL, NULL, false},
};

static const struct gtranscript overflow = {
    .name = "overflow",
    .steps = overflow_steps,
    .events = "",
    .log = "guests notify\n"
           "guests poll: the server stopped NOTIFY (NOTIFICATIONOVERFLOW)\n",
};

/* A guest deleted meanwhile: dropped, said, and home again. */
static const struct gstep refused_steps[] = {
    LOGIN_STEPS(CAPS),
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 EXAMINE INBOX\r\n", false},
    {EXAMINE_EMPTY("A3", 7), "A4 EXAMINE Work\r\n", false},
    {"A4 NO [NONEXISTENT] gone\r\n", "A5 EXAMINE INBOX (QRESYNC (7 1))\r\n", false},
    {EXAMINE_EMPTY("A5", 7), "A6 IDLE\r\n", false},
    {NULL, NULL, false},
};

static const struct gtranscript refused = {
    .name = "guest-refused",
    .steps = refused_steps,
    .events = "",
    .log = "guests poll: the server does not offer NOTIFY\n"
           "guest failed Work: cannot open folder 'Work': it does not exist on the server\n",
};

/* The owner drops a guest while its EXAMINE is under way, and the server
 * refuses it: not the session's failure, nor the guest's; home again. */
static const struct gstep dropped_steps[] = {
    LOGIN_STEPS(CAPS),
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 EXAMINE INBOX\r\n", false},
    {EXAMINE_EMPTY("A3", 7), "A4 EXAMINE Work\r\n", false},
    {"<DROP>", "", false},
    {"A4 NO [NONEXISTENT] gone\r\n", "A5 EXAMINE INBOX (QRESYNC (7 1))\r\n", false},
    {EXAMINE_EMPTY("A5", 7), "A6 IDLE\r\n", false},
    {NULL, NULL, false},
};

static const struct gtranscript dropped = {
    .name = "guest-dropped-while-opened",
    .steps = dropped_steps,
    .events = "",
    .log = "guests poll: the server does not offer NOTIFY\n",
};

/* The LIST pass: names and patterns, pipelined; the owner then names the
 * home and the guests. */
static const char *const entries[] = {"INBOX", "W*", NULL};
static const struct gstep list_steps[] = {
    LOGIN_STEPS(CAPS),
    {"* ENABLED QRESYNC\r\nA2 OK\r\n", "A3 LIST \"\" INBOX\r\nA4 LIST \"\" \"W*\"\r\n", false},
    {"* LIST (\\HasNoChildren) \"/\" INBOX\r\nA3 OK\r\n"
     "* LIST (\\HasNoChildren) \"/\" Work\r\n* LIST (\\Junk) \"/\" Waste\r\nA4 OK\r\n",
     "A5 EXAMINE INBOX\r\n", false},
    {NULL, NULL, false},
};

static const struct gtranscript list = {
    .name = "list",
    .list = entries,
    .steps = list_steps,
    .events = "",
    .log = "listed INBOX Work Waste=\\Junk\n"
           "guests poll: the server does not offer NOTIFY\n",
};

/* A pattern on a server with namespaces: NAMESPACE first (once per
 * connection), and each folder listed with the other users' or shared
 * namespace it is in; a second pass asks no more. */
static const char *const star[] = {"INBOX", "*", NULL};
static const struct gstep namespace_steps[] = {
    LOGIN_STEPS(CAPS " NAMESPACE"),
    {"* ENABLED QRESYNC\r\nA2 OK\r\n",
     "A3 NAMESPACE\r\nA4 LIST \"\" INBOX\r\nA5 LIST \"\" \"*\"\r\n", false},
    {"* NAMESPACE ((\"\" \"/\")) ((\"Users/\" \"/\")) ((\"Public/\" \"/\") (\"\" \"/\"))\r\n"
     "A3 OK\r\n* LIST () \"/\" INBOX\r\nA4 OK\r\n"
     "* LIST () \"/\" INBOX\r\n* LIST () \"/\" Work\r\n* LIST (\\Noselect) \"/\" Users\r\n"
     "* LIST () \"/\" Users/bob/Team\r\n* LIST () \"/\" Public/Support\r\nA5 OK\r\n",
     "A6 EXAMINE INBOX\r\n", false},
    {EXAMINE_EMPTY("A6", 7), "A7 EXAMINE Work\r\n", false},
    {EXAMINE_EMPTY("A7", 7), "A8 EXAMINE INBOX (QRESYNC (7 1))\r\n", false},
    {EXAMINE_EMPTY("A8", 7), "A9 IDLE\r\n", false},
    {"+ idling\r\n", "", false},
    {"<POLL>", "DONE\r\n", false},
    {"A9 OK\r\n", "A10 LIST \"\" INBOX\r\nA11 LIST \"\" \"*\"\r\n", false},
    {NULL, NULL, false},
};

static const struct gtranscript namespaces = {
    .name = "list-namespace",
    .list = star,
    .steps = namespace_steps,
    .events = "",
    .log = "listed INBOX Work Users Users/bob/Team@Users/ Public/Support@Public/\n"
           "guests poll: the server does not offer NOTIFY\n",
};

int main(int argc, char **argv)
{
	static const struct gtranscript *const all[] = {
	    &notify,  &poll,    &badevent, &uncovered,  &overflow,
	    &refused, &dropped, &list,     &namespaces,
	};

	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
		g_autofree char *path = g_strdup_printf("/session-guests/%s", all[i]->name);
		g_test_add_data_func(path, all[i], test_transcript);
	}
	return g_test_run();
}
