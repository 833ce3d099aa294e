/* SPDX-License-Identifier: MIT */
#include "session-harness.h"

#include <string.h>

static void h_state(enum watch_state state, void *user_data)
{
	struct harness *h = user_data;

	g_string_append_printf(h->states, "%s\n", watch_state_name(state));
}

static void h_idle_started(void *user_data)
{
	struct harness *h = user_data;

	g_string_append(h->idle, "start\n");
}

static void h_idle_ended(enum imap_session_idle_end how, void *user_data)
{
	struct harness *h = user_data;
	static const char *const names[] = {
	    [IMAP_SESSION_IDLE_END_DONE] = "done",
	    [IMAP_SESSION_IDLE_END_SERVER] = "server",
	    [IMAP_SESSION_IDLE_END_CLOSED] = "closed",
	};

	g_string_append_printf(h->idle, "%s\n", names[how]);
}

const struct imap_session_ops session_harness_ops = {
    .state_changed = h_state,
    .failed = recorder_failed,
    .finished = recorder_finished,
    .idle_started = h_idle_started,
    .idle_ended = h_idle_ended,
};

void session_harness_sink(const struct watch_event *event, void *user_data)
{
	struct harness *h = user_data;
	g_autofree char *json = watch_event_to_json(event);

	g_string_append_printf(h->events, "%s\n", json);
}

/* The commands that would change a mailbox (W1–W3). */
static void assert_never_modifies(const char *sent)
{
	static const char *const forbidden[] = {" SELECT ", " STORE ", " EXPUNGE", " CLOSE",
	                                        " COPY ",   " MOVE ",  " APPEND ", " CREATE ",
	                                        " DELETE ", "BODY[",   "RFC822 ",  "RFC822.TEXT"};
	g_auto(GStrv) lines = g_strsplit(sent, "\r\n", -1);

	for (size_t i = 0; lines[i] != NULL; i++) {
		for (size_t j = 0; j < G_N_ELEMENTS(forbidden); j++) {
			if (strstr(lines[i], forbidden[j]) != NULL) {
				g_error("client sent a forbidden command: %s", lines[i]);
			}
		}
	}
}

void session_harness_init(struct harness *h, enum config_security security, enum config_auth auth)
{
	*h = (struct harness){
	    .events = g_string_new(NULL),
	    .states = g_string_new(NULL),
	    .idle = g_string_new(NULL),
	};
	recorder_init(&h->rec);
	transcript_wire_init(&h->wire, &h->rec, security, auth);
}

void session_harness_finish(struct harness *h, struct mailbox *mailbox)
{
	imap_session_destroy(h->session);
	transcript_wire_clear(&h->wire);
	mailbox_destroy(mailbox);
	g_string_free(h->events, TRUE);
	g_string_free(h->states, TRUE);
	g_string_free(h->idle, TRUE);
	recorder_clear(&h->rec);
}

static void run_transcript(const struct transcript *t, bool byte_by_byte)
{
	struct harness h;
	session_harness_init(&h, t->security, t->auth);
	struct mailbox *mailbox = mailbox_create("work", "INBOX", session_harness_sink, &h);
	const char *password = t->password != NULL ? t->password : "s3cret pass";

	if (t->restore_uidvalidity != 0) {
		mailbox_restore(mailbox, t->restore_uidvalidity, t->restore_watermark);
	}
	if (t->restore_all != NULL) {
		g_autoptr(uidset) all = uidset_new();
		g_autoptr(uidset) unseen = uidset_new();

		g_assert_true(*t->restore_all == '\0' || uidset_parse(all, t->restore_all, 100));
		g_assert_true(*t->restore_unseen == '\0' ||
		              uidset_parse(unseen, t->restore_unseen, 100));
		mailbox_restore_sets(mailbox, t->restore_modseq, all, unseen);
	}
	struct imap_session_params params = {
	    .account = &h.wire.account,
	    .password = password,
	    .home = mailbox,
	};
	h.session = imap_session_create(h.wire.client, &params, &session_harness_ops, &h);
	for (const struct step *s = t->steps; s->server != NULL; s++) {
		if (transcript_wire_step(&h.wire, &h.rec, s->server)) {
			/* the transport's part */
		} else if (strcmp(s->server, "<RESYNC>") == 0) {
			imap_session_resync(h.session);
		} else if (strcmp(s->server, "<REFRESH>") == 0) {
			imap_session_refresh(h.session);
		} else if (strcmp(s->server, "<LOGOUT>") == 0) {
			imap_session_logout(h.session);
		} else {
			transcript_feed(transcript_client_feed, h.wire.client, s->server,
			                byte_by_byte);
		}
		transcript_check_step(&h.rec, t->name, byte_by_byte, t->steps, s);
	}
	g_assert_cmpstr(h.events->str, ==, t->events);
	if (t->states != NULL) {
		g_assert_cmpstr(h.states->str, ==, t->states);
	}
	if (t->idle != NULL) {
		g_assert_cmpstr(h.idle->str, ==, t->idle);
	}
	transcript_check_outcome(&h.rec, t->name, t->outcome);
	g_assert_cmpstr(mailbox_get_special_use(mailbox), ==, t->special_use);
	assert_never_modifies(h.rec.all_sent->str);
	/* Secrets never reach the trace (issue: --trace-imap redacts). */
	g_assert_null(strstr(h.rec.trace->str, password));
	g_autofree char *b64 = g_base64_encode((const guchar *)"\0alice\0s3cret pass", 18);
	g_assert_null(strstr(h.rec.trace->str, b64));

	session_harness_finish(&h, mailbox);
}

static void test_transcript(gconstpointer data)
{
	run_transcript(data, false);
	run_transcript(data, true);
}

void session_add_transcripts(const struct transcript *const *all, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		g_autofree char *path = g_strdup_printf("/session/%s", all[i]->name);
		g_test_add_data_func(path, all[i], test_transcript);
	}
}
