/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_STATE_FORMAT_H
#define IMAPWATCH_STATE_FORMAT_H

/*
 * State format (pure): what imapwatch remembers across restarts (README,
 * "Staying connected"; docs/PROTOCOL.md N1, N4, I9) and its text form. Per
 * account, what it learnt of the server's IDLE lifetime; per watched
 * folder: UIDVALIDITY, the watermark UID, UIDNEXT, HIGHESTMODSEQ and the
 * UIDs whose desktop notification is still shown. The state store
 * (state-store.h) keeps one such text per account on disk.
 *
 * The data model's functions are named after the types (state_account_*,
 * state_folder_*) rather than the file: they are what the store's callers
 * use, the text functions are state_format_*.
 *
 * Text form, version 3 (one record per folder, fields in this order):
 *
 *	imapwatch-state 3
 *	account work
 *	idle 298 238
 *	folder Lists/dev%20team
 *	uidvalidity 1700000001
 *	uidnext 43
 *	watermark 42
 *	highestmodseq 9071
 *	shown 17,40:42
 *	sets 40 3
 *	uids 1:38,40:41
 *	unseen 17,40:41
 *	end sha256 <64 lower-case hex digits>
 *
 * - Names are UTF-8 as is, except bytes 0x01–0x20, 0x7F and '%', which are
 *   written %XX (upper-case hex), so any name — '/', ']', '=', spaces, even
 *   a line end — stays on one line and round-trips.
 * - "shown" lines hold ascending, non-overlapping UIDs and "lo:hi" ranges,
 *   cut into lines of about 1000 bytes; none when nothing is shown.
 * - "sets" (optional) says that the folder's UID sets follow, with how many
 *   UIDs each holds: "uids" lines (the messages at or below the watermark)
 *   then "unseen" lines, in the form of "shown", none for an empty set. The
 *   counts must match what the lines hold. Version 1 files, which have no
 *   sets, are read as well.
 * - "idle" (optional, right after "account") says that the server ends an
 *   IDLE after about that many seconds and that IDLE is refreshed after the
 *   second number (I9): 0 < refresh < lifetime <= STATE_FORMAT_IDLE_MAX.
 *   Only version 3 has it, so a file without it is written as version 2,
 *   which older versions of imapwatch read as well.
 * - The last line is a SHA-256 of every byte before it, so a truncated or
 *   partly written file is never taken for a good one.
 * - Parsing is strict (one spelling per state: canonical numbers and
 *   escapes, fixed order, no unknown keys) and bounded (the limits below).
 *   A different version number is reported as such.
 */

#include "imapwatch/core/uidset.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* At most this many shown UIDs per folder are written (and accepted when
 * read). Beyond that the lowest — oldest — UIDs are dropped: after a
 * restart their notifications can no longer be withdrawn, which is
 * harmless, while an unbounded set could make the file unloadable. */
#define STATE_FORMAT_SHOWN_MAX 10000
/* Longest folder name in bytes (Dovecot's own limit is 4096). */
#define STATE_FORMAT_NAME_MAX 4096
/* Longest account name in bytes after file-name escaping, so that
 * "<stem>.state.corrupt-<time>.<n>" still fits in NAME_MAX (255). */
#define STATE_FORMAT_ACCOUNT_ESCAPED_MAX 200
/* Larger texts are neither written nor parsed. */
#define STATE_FORMAT_FILE_MAX (4 * 1024 * 1024)
/* The longest IDLE lifetime (seconds) an "idle" line may name. */
#define STATE_FORMAT_IDLE_MAX 86400

struct state_folder {
	char *name;             /* UTF-8, not empty */
	uint32_t uidvalidity;   /* 0 = unknown */
	uint32_t watermark;     /* highest UID already reported or baselined */
	uint32_t uidnext;       /* 0 = unknown */
	uint64_t highestmodseq; /* 0 = unknown (or NOMODSEQ) */
	GArray *shown;          /* uint32_t, ascending, unique, never 0 */
	/* The UID sets as of highestmodseq (mailbox compact mode), both or
	 * neither; unseen within all. */
	struct uidset *all;
	struct uidset *unseen;
};

struct state_account {
	char *name; /* UTF-8, not empty, no '/' */
	/* Seconds: how long the server lets an IDLE live, and the refresh
	 * learnt from it (I9); both 0 when nothing is learnt. */
	guint idle_lifetime;
	guint idle_refresh;
	GPtrArray *folders; /* struct state_folder *, owned, unique names */
};

/* An empty state for account (copied). Never NULL. */
struct state_account *state_account_new(const char *name);
/* Frees the account and its folders. Accepts NULL. */
void state_account_free(struct state_account *account);

/* The folder called name, or NULL if there is none and create is false;
 * with create a new folder — everything 0, nothing shown — is added. Owned
 * by the account. */
struct state_folder *state_account_get_folder(struct state_account *account, const char *name,
                                              bool create);

/* Removes (and frees) the folders whose names are not in keep_folders
 * (NULL-terminated; NULL means none). Call before saving so that folders
 * dropped from the config do not linger. Returns how many were removed. */
guint state_account_prune_folders(struct state_account *account, const char *const *keep_folders);

/* Adds uid (not 0) to the shown set, keeping it sorted. Returns false if it
 * was there already (or is 0). */
bool state_folder_shown_add(struct state_folder *folder, uint32_t uid);
/* Removes uid from the shown set. Returns false if it was not there. */
bool state_folder_shown_remove(struct state_folder *folder, uint32_t uid);
/* Replaces the folder's sets with copies of all and unseen, or drops them
 * when all is NULL. */
void state_folder_set_sets(struct state_folder *folder, const struct uidset *all,
                           const struct uidset *unseen);

/*
 * Appends the text of state to out. Each folder's shown set is written
 * without its lowest UIDs beyond STATE_FORMAT_SHOWN_MAX; state is not
 * changed. Returns 0, or a negative errno for a state whose text could not
 * be parsed back (out then holds garbage): -EINVAL for an empty or
 * non-UTF-8 name, a duplicate folder, a shown set not strictly ascending or
 * holding 0, an IDLE lifetime and refresh that are not as "idle" requires
 * (or both 0); -ENAMETOOLONG for a folder name over STATE_FORMAT_NAME_MAX;
 * -EFBIG if the text would exceed STATE_FORMAT_FILE_MAX.
 */
int state_format_write(const struct state_account *state, GString *out);

/*
 * Parses the text in data (len bytes, NUL bytes allowed: they are errors).
 * Returns a new state named account, or NULL with *error (free with
 * g_free()) saying what is wrong in words for a log line, such as
 * "checksum mismatch (…)", "unknown format version 2 (…)" or "line 5: bad
 * number for 'watermark'". A text whose "account" line names another account
 * is rejected too.
 */
struct state_account *state_format_parse(const char *data, gsize len, const char *account,
                                         char **error);

/*
 * The file-name stem for account: every byte outside [A-Za-z0-9_-] as %XX,
 * so "." is "%2E", no stem contains '.' or '/', and different names give
 * different stems. Returns 0 and *stem (free with g_free()), -EINVAL for an
 * empty or non-UTF-8 name or one with '/', -ENAMETOOLONG beyond
 * STATE_FORMAT_ACCOUNT_ESCAPED_MAX.
 */
int state_format_account_stem(const char *account, char **stem);
/* True if the len bytes at s are a stem that state_format_account_stem()
 * could have produced (one spelling per name). */
bool state_format_is_stem(const char *s, gsize len);

typedef struct state_account state_account;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(state_account, state_account_free)

#endif
