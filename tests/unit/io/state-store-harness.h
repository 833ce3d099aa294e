/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_TEST_STATE_STORE_HARNESS_H
#define IMAPWATCH_TEST_STATE_STORE_HARNESS_H

/*
 * What the state store tests share: a fresh temp dir per test (struct
 * fixture), files read and written whole, sample states and the checks that
 * a load worked or set a damaged file aside.
 */

#include "imapwatch/io/state-store.h"

#include <glib.h>

struct fixture {
	char *dir;
};

void fx_setup(struct fixture *fx, gconstpointer data);
void fx_teardown(struct fixture *fx, gconstpointer data);
/* Registers a test that runs in a struct fixture. */
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fx_setup, fn, fx_teardown)
int compare_names(const void *a, const void *b);

/* Sorted names in dir. */
GPtrArray *dir_names(const char *dir);
guint count_with_infix(const char *dir, const char *infix);
char *state_path(const char *dir, const char *account);
void write_bytes(const char *path, const char *data, gsize len);
char *read_bytes(const char *path, gsize *len);
void add_folder(struct state_account *st, const char *name, uint32_t uidvalidity,
                uint32_t watermark, uint32_t uidnext, uint64_t modseq, const uint32_t *shown,
                guint n_shown);
struct state_account *sample_state(const char *account);
void assert_state_equal(const struct state_account *a, const struct state_account *b);
struct state_account *load_ok(const char *dir, const char *account);

/* The file of account is unusable: it must be set aside, with a warning
 * naming it (and containing reason, if given), and an empty state. */
void assert_set_aside(const char *dir, const char *account, const char *reason);
void remove_corrupt_files(const char *dir);

/* body plus its "end" line, as the writer would produce. */
GString *with_checksum(const char *body, gsize len);

#endif
