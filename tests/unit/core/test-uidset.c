/* SPDX-License-Identifier: MIT */
/*
 * UID sets against a plain bitmap: random adds, removes and range
 * operations over a small universe must agree on every member, the count
 * and the text form; the text parser takes what ESEARCH sends and refuses
 * the rest.
 */
#include "imapwatch/core/uidset.h"

#include <string.h>

#define UNIVERSE 300

static void check_against(const struct uidset *set, const bool *bits)
{
	uint64_t n = 0;
	uint32_t max = 0;
	size_t n_ranges;
	const struct uid_range *r = uidset_ranges(set, &n_ranges);

	for (uint32_t u = 1; u < UNIVERSE; u++) {
		if (uidset_contains(set, u) != bits[u]) {
			g_error("uid %u: set says %d, bitmap %d", u, !bits[u], bits[u]);
		}
		n += bits[u];
		max = bits[u] ? u : max;
		g_assert_cmpuint(uidset_count_upto(set, u), ==, n);
	}
	g_assert_false(uidset_contains(set, 0));
	g_assert_cmpuint(uidset_count(set), ==, n);
	g_assert_cmpuint(uidset_max(set), ==, max);
	for (size_t i = 0; i < n_ranges; i++) {
		g_assert_cmpuint(r[i].lo, <=, r[i].hi);
		/* Disjoint and never touching: one spelling per set. */
		g_assert_true(i == 0 || r[i].lo > r[i - 1].hi + 1);
	}

	/* The text form parses back to the same set. */
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(uidset) again = uidset_new();
	uidset_append(set, text);
	if (n > 0) {
		g_assert_true(uidset_parse(again, text->str, 10000));
	}
	g_assert_true(uidset_equal(set, again));
}

static void test_random_operations(void)
{
	GRand *rand = g_rand_new_with_seed(7);
	g_autoptr(uidset) set = uidset_new();
	g_autoptr(uidset) other = uidset_new();
	bool bits[UNIVERSE] = {false};

	for (int step = 0; step < 20000; step++) {
		uint32_t a = (uint32_t)g_rand_int_range(rand, 1, UNIVERSE);
		uint32_t b = (uint32_t)g_rand_int_range(rand, 1, UNIVERSE);
		uint32_t lo = MIN(a, b);
		uint32_t hi = MAX(a, b);

		switch (g_rand_int_range(rand, 0, 6)) {
		case 0:
			g_assert_cmpint(uidset_add(set, a), ==, !bits[a]);
			bits[a] = true;
			break;
		case 1:
			g_assert_cmpint(uidset_remove(set, a), ==, bits[a]);
			bits[a] = false;
			break;
		case 2:
			/* Short ranges, so that the set keeps some holes. */
			hi = MIN(hi, lo + 10);
			uidset_add_range(set, lo, hi);
			for (uint32_t u = lo; u <= hi; u++) {
				bits[u] = true;
			}
			break;
		case 3:
			uidset_clear(other);
			uidset_add_range(other, lo, MIN(hi, lo + 20));
			uidset_add(other, b);
			uidset_remove_set(set, other);
			for (uint32_t u = 1; u < UNIVERSE; u++) {
				bits[u] = bits[u] && !uidset_contains(other, u);
			}
			break;
		case 4:
			if (g_rand_int_range(rand, 0, 20) == 0) {
				uidset_remove_above(set, a);
				for (uint32_t u = a + 1; u < UNIVERSE; u++) {
					bits[u] = false;
				}
			}
			break;
		default:
			if (g_rand_int_range(rand, 0, 50) == 0) {
				g_autoptr(uidset) copy = uidset_copy(set);
				g_assert_true(uidset_equal(copy, set));
			}
			break;
		}
		if (step % 97 == 0) {
			check_against(set, bits);
		}
	}
	check_against(set, bits);
	g_rand_free(rand);
}

static void test_edges(void)
{
	g_autoptr(uidset) set = uidset_new();
	g_autoptr(GString) text = g_string_new(NULL);

	uidset_add_range(set, UINT32_MAX - 2, UINT32_MAX);
	uidset_add(set, 1);
	g_assert_cmpuint(uidset_count(set), ==, 4);
	g_assert_cmpuint(uidset_max(set), ==, UINT32_MAX);
	g_assert_false(uidset_add(set, 0));
	uidset_remove_above(set, UINT32_MAX - 1);
	g_assert_cmpuint(uidset_max(set), ==, UINT32_MAX - 1);
	uidset_remove_above(set, UINT32_MAX); /* nothing above the top */
	uidset_append(set, text);
	g_assert_cmpstr(text->str, ==, "1,4294967293:4294967294");

	/* A whole 32-bit folder is one range, counted without overflow. */
	uidset_add_range(set, 1, UINT32_MAX);
	g_assert_cmpuint(uidset_count(set), ==, (uint64_t)UINT32_MAX);
	g_assert_true(uidset_remove(set, 1000));
	g_assert_cmpuint(uidset_count(set), ==, (uint64_t)UINT32_MAX - 1);
}

static void test_parse(void)
{
	static const struct {
		const char *text;
		const char *canonical; /* NULL: refused */
	} cases[] = {
	    {"1:5,9", "1:5,9"},
	    {"9,5:1", "1:5,9"},           /* any order, either direction */
	    {"3:7,1:4,8", "1:8"},         /* overlaps and neighbours merge */
	    {"4294967295", "4294967295"}, /* the highest UID */
	    {"4294967296", NULL},
	    {"0", NULL},
	    {"1:0", NULL},
	    {"", NULL},
	    {"1,,2", NULL},
	    {"1,", NULL},
	    {"*", NULL},
	    {"1:*", NULL},
	    {"+1", NULL},
	    {" 1", NULL},
	    {"1:2:3", NULL},
	    {"01", "1"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(uidset) set = uidset_new();
		g_autoptr(GString) text = g_string_new(NULL);

		uidset_add(set, 100); /* parse adds to what is there, or leaves it */
		bool ok = uidset_parse(set, cases[i].text, 100);
		if (ok != (cases[i].canonical != NULL)) {
			g_error("'%s': parse returned %d", cases[i].text, ok);
		}
		uidset_remove(set, 100);
		uidset_append(set, text);
		g_assert_cmpstr(text->str, ==, ok ? cases[i].canonical : "");
	}

	/* Bounded: more pieces than allowed is refused whatever they merge to. */
	g_autoptr(uidset) set = uidset_new();
	g_assert_false(uidset_parse(set, "1,2,3,4", 3));
	g_assert_true(uidset_parse(set, "1,2,3", 3));
	g_assert_cmpuint(uidset_count(set), ==, 3);

	/* A long descending list stays quick (sorted, then merged). */
	g_autoptr(GString) many = g_string_new(NULL);
	for (uint32_t u = 200000; u > 0; u -= 2) {
		g_string_append_printf(many, "%s%u", many->len > 0 ? "," : "", u);
	}
	g_autoptr(uidset) big = uidset_new();
	g_assert_true(uidset_parse(big, many->str, 100000));
	g_assert_cmpuint(uidset_count(big), ==, 100000);
	g_assert_true(uidset_contains(big, 2));
	g_assert_false(uidset_contains(big, 3));
}

/* Sets of many ranges, as a folder with scattered unseen mail gives:
 * removing one from the other is one pass, not a pass per range. */
static void test_many_ranges(void)
{
	g_autoptr(uidset) odd = uidset_new();
	g_autoptr(uidset) thirds = uidset_new();
	g_autoptr(uidset) all = uidset_new();

	for (uint32_t u = 1; u < 400000; u += 2) {
		uidset_add_range(odd, u, u);
	}
	for (uint32_t u = 3; u < 400000; u += 6) {
		uidset_add_range(thirds, u, u);
	}
	uidset_add_range(all, 1, 400000);
	uidset_remove_set(odd, thirds); /* 1, 5, 7, 11, 13, ... */
	g_assert_cmpuint(uidset_count(odd), ==, 200000 - 66667);
	g_assert_true(uidset_contains(odd, 5));
	g_assert_false(uidset_contains(odd, 9));
	uidset_remove_set(all, odd);
	g_assert_cmpuint(uidset_count(all), ==, 400000 - (200000 - 66667));
	g_assert_false(uidset_contains(all, 7));
	g_assert_true(uidset_contains(all, 9));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/uidset/random-operations", test_random_operations);
	g_test_add_func("/uidset/edges", test_edges);
	g_test_add_func("/uidset/parse", test_parse);
	g_test_add_func("/uidset/many-ranges", test_many_ranges);
	return g_test_run();
}
