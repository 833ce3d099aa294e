/* SPDX-License-Identifier: MIT */
/*
 * Which folders an account watches, and on which connection: NOTIFY on one
 * connection, a connection budget without it, a budget lowered by a server
 * that refuses more connections, names and patterns resolved by LIST, a
 * named folder that does not exist, a guest deleted meanwhile. The fake
 * connections and clock are in account-harness.c.
 */
#include "account-harness.h"

static const char *const lists[] = {"INBOX", "Lists/*", "Work", NULL};
static const char *const everything[] = {"*", NULL};
static const char *const missing[] = {"INBOX", "Nope", "Work", NULL};
static const char *const five[] = {"Work", "INBOX", "A", "B", "C", NULL};
static const char *const team[] = {"INBOX", "Public/*", "Users/bob/Inbox", NULL};
static const char *const two[] = {"INBOX", "Work", NULL};

/* With NOTIFY one connection watches every folder: its home by IDLE, the
 * others as guests. */
static const struct step notify[] = {
    LIVE(1),
    HOME(0, "INBOX"),
    GUESTS_(0, "Lists;Work"),
    SERVING(0),
    NOTIFY_(0),
    LIVE(1),
    WATCH("INBOX=idle;Lists=notify;Work=notify"),
    EXPECT(IDLE, ""),
    /* A reconnect keeps to one connection. */
    FAIL_(0, TRANSIENT, "server closed the connection"),
    AT_(500),
    LIVE(1),
    CREATED(2),
    GUESTS_(0, "Lists;Work"),
    OP(END),
};

/* Without NOTIFY: up to max_connections IDLE connections, INBOX first,
 * then config order; the first connection polls the rest. The others log
 * in one after another: the next once the one before is in, or has
 * failed and waits. */
static const struct step budget[] = {
    POLL_(0),
    LIVE(2),
    HOME(0, "INBOX"),
    HOME(1, "Work"),
    GUESTS_(0, "B;C"),
    SERVING(0),
    REACH_(1, AUTHENTICATING),
    LIVE(2),
    /* Work's login fails and waits: A's goes meanwhile. */
    FAIL_(1, TRANSIENT, "connection reset"),
    EXPECT(BACKOFF, "connection reset, retrying in 1 s"),
    LIVE(2),
    HOME(1, "A"),
    SERVING(1),
    LIVE(2),
    AT_(1000),
    LIVE(3),
    HOME(2, "Work"),
    SERVING(2),
    CREATED(4),
    WATCH("INBOX=idle;Work=idle;A=idle;B=poll;C=poll"),
    OP(END),
};

/* The server refuses a connection for being over its limit while others
 * are in: the budget shrinks, the folder is polled, no backoff, no error,
 * no new connection. */
static const struct step limit[] = {
    POLL_(0),
    SERVING(0),
    SERVING(1),
    FAIL_(2, RESOURCE, "server temporarily refused the login for user 'me': [LIMIT]"),
    LIVE(2),
    EXPECT(IDLE, ""),
    GUESTS_(0, "A;B;C"),
    WATCH("INBOX=idle;Work=idle;A=poll;B=poll;C=poll"),
    AT_(3600 * 1000),
    CREATED(3),
    /* The first connection itself is never given up that way. */
    FAIL_(0, RESOURCE, "server temporarily refused the login for user 'me': [LIMIT]"),
    EXPECT(BACKOFF, "retrying in"),
    OP(END),
};

/* Patterns: LIST decides, special-use folders are skipped unless named,
 * INBOX comes first, and a folder created later is picked up by the next
 * LIST. */
static const struct step patterns[] = {
    HOME(0, "INBOX"),
    LISTED_(0, "INBOX;Lists/a;Lists/b;Lists/old=\\Trash;Work"),
    GUESTS_(0, "Work;Lists/a;Lists/b"),
    SERVING(0),
    NOTIFY_(0),
    WATCH("INBOX=idle;Work=notify;Lists/a=notify;Lists/b=notify"),
    LISTED_(0, "INBOX;Lists/a;Lists/c;Work"),
    GUESTS_(0, "Work;Lists/a;Lists/c"),
    WATCH("INBOX=idle;Work=notify;Lists/a=notify;Lists/c=notify"),
    OP(END),
};

/* folders = *: everything selectable but Junk, Trash, Sent, Drafts, All. */
static const struct step star[] = {
    HOME(0, ""),
    LISTED_(0, "Archive;INBOX;Junk=\\Junk;Sent=\\Sent;Box=noselect;Box/x;All Mail=\\All"),
    HOME(0, "INBOX"),
    GUESTS_(0, "Archive;Box/x"),
    OP(END),
};

/* A bare pattern means the user's own folders: other users' and shared
 * ones (NAMESPACE) are left out... */
static const struct step star_own[] = {
    HOME(0, ""),
    LISTED_(0, "INBOX;Work;Public=noselect;Public/Team@Public/;Users/bob/Inbox@Users/"),
    HOME(0, "INBOX"),
    GUESTS_(0, "Work"),
    OP(END),
};

/* ...unless named: by full name, or by a pattern under their prefix. */
static const struct step shared[] = {
    LISTED_(0, "INBOX;Public/Team@Public/;Public/Sales@Public/;Users/bob/Inbox@Users/;"
               "Users/bob/Junk@Users/"),
    HOME(0, "INBOX"),
    GUESTS_(0, "Users/bob/Inbox;Public/Team;Public/Sales"),
    SERVING(0),
    NOTIFY_(0),
    WATCH("INBOX=idle;Users/bob/Inbox=notify;Public/Team=notify;Public/Sales=notify"),
    OP(END),
};

/* A named folder the server does not have is one error of its own; the
 * others are watched. */
static const struct step missing_folder[] = {
    LISTED_(0, "INBOX;Work"),
    SERVING(0),
    NOTIFY_(0),
    EXPECT(ERROR, "folder 'Nope' does not exist on the server"),
    WATCH("INBOX=idle;Nope=error;Work=notify"),
    GUESTS_(0, "Work"),
    /* Check looks again. */
    OP(CHECK),
    GUESTS_(0, "Nope;Work"),
    OP(END),
};

/* A guest deleted on the server: an error for that folder, the rest go on. */
static const struct step guest_gone[] = {
    LISTED_(0, "INBOX;Lists/a;Work"),
    SERVING(0),
    NOTIFY_(0),
    {GUEST_FAILED, 0, 0, 0, 0, "Work:cannot open folder 'Work': it does not exist on the server"},
    EXPECT(ERROR, "cannot open folder 'Work'"),
    GUESTS_(0, "Lists/a"),
    LIVE(1),
    OP(END),
};

/* A folder a pattern found that could not be opened is tried again when
 * the next LIST pass finds it, as a named one is. */
static const struct step pattern_retried[] = {
    LISTED_(0, "INBOX;Lists/a;Lists/b;Work"),
    SERVING(0),
    NOTIFY_(0),
    {GUEST_FAILED, 0, 0, 0, 0, "Lists/a:cannot open folder 'Lists/a': no permission"},
    EXPECT(ERROR, "cannot open folder 'Lists/a'"),
    GUESTS_(0, "Work;Lists/b"),
    LISTED_(0, "INBOX;Lists/a;Lists/b;Work"),
    GUESTS_(0, "Work;Lists/a;Lists/b"),
    EXPECT(IDLE, ""),
    OP(END),
};

/* A home folder deleted on the server, its new selection refused (H8):
 * the folder's error, not the connection's for good; the next LIST
 * passes look for it again and, once it is back, it has a connection
 * again. A refusal before the login stays the connection's. */
static const struct step home_gone[] = {
    POLL_(0),
    LISTED_(0, "INBOX;Work"),
    LIVE(2),
    HOME(1, "Work"),
    SERVING(0),
    SERVING(1),
    EXPECT(IDLE, ""),
    FAIL_(1, PERMANENT, "cannot open folder 'Work': Mailbox does not exist"),
    EXPECT(ERROR, "cannot open folder 'Work'"),
    LIVE(1),
    WATCH("INBOX=idle;Work=error"),
    LISTED_(0, "INBOX"),
    EXPECT(ERROR, "folder 'Work' does not exist on the server"),
    LIVE(1),
    LISTED_(0, "INBOX;Work"),
    LIVE(2),
    CREATED(3),
    HOME(1, "Work"),
    SERVING(1),
    EXPECT(IDLE, ""),
    WATCH("INBOX=idle;Work=idle"),
    REACH_(1, AUTHENTICATING),
    FAIL_(1, PERMANENT, "server refused the login"),
    EXPECT(ERROR, "server refused the login"),
    LISTED_(0, "INBOX;Work"),
    CREATED(3),
    OP(END),
};

static const struct scenario scenarios[] = {
    {"notify", account_harness_three, notify, NULL, 0},
    {"budget", five, budget, NULL, 3},
    {"limit", five, limit, NULL, 3},
    {"patterns", lists, patterns, NULL, 0},
    {"star", everything, star, NULL, 0},
    {"star-own", everything, star_own, NULL, 0},
    {"shared", team, shared, NULL, 0},
    {"missing-folder", missing, missing_folder, NULL, 0},
    {"guest-gone", lists, guest_gone, NULL, 0},
    {"pattern-retried", lists, pattern_retried, NULL, 0},
    {"home-gone", two, home_gone, NULL, 2},
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	account_harness_add(scenarios, G_N_ELEMENTS(scenarios));
	return g_test_run();
}
