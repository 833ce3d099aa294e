/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_UIDSET_H
#define IMAPWATCH_UIDSET_H

/*
 * UID sets (pure): a set of UIDs as sorted, disjoint, non-adjacent ranges,
 * so that a folder of 100,000 messages whose UIDs mostly follow each other
 * costs a few ranges, not 100,000 entries. Reads and writes the IMAP
 * sequence-set form ("1:5,9,12:14"; RFC 9051 §9 "sequence-set", as ESEARCH
 * returns it, RFC 4731). UID 0 is never a member.
 *
 * Lookups are binary searches over the ranges; adding or removing a UID
 * moves the ranges after it (memmove), which is cheap for the few hundred
 * ranges of a real folder and never worse than linear.
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct uid_range {
	uint32_t lo; /* first UID, >= 1 */
	uint32_t hi; /* last UID, >= lo */
};

struct uidset;

struct uidset *uidset_new(void);
void uidset_free(struct uidset *set);
/* A copy of set. */
struct uidset *uidset_copy(const struct uidset *set);
void uidset_clear(struct uidset *set);

/* True if uid was not a member (and is one now). uid 0 is ignored. */
bool uidset_add(struct uidset *set, uint32_t uid);
/* Adds lo..hi (lo <= hi, lo >= 1). */
void uidset_add_range(struct uidset *set, uint32_t lo, uint32_t hi);
/* True if uid was a member (and is not now). */
bool uidset_remove(struct uidset *set, uint32_t uid);
/* Removes every member of other. */
void uidset_remove_set(struct uidset *set, const struct uidset *other);
/* Removes every member above uid. */
void uidset_remove_above(struct uidset *set, uint32_t uid);

bool uidset_contains(const struct uidset *set, uint32_t uid);
/* How many UIDs. */
uint64_t uidset_count(const struct uidset *set);
/* Members at or below uid. */
uint64_t uidset_count_upto(const struct uidset *set, uint32_t uid);
/* The highest member, or 0 when empty. */
uint32_t uidset_max(const struct uidset *set);
bool uidset_equal(const struct uidset *a, const struct uidset *b);

/* The ranges, ascending; valid until the set changes. */
const struct uid_range *uidset_ranges(const struct uidset *set, size_t *n_ranges);

/* Parses a sequence set of UIDs ("1:5,9", ranges in any order and either
 * direction, overlaps allowed) into set (added to what it holds). '*' is
 * not accepted. False, with set unchanged, for anything else or when the
 * set would hold more than max_ranges ranges. */
bool uidset_parse(struct uidset *set, const char *text, size_t max_ranges);
/* Appends the set in sequence-set form ("1:5,9"); nothing when empty. */
void uidset_append(const struct uidset *set, GString *out);

typedef struct uidset uidset;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(uidset, uidset_free)

#endif
