/* SPDX-License-Identifier: MIT */
/*
 * The notifier model's popups about no message in particular: an account
 * in error or waiting for its keyring, and a folder reset by the server (M3), which also withdraws
 * the popups of the folder's old messages.
 */
#include "notifier-model-harness.h"

static GPtrArray *feed_state(struct fixture *f, const char *state, const char *detail)
{
	struct watch_event ev = {
	    .type = WATCH_EVENT_STATE,
	    .account = "work",
	    .state = state,
	    .detail = detail,
	};

	return feed(f, &ev, 0);
}

static void test_account_error(void)
{
	struct fixture f;
	GPtrArray *ops;

	fixture_init(&f, NULL);
	g_assert_cmpuint(feed_state(&f, "connecting", "")->len, ==, 0);
	ops = feed_state(&f, "error", "authentication failed for user 'me': wrong\x1b[31m");
	g_assert_cmpuint(ops->len, ==, 1);
	const struct notifier_op *shown = op_at(ops, 0);
	guint64 slot = shown->slot;
	g_assert_cmpint(shown->type, ==, NOTIFIER_OP_SHOW);
	g_assert_cmpuint(shown->count, ==, 0);
	g_assert_cmpstr(shown->category, ==, "network.error");
	g_assert_null(shown->sound);
	g_assert_cmpstr(shown->summary, ==, "Mail account work needs attention");
	g_assert_cmpstr(shown->body, ==, "Authentication failed for user 'me': wrong[31m.");
	g_assert_cmpstr(shown->icon, ==, NOTIFIER_ICON_ERROR);
	g_assert_true(shown->retry);
	/* One notification per episode: staying in error says nothing more. */
	g_assert_cmpuint(feed_state(&f, "error", "other detail")->len, ==, 0);
	g_assert_cmpuint(feed_state(&f, "connecting", "")->len, ==, 0);
	g_assert_null(notifier_model_get_messages(f.model, slot));
	/* Recovery closes it; a later error shows a new one. */
	ops = feed_state(&f, "idle", "");
	g_assert_cmpuint(ops->len, ==, 1);
	g_assert_cmpint(op_at(ops, 0)->type, ==, NOTIFIER_OP_CLOSE);
	g_assert_cmpuint(op_at(ops, 0)->slot, ==, slot);
	ops = feed_state(&f, "error", "again");
	g_assert_cmpuint(ops->len, ==, 1);
	g_assert_cmpuint(op_at(ops, 0)->slot, !=, slot);
	fixture_clear(&f);
}

/* A keyring still locked at start: one popup while the account waits, none
 * more however often the state repeats, closed when it is idle. */
static void test_keyring_locked(void)
{
	struct fixture f;
	GPtrArray *ops;

	fixture_init(&f, NULL);
	g_assert_cmpuint(feed_state(&f, "connecting", "")->len, ==, 0);
	ops = feed_state(&f, "connecting", WATCH_DETAIL_KEYRING_LOCKED);
	g_assert_cmpuint(ops->len, ==, 1);
	const struct notifier_op *shown = op_at(ops, 0);
	guint64 slot = shown->slot;
	g_assert_cmpint(shown->type, ==, NOTIFIER_OP_SHOW);
	g_assert_cmpstr(shown->summary, ==, "Mail account work waits for the keyring");
	g_assert_cmpstr(shown->icon, ==, NOTIFIER_ICON_KEYRING);
	g_assert_false(shown->retry);
	g_assert_cmpuint(feed_state(&f, "connecting", WATCH_DETAIL_KEYRING_LOCKED)->len, ==, 0);
	g_assert_cmpuint(feed_state(&f, "authenticating", "")->len, ==, 0);
	ops = feed_state(&f, "idle", "");
	g_assert_cmpuint(ops->len, ==, 1);
	g_assert_cmpint(op_at(ops, 0)->type, ==, NOTIFIER_OP_CLOSE);
	g_assert_cmpuint(op_at(ops, 0)->slot, ==, slot);
	fixture_clear(&f);
}

/* "Try again": the popup names its account, and a failure after it shows
 * again in place with the new text; without it, the account stays quiet
 * until it recovers. An unlocked keyring whose password fails says so
 * too. */
static void test_account_retry(void)
{
	struct fixture f;
	GPtrArray *ops;
	g_autofree char *account = NULL;

	fixture_init(&f, NULL);
	guint64 slot = op_at(feed_state(&f, "error", "first"), 0)->slot;
	g_assert_null(notifier_model_retry(f.model, slot + 1));
	account = notifier_model_retry(f.model, slot);
	g_assert_cmpstr(account, ==, "work");
	g_assert_cmpuint(feed_state(&f, "connecting", "")->len, ==, 0);
	ops = feed_state(&f, "error", "second (0.001 + 0.000 secs).");
	g_assert_cmpuint(ops->len, ==, 1);
	g_assert_cmpuint(op_at(ops, 0)->slot, ==, slot);
	g_assert_cmpstr(op_at(ops, 0)->body, ==, "Second.");
	g_assert_false(op_at(ops, 0)->only_if_shown);
	/* Once: the next failure, unasked, says nothing. */
	g_assert_cmpuint(feed_state(&f, "error", "third")->len, ==, 0);
	/* The popup's own closing changes nothing. */
	notifier_model_forget(f.model, slot);
	g_assert_cmpuint(feed_state(&f, "error", "fourth")->len, ==, 0);
	fixture_clear(&f);

	fixture_init(&f, NULL);
	slot = op_at(feed_state(&f, "connecting", WATCH_DETAIL_KEYRING_LOCKED), 0)->slot;
	ops = feed_state(&f, "error", "authentication failed for user 'me': no");
	g_assert_cmpuint(ops->len, ==, 1);
	g_assert_cmpuint(op_at(ops, 0)->slot, ==, slot);
	g_assert_cmpstr(op_at(ops, 0)->summary, ==, "Mail account work needs attention");
	g_assert_cmpstr(op_at(ops, 0)->icon, ==, NOTIFIER_ICON_ERROR);
	/* Locked again while in error: the error stays on screen. */
	g_assert_cmpuint(feed_state(&f, "connecting", WATCH_DETAIL_KEYRING_LOCKED)->len, ==, 0);
	fixture_clear(&f);
}

/* A failure as the error popup says it. */
static void test_error_text(void)
{
	static const struct {
		const char *detail;
		const char *text;
	} cases[] = {
	    /* Dovecot: the timing of the command, two or three numbers. */
	    {"cannot open folder 'Foo/': Invalid mailbox name: Ends with hierarchy separator "
	     "(0.001 + 0.000 + 0.002 secs).",
	     "Cannot open folder 'Foo/': Invalid mailbox name: Ends with hierarchy separator."},
	    {"server refused the connection: Busy (12.5 secs)",
	     "Server refused the connection: Busy."},
	    /* Dovecot's internal error stamp; Gmail's "(Failure)". */
	    {"cannot open folder 'X': Internal error occurred. Refer to server log for more "
	     "information. [2024-05-01 10:00:00]",
	     "Cannot open folder 'X': Internal error occurred. Refer to server log for more "
	     "information."},
	    {"authentication failed for user 'me@gmail.com': Invalid credentials (Failure)",
	     "Authentication failed for user 'me@gmail.com': Invalid credentials."},
	    /* Our own words and the user's names stay as written. */
	    {"password_command failed: exit status 1", "password_command failed: exit status 1."},
	    {"tls_fingerprint does not match", "tls_fingerprint does not match."},
	    {"imap.example.com: no answer", "imap.example.com: no answer."},
	    {"TLS handshake failed!", "TLS handshake failed!"},
	    /* Only at the end: names are the user's. */
	    {"folder 'Money (0.5 secs)' gone", "Folder 'Money (0.5 secs)' gone."},
	    {"ends in a colon: ", "Ends in a colon."},
	    {"", ""},
	    {NULL, ""},
	    {"bad\x1b[31m\u202e text", "Bad[31m text."},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = notifier_model_error_text(cases[i].detail, 200);

		g_assert_cmpstr(text, ==, cases[i].text);
	}
	g_autofree char *cut = notifier_model_error_text("abcdefghij (0.001 + 0.000 secs).", 5);
	g_assert_cmpstr(cut, ==, "Abcd…");
}

/* New mail of any account, folder and UIDVALIDITY. */
static GPtrArray *feed_message(struct fixture *f, const char *account, const char *folder,
                               uint32_t uidvalidity, uint32_t uid, gint64 now, bool catchup)
{
	struct watch_event ev = {
	    .type = WATCH_EVENT_NEW,
	    .account = account,
	    .folder = folder,
	    .uidvalidity = uidvalidity,
	    .uid = uid,
	    .from_addr = "a@x",
	    .subject = "s",
	    .catchup = catchup,
	};

	return feed(f, &ev, now);
}

static GPtrArray *feed_reset(struct fixture *f, const char *folder, uint32_t uidvalidity,
                             bool announce)
{
	struct watch_event ev = {
	    .type = WATCH_EVENT_RESET,
	    .account = "work",
	    .folder = folder,
	    .uidvalidity = uidvalidity,
	    .previous_uidvalidity = 7,
	    .count = 12,
	    .unseen = 3,
	};

	g_ptr_array_set_size(f->ops, 0);
	notifier_model_reset(f->model, &ev, announce, f->ops);
	return f->ops;
}

static void assert_close(GPtrArray *ops, guint i, guint64 slot)
{
	g_assert_cmpint(op_at(ops, i)->type, ==, NOTIFIER_OP_CLOSE);
	g_assert_cmpuint(op_at(ops, i)->slot, ==, slot);
}

/* M3: a reset withdraws every popup of the folder's old messages at once —
 * singles and the burst's summary — and shows one popup with the counts. */
static void test_reset(void)
{
	struct fixture f;
	guint64 lists, summary, single, reset, fresh;
	const struct notifier_op *op;
	g_auto(GStrv) shown = NULL;

	fixture_init(&f, NULL);
	lists = op_at(feed_new(&f, "Lists", 1, "l", 0), 0)->slot;
	feed_message(&f, "home", "INBOX", 7, 1, 0, false);
	for (uint32_t uid = 1; uid <= 5; uid++) {
		feed_new(&f, "INBOX", uid, "x", uid);
	}
	summary = op_at(f.ops, 0)->slot;
	single = op_at(feed_new(&f, "INBOX", 6, "y", 6 + WINDOW), 0)->slot;

	feed_reset(&f, "INBOX", 9, true);
	g_assert_cmpuint(f.ops->len, ==, 3);
	assert_close(f.ops, 0, summary);
	assert_close(f.ops, 1, single);
	op = op_at(f.ops, 2);
	reset = op->slot;
	g_assert_cmpint(op->type, ==, NOTIFIER_OP_SHOW);
	g_assert_cmpuint(reset, !=, summary);
	g_assert_cmpstr(op->summary, ==, "work/INBOX was reset by the server");
	g_assert_cmpstr(op->body, ==, "It now holds 12 messages, 3 unread");
	g_assert_cmpstr(op->category, ==, "email");
	/* About no message: no actions, no sound. */
	g_assert_cmpuint(op->count, ==, 0);
	g_assert_null(op->sound);
	g_assert_false(op->only_if_shown);
	g_assert_null(notifier_model_get_messages(f.model, reset));

	/* Other folders and accounts keep their popups; the old ids are void. */
	shown = notifier_model_get_shown_ids(f.model);
	g_assert_cmpuint(g_strv_length(shown), ==, 2);
	g_assert_cmpstr(shown[0], ==, "home/INBOX/7/1");
	g_assert_cmpstr(shown[1], ==, "work/Lists/7/1");
	g_assert_cmpuint(feed_seen(&f, "INBOX", 6, WATCH_EVENT_CHANGED)->len, ==, 0);
	GPtrArray *kept = notifier_model_get_messages(f.model, lists);
	g_assert_nonnull(kept);
	g_ptr_array_unref(kept);

	/* Mail under the new UIDVALIDITY is news as usual, and is kept by a
	 * reset to that same value. */
	fresh = op_at(feed_message(&f, "work", "INBOX", 9, 1, 7 + 2 * WINDOW, false), 0)->slot;
	g_assert_cmpuint(f.ops->len, ==, 1);
	g_assert_cmpuint(feed_reset(&f, "INBOX", 9, false)->len, ==, 0);

	/* A quiet folder: the old popups go, nothing is shown. */
	feed_reset(&f, "INBOX", 11, false);
	g_assert_cmpuint(f.ops->len, ==, 1);
	assert_close(f.ops, 0, fresh);

	/* A later reset updates the folder's reset popup in place. */
	feed_reset(&f, "INBOX", 12, true);
	g_assert_cmpuint(f.ops->len, ==, 1);
	g_assert_cmpuint(op_at(f.ops, 0)->slot, ==, reset);
	fixture_clear(&f);
}

/* Messages of the folder in the catch-up summary leave it; the summary is
 * updated only if still shown, and content settings do not matter: the
 * reset popup names no message. */
static void test_reset_catchup(void)
{
	struct fixture f;
	const struct notifier_op *op;

	fixture_init(&f, NULL);
	f.notice.content = CONFIG_CONTENT_COUNT;
	feed_message(&f, "work", "INBOX", 7, 1, 0, true);
	feed_message(&f, "work", "INBOX", 7, 2, 0, true);
	guint64 catchup = op_at(feed_message(&f, "work", "Lists", 7, 1, 0, true), 0)->slot;

	feed_reset(&f, "INBOX", 9, true);
	g_assert_cmpuint(f.ops->len, ==, 2);
	op = op_at(f.ops, 0);
	g_assert_cmpuint(op->slot, ==, catchup);
	g_assert_cmpint(op->type, ==, NOTIFIER_OP_SHOW);
	g_assert_true(op->only_if_shown);
	g_assert_cmpstr(op->summary, ==, "1 new message since imapwatch last ran");
	op = op_at(f.ops, 1);
	g_assert_cmpstr(op->summary, ==, "work/INBOX was reset by the server");
	g_assert_cmpstr(op->body, ==, "It now holds 12 messages, 3 unread");

	/* Feeding the event the ordinary way changes nothing. */
	struct watch_event ev = {.type = WATCH_EVENT_RESET, .account = "work", .folder = "Lists"};
	g_assert_cmpuint(feed(&f, &ev, 0)->len, ==, 0);
	fixture_clear(&f);
}

/* Catch-up of an account a reload started anew is not "since imapwatch
 * last ran": it names the folder, or counts per folder; the start's own
 * catch-up goes on in its popup. A later reload starts a new summary and
 * the earlier one goes with its popup. */
static void test_catchup_after_reload(void)
{
	struct fixture f;
	const struct notifier_op *op;

	fixture_init(&f, NULL);
	guint64 start = op_at(feed_message(&f, "home", "INBOX", 7, 1, 0, true), 0)->slot;
	notifier_model_account_restarted(f.model, "work");
	op = op_at(feed_message(&f, "work", "Lists", 7, 1, 0, true), 0);
	guint64 watched = op->slot;
	g_assert_cmpuint(watched, !=, start);
	g_assert_cmpstr(op->summary, ==, "1 new message in work/Lists (newly watched)");
	g_assert_cmpstr(op->body, ==, "s");
	g_assert_cmpstr(op->sound, ==, "message-new-email");
	g_assert_cmpuint(op->count, ==, 1);
	g_assert_cmpstr(op->icon, ==, NOTIFIER_ICON_MAIL);
	op = op_at(feed_message(&f, "work", "Lists", 7, 2, 0, true), 0);
	g_assert_cmpuint(op->slot, ==, watched);
	g_assert_cmpstr(op->summary, ==, "2 new messages in work/Lists (newly watched)");
	g_assert_null(op->sound);
	op = op_at(feed_message(&f, "work", "INBOX", 7, 3, 0, true), 0);
	g_assert_cmpuint(op->slot, ==, watched);
	g_assert_cmpstr(op->summary, ==, "3 new messages in newly watched folders");
	g_assert_cmpstr(op->body, ==, "work/Lists: 2\nwork/INBOX: 1\ns\ns\ns");
	/* The start's catch-up of other accounts keeps its own words. */
	op = op_at(feed_message(&f, "home", "INBOX", 7, 2, 0, true), 0);
	g_assert_cmpuint(op->slot, ==, start);
	g_assert_cmpstr(op->summary, ==, "2 new messages since imapwatch last ran");
	/* New mail of the account is new mail as ever. */
	g_assert_cmpstr(op_at(feed_message(&f, "work", "Lists", 7, 4, 0, false), 0)->summary, ==,
	                "a@x");
	/* Read elsewhere: it leaves the summary. */
	feed_seen(&f, "INBOX", 3, WATCH_EVENT_CHANGED);
	g_assert_cmpuint(f.ops->len, ==, 1);
	g_assert_cmpuint(op_at(f.ops, 0)->slot, ==, watched);
	g_assert_cmpstr(op_at(f.ops, 0)->summary, ==,
	                "2 new messages in work/Lists (newly watched)");
	g_assert_true(op_at(f.ops, 0)->only_if_shown);

	/* Its popup went; another reload: a new summary, the old one forgotten. */
	notifier_model_forget(f.model, watched);
	notifier_model_account_restarted(f.model, "home");
	g_assert_null(notifier_model_get_messages(f.model, watched));
	op = op_at(feed_message(&f, "home", "Archive", 7, 9, 0, true), 0);
	g_assert_cmpuint(op->slot, !=, watched);
	g_assert_cmpstr(op->summary, ==, "1 new message in home/Archive (newly watched)");
	/* The popup went and more comes: shown again with all it holds. */
	watched = op->slot;
	notifier_model_forget(f.model, watched);
	GPtrArray *kept = notifier_model_get_messages(f.model, watched);
	g_assert_cmpuint(kept->len, ==, 1);
	g_ptr_array_unref(kept);
	op = op_at(feed_message(&f, "work", "Lists", 7, 10, 0, true), 0);
	g_assert_cmpuint(op->slot, ==, watched);
	g_assert_cmpstr(op->summary, ==, "2 new messages in newly watched folders");
	g_assert_false(op->only_if_shown);
	fixture_clear(&f);

	/* startup = silent and each apply as to any catch-up. */
	struct notifier_model_options options = default_options;
	options.startup = CONFIG_STARTUP_SILENT;
	fixture_init(&f, &options);
	notifier_model_account_restarted(f.model, "work");
	g_assert_cmpuint(feed_message(&f, "work", "Lists", 7, 1, 0, true)->len, ==, 0);
	fixture_clear(&f);
	options.startup = CONFIG_STARTUP_EACH;
	fixture_init(&f, &options);
	notifier_model_account_restarted(f.model, "work");
	g_assert_cmpstr(op_at(feed_message(&f, "work", "Lists", 7, 1, 0, true), 0)->summary, ==,
	                "a@x");
	fixture_clear(&f);
}

/* One message, one popup (N5): the same message in two folders of an
 * account pops up once — by X-GM-MSGID on Gmail, by Message-ID within a
 * few minutes elsewhere — while other accounts, and copies after the
 * window, pop up again. */
static void test_duplicates(void)
{
	struct fixture f;
	struct watch_event ev = {
	    .type = WATCH_EVENT_NEW,
	    .account = "work",
	    .folder = "INBOX",
	    .uidvalidity = 7,
	    .uid = 1,
	    .message_id = "<list@x>",
	    .subject = "hello",
	};
	gint64 t = 1000 * SEC;

	fixture_init(&f, NULL);
	g_assert_cmpuint(feed(&f, &ev, t)->len, ==, 1);
	ev.folder = "Lists/dev";
	ev.uid = 5;
	g_assert_cmpuint(feed(&f, &ev, t + 60 * SEC)->len, ==, 0);
	ev.account = "home";
	g_assert_cmpuint(feed(&f, &ev, t + 60 * SEC)->len, ==, 1);
	ev.account = "work";
	ev.folder = "Archive";
	ev.uid = 9;
	g_assert_cmpuint(feed(&f, &ev, t + NOTIFIER_MODEL_DUPLICATE_WINDOW + SEC)->len, ==, 1);
	/* Without a Message-ID nothing is taken for a copy. */
	ev.message_id = "";
	ev.uid = 10;
	g_assert_cmpuint(feed(&f, &ev, t + 400 * SEC)->len, ==, 1);
	ev.uid = 11;
	g_assert_cmpuint(feed(&f, &ev, t + 401 * SEC)->len, ==, 1);

	/* Gmail: the labels of one message, even without the same
	 * Message-ID and long after. */
	ev.gm_msgid = 1278455344230334865u;
	ev.folder = "INBOX";
	ev.uid = 20;
	g_assert_cmpuint(feed(&f, &ev, t + 500 * SEC)->len, ==, 1);
	ev.folder = "[Gmail]/Important";
	ev.uid = 3;
	ev.message_id = "<other@x>";
	g_assert_cmpuint(feed(&f, &ev, t + 2000 * SEC)->len, ==, 0);
	ev.gm_msgid = 1278455344230334866u;
	g_assert_cmpuint(feed(&f, &ev, t + 2001 * SEC)->len, ==, 1);
	fixture_clear(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/notifier-model/account-error", test_account_error);
	g_test_add_func("/notifier-model/keyring-locked", test_keyring_locked);
	g_test_add_func("/notifier-model/account-retry", test_account_retry);
	g_test_add_func("/notifier-model/error-text", test_error_text);
	g_test_add_func("/notifier-model/catchup-after-reload", test_catchup_after_reload);
	g_test_add_func("/notifier-model/reset", test_reset);
	g_test_add_func("/notifier-model/reset-catchup", test_reset_catchup);
	g_test_add_func("/notifier-model/duplicates", test_duplicates);
	return g_test_run();
}
