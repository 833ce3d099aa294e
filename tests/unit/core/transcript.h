/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_TEST_TRANSCRIPT_H
#define IMAPWATCH_TEST_TRANSCRIPT_H

/*
 * What the transcript tests of the pure protocol machines share: a step is
 * server bytes in and the exact client bytes expected out; the recorder
 * collects what the machine sends, traces and how it ends. Each test's own
 * harness struct starts with a struct transcript_recorder, so the callbacks
 * below can take the harness as their user_data.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/imap-client.h"

#include <glib.h>
#include <string.h>

struct step {
	const char *server; /* bytes the server sends, or an <ACTION> */
	const char *client; /* exact bytes the client must have sent after it */
};

struct transcript_recorder {
	GString *sent;     /* since the last step */
	GString *all_sent; /* the whole run */
	GString *trace;
	char *outcome; /* "finished" or "failed:<class>:<text>", NULL while running */
	int start_tls_calls;
};

static inline void recorder_init(struct transcript_recorder *r)
{
	*r = (struct transcript_recorder){
	    .sent = g_string_new(NULL),
	    .all_sent = g_string_new(NULL),
	    .trace = g_string_new(NULL),
	};
}

static inline void recorder_clear(struct transcript_recorder *r)
{
	g_string_free(r->sent, TRUE);
	g_string_free(r->all_sent, TRUE);
	g_string_free(r->trace, TRUE);
	g_free(r->outcome);
}

static inline void recorder_send(const char *data, size_t len, void *user_data)
{
	struct transcript_recorder *r = user_data;

	g_string_append_len(r->sent, data, len);
	g_string_append_len(r->all_sent, data, len);
}

static inline void recorder_start_tls(void *user_data)
{
	struct transcript_recorder *r = user_data;

	r->start_tls_calls++;
}

static inline void recorder_trace(bool outgoing, const char *line, void *user_data)
{
	struct transcript_recorder *r = user_data;

	g_string_append_printf(r->trace, "%s %s\n", outgoing ? "C:" : "S:", line);
}

static inline void recorder_failed(enum imap_failure failure, const char *message, void *user_data)
{
	struct transcript_recorder *r = user_data;

	g_assert_null(r->outcome);
	r->outcome = g_strdup_printf("failed:%s:%s", imap_failure_name(failure), message);
}

static inline void recorder_finished(void *user_data)
{
	struct transcript_recorder *r = user_data;

	g_assert_null(r->outcome);
	r->outcome = g_strdup("finished");
}

/* Feeds the server bytes of a step whole or one byte at a time. */
static inline void transcript_feed(void (*feed)(void *machine, const char *data, size_t len),
                                   void *machine, const char *data, bool byte_by_byte)
{
	if (!byte_by_byte) {
		feed(machine, data, strlen(data));
		return;
	}
	for (size_t i = 0; data[i] != '\0'; i++) {
		feed(machine, &data[i], 1);
	}
}

/* The client must have sent exactly step->client; then starts the next step. */
static inline void transcript_check_step(struct transcript_recorder *r, const char *name,
                                         bool byte_by_byte, const struct step *steps,
                                         const struct step *step)
{
	if (g_strcmp0(r->sent->str, step->client) != 0) {
		g_error("%s (%s), step %zd: after server\n%s\nexpected client\n%s\ngot\n%s\n"
		        "outcome: %s",
		        name, byte_by_byte ? "byte by byte" : "whole", step - steps, step->server,
		        step->client, r->sent->str, r->outcome);
	}
	g_string_truncate(r->sent, 0);
}

/* expected: NULL (still running) or a prefix of the outcome. */
static inline void transcript_check_outcome(const struct transcript_recorder *r, const char *name,
                                            const char *expected)
{
	if (expected == NULL) {
		g_assert_null(r->outcome);
	} else if (r->outcome == NULL || !g_str_has_prefix(r->outcome, expected)) {
		g_error("%s: expected outcome '%s', got '%s'", name, expected, r->outcome);
	}
}

/* The wire every transcript runs its machine on: an imap_client whose
 * transport is the recorder, and the account settings the login reads. */
struct transcript_wire {
	struct config_account account;
	struct imap_client_io io;
	struct imap_client *client;
};

static inline void transcript_wire_init(struct transcript_wire *w, struct transcript_recorder *r,
                                        enum config_security security, enum config_auth auth)
{
	w->account = (struct config_account){
	    .name = "work",
	    .security = security,
	    .auth = auth,
	    .username = "alice",
	};
	w->io = (struct imap_client_io){
	    .send = recorder_send,
	    .start_tls = recorder_start_tls,
	    .trace = recorder_trace,
	    .user_data = r,
	};
	w->client = imap_client_create(w->account.name, true, &w->io);
}

static inline void transcript_wire_clear(struct transcript_wire *w)
{
	imap_client_destroy(w->client);
}

static inline void transcript_client_feed(void *client, const char *data, size_t len)
{
	imap_client_feed(client, data, len);
}

/* The transport's part of a step: "<TLS>" (the handshake completed) and
 * "<CLOSE>" (the server closed the connection). False for anything else. */
static inline bool transcript_wire_step(struct transcript_wire *w,
                                        const struct transcript_recorder *r, const char *server)
{
	if (strcmp(server, "<TLS>") == 0) {
		g_assert_cmpint(r->start_tls_calls, ==, 1);
		imap_client_tls_ready(w->client);
		return true;
	}
	if (strcmp(server, "<CLOSE>") == 0) {
		imap_client_transport_closed(w->client, IMAP_FAILURE_TRANSIENT,
		                             "server closed the connection");
		return true;
	}
	return false;
}

#endif
