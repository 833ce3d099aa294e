/* SPDX-License-Identifier: MIT */
/*
 * IDLE's beginnings and ends as the session reports them (I9), and what
 * they do to the coarse state: a refresh (DONE, then IDLE) never changes
 * it; an IDLE the server completes waits, in state IDLE, for the
 * connection's word; one cut by BYE or a close is reported before the
 * failure. Transcripts (session-harness.h), whole and byte by byte.
 */
#include "session-harness.h"

#define LOGIN                                                                                      \
	{"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n",                                  \
	 "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n"},                                                \
	    {"A1 OK [CAPABILITY IMAP4rev1 IDLE] in\r\n", "A2 EXAMINE INBOX\r\n"},                  \
	{                                                                                          \
		"* 0 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA2 OK done\r\n", "A3 IDLE\r\n"            \
	}

#define EMPTY "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\",\"count\":0}\n"

/* Refreshes are DONE and IDLE again: the state stays IDLE throughout. An
 * empty folder is selected again first (H8: deleted by another client, it
 * says nothing), also without a change of state. */
static const struct step refresh_steps[] = {
    LOGIN,
    {"+ idling\r\n", ""},
    {"<REFRESH>", "DONE\r\n"},
    {"A3 OK Idle completed.\r\n", "A4 EXAMINE INBOX\r\n"},
    {"* 0 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA4 OK done\r\n", "A5 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"* 1 EXISTS\r\n", "DONE\r\n"},
    {"A5 OK Idle completed.\r\n", "A6 UID FETCH 1:*" FETCH_NEW},
    {"* 1 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {15}\r\nSubject: hi\r\n\r\n)\r\n"
     "A6 OK done\r\n",
     "A7 IDLE\r\n"},
    {"+ idling\r\n", ""},
    /* Not empty: DONE and IDLE only. */
    {"<REFRESH>", "DONE\r\n"},
    {"A7 OK Idle completed.\r\n", "A8 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {NULL, NULL},
};

static const struct transcript refresh = {
    .name = "idle-refresh",
    .security = CONFIG_SECURITY_TLS,
    .steps = refresh_steps,
    .events = EMPTY "{\"event\":\"new\",\"account\":\"work\",\"folder\":\"INBOX\","
                    "\"uidvalidity\":3,\"uid\":4,\"id\":\"work/INBOX/3/4\",\"message_id\":\"\","
                    "\"from_name\":\"\",\"from_addr\":\"\",\"subject\":\"hi\",\"date\":0,"
                    "\"flags\":[],\"seen\":false}\n"
                    "{\"event\":\"unseen\",\"account\":\"work\",\"folder\":\"INBOX\","
                    "\"count\":1}\n",
    .states = "authenticating\nsyncing\nidle\n",
    .idle = "start\ndone\nstart\ndone\nstart\ndone\nstart\n",
};

/* The server completes IDLE unasked (its own timeout): nothing is sent
 * until the connection says (a refresh), then IDLE again; the state stays
 * IDLE. A logout while waiting goes out at once. */
static const struct step server_steps[] = {
    LOGIN,
    {"+ idling\r\n", ""},
    {"A3 OK IDLE terminated (timeout)\r\n", ""},
    /* The folder is empty: selected again first (H8). */
    {"<REFRESH>", "A4 EXAMINE INBOX\r\n"},
    {"* 0 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA4 OK done\r\n", "A5 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {"A5 OK IDLE terminated (timeout)\r\n", ""},
    {"<LOGOUT>", "A6 LOGOUT\r\n"},
    {"* BYE bye\r\nA6 OK done\r\n", ""},
    {NULL, NULL},
};

static const struct transcript server = {
    .name = "idle-ended-by-server",
    .security = CONFIG_SECURITY_TLS,
    .steps = server_steps,
    .events = EMPTY,
    .outcome = "finished",
    .states = "authenticating\nsyncing\nidle\n",
    .idle = "start\nserver\nstart\nserver\n",
};

/* Work that came meanwhile is done at once, then IDLE. */
static const struct step server_resync_steps[] = {
    LOGIN,
    {"+ idling\r\n", ""},
    {"A3 OK IDLE terminated\r\n", ""},
    {"<RESYNC>", "A4 EXAMINE INBOX\r\n"},
    {"* 0 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nA4 OK done\r\n", "A5 IDLE\r\n"},
    {"+ idling\r\n", ""},
    {NULL, NULL},
};

static const struct transcript server_resync = {
    .name = "idle-ended-by-server-then-resync",
    .security = CONFIG_SECURITY_TLS,
    .steps = server_resync_steps,
    .events = EMPTY,
    .idle = "start\nserver\nstart\n",
};

/* A refusal in place of the end of IDLE fails the connection. */
static const struct step server_no_steps[] = {
    LOGIN,
    {"+ idling\r\n", ""},
    {"A3 NO IDLE aborted\r\n", ""},
    {NULL, NULL},
};

static const struct transcript server_no = {
    .name = "idle-refused-by-server",
    .security = CONFIG_SECURITY_TLS,
    .steps = server_no_steps,
    .events = EMPTY,
    .outcome = "failed:transient:IDLE failed: IDLE aborted",
    .idle = "start\nserver\n",
};

/* BYE and the close while idling: "closed", then the failure. */
static const struct step closed_steps[] = {
    LOGIN,           {"+ idling\r\n", ""}, {"* BYE Autologout; idle for too long\r\n", ""},
    {"<CLOSE>", ""}, {NULL, NULL},
};

static const struct transcript closed = {
    .name = "idle-closed-by-server",
    .security = CONFIG_SECURITY_TLS,
    .steps = closed_steps,
    .events = EMPTY,
    .outcome = "failed:transient:server closed the connection: Autologout; idle for too long",
    .idle = "start\nclosed\n",
};

/* A close while DONE waits for its answer is not the server's timeout. */
static const struct step closed_after_done_steps[] = {
    LOGIN, {"+ idling\r\n", ""}, {"<REFRESH>", "DONE\r\n"}, {"<CLOSE>", ""}, {NULL, NULL},
};

static const struct transcript closed_after_done = {
    .name = "idle-closed-after-done",
    .security = CONFIG_SECURITY_TLS,
    .steps = closed_after_done_steps,
    .events = EMPTY,
    .outcome = "failed:transient:server closed the connection",
    .idle = "start\ndone\n",
};

int main(int argc, char **argv)
{
	static const struct transcript *const all[] = {
	    &refresh, &server, &server_resync, &server_no, &closed, &closed_after_done,
	};

	g_test_init(&argc, &argv, NULL);
	session_add_transcripts(all, G_N_ELEMENTS(all));
	return g_test_run();
}
