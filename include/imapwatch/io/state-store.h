/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_STATE_STORE_H
#define IMAPWATCH_STATE_STORE_H

/*
 * State store: the persistent state (state-format.h) on disk, one file per
 * account, "<dir>/<stem>.state", where the stem is the escaped account name
 * (state_format_account_stem(): "." becomes "%2E", no name can reach
 * another directory). The default dir is $XDG_STATE_HOME/imapwatch.
 *
 * Files are written atomically (temp file, fsync, rename, fsync of the
 * directory), mode 0600 in a 0700 directory. A file that cannot be used is
 * renamed aside, never deleted, and loading goes on with an empty state.
 *
 * Everything here blocks on the file system (small files, a few syscalls)
 * and never logs: problems come back as return values and warning text
 * for the caller's log line. Single-threaded use: one daemon owns the dir.
 */

#include "imapwatch/core/state-format.h"

/* Set-aside corrupt files kept per account; older ones are deleted. */
#define STATE_STORE_CORRUPT_KEEP 3

/* $XDG_STATE_HOME/imapwatch (g_get_user_state_dir()). Free with g_free(). */
char *state_store_default_dir(void);

/*
 * Loads the state of account from dir: the fast file of
 * state_store_save_fast() if it is there and whole, else the durable one.
 *
 * Returns 0 and a new state in *out (free with state_account_free()) in
 * every case that concerns the file:
 *   - no file: an empty state, *warning NULL;
 *   - a good file: its contents, *warning NULL;
 *   - a file that cannot be used (unreadable, not a regular file, larger
 *     than STATE_FORMAT_FILE_MAX, truncated, checksum wrong, unknown version,
 *     written for another account, any syntax or value error): it is renamed
 *     to "<file>.corrupt-<unix time>" (".<n>" appended if that name exists),
 *     only the newest STATE_STORE_CORRUPT_KEEP such files of the account are
 *     kept, an empty state is returned, and *warning (free with g_free()) is
 *     a sentence for the log naming the file, what was wrong and where the
 *     file went (or why it could not be moved).
 *
 * Returns a negative errno, leaving *out and *warning untouched, only when
 * the file was not judged: -EINVAL or -ENAMETOOLONG for an account name that
 * cannot be stored (see state_format_account_stem()); -EMFILE, -ENFILE or
 * -ENOMEM when the process is out of resources — setting a good file aside
 * for a passing condition would lose its watermark.
 */
int state_store_load(const char *dir, const char *account, struct state_account **out,
                     char **warning);

/*
 * Writes state atomically to dir, creating dir (and parents) with mode 0700
 * if missing; an existing directory keeps its mode. A temp file
 * "<stem>.state.tmp-<random>" (O_CLOEXEC, 0600) is written, fsynced and
 * renamed over the old file, then dir is fsynced, then the fast file is
 * rewritten with the same text and synced. Shown sets are cut to
 * STATE_FORMAT_SHOWN_MAX (the lowest UIDs dropped); state is not changed.
 *
 * Returns 0, or a negative errno with the old file intact and no temp file
 * left: the errors of state_format_account_stem() and state_format_write()
 * for a state that could not be loaded back, or the error of the failing
 * syscall. One exception: if only the final fsync of dir fails, the new
 * file is in place but may not survive a power cut; that error is returned.
 */
int state_store_save(const char *dir, const struct state_account *state);

/* The same into the account's fast file, rewritten in place without a
 * sync: what a later state_store_load() returns, also after this process
 * is killed, but a power cut may find the file old or torn (then loading
 * takes the last state_store_save(), which also syncs the fast file).
 * Costs one open, write and close: cheap enough to come before every
 * announcement (N4). */
int state_store_save_fast(const char *dir, const struct state_account *state);

/*
 * Deletes from dir the state files, set-aside corrupt files and temp files
 * of every account not in keep_accounts (NULL-terminated; NULL means none),
 * and leftover temp files of all accounts (left by a crash between creating
 * and renaming one; saves are synchronous, so none is in use while this
 * runs). Files whose names are not ours are left alone. Returns 0 (also if
 * dir does not exist) or the first negative errno met; it carries on after
 * an error.
 */
int state_store_prune(const char *dir, const char *const *keep_accounts);

#endif
