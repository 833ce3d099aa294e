/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/backoff.h"

#include <glib.h>

static void test_growth(void)
{
	/* The upper end of the jitter range doubles from 1 s up to 5 min. */
	static const uint32_t expected_max[] = {1000,  2000,   4000,   8000,   16000, 32000,
	                                        64000, 128000, 256000, 300000, 300000};

	for (unsigned i = 0; i < G_N_ELEMENTS(expected_max); i++) {
		g_assert_cmpuint(backoff_delay_ms(i, false, UINT32_MAX), <=, expected_max[i]);
		g_assert_cmpuint(backoff_delay_ms(i, false, expected_max[i] - expected_max[i] / 2),
		                 ==, expected_max[i]);
		g_assert_cmpuint(backoff_delay_ms(i, false, 0), ==, expected_max[i] / 2);
	}
	g_assert_cmpuint(backoff_delay_ms(1000, false, 0), ==, 150000);
}

static void test_resource(void)
{
	g_assert_cmpuint(backoff_delay_ms(0, true, 0), ==, 15000);
	g_assert_cmpuint(backoff_delay_ms(0, true, 15000), ==, 30000);
	g_assert_cmpuint(backoff_delay_ms(20, true, 150000), ==, 300000);
}

static void test_jitter_range(void)
{
	GRand *rand = g_rand_new_with_seed(42);

	for (unsigned attempt = 0; attempt < 12; attempt++) {
		uint32_t lo = UINT32_MAX;
		uint32_t hi = 0;

		for (int i = 0; i < 2000; i++) {
			uint32_t d = backoff_delay_ms(attempt, false, g_rand_int(rand));
			lo = MIN(lo, d);
			hi = MAX(hi, d);
		}
		uint32_t nominal = MIN(1000u << attempt, 300000u);
		g_assert_cmpuint(lo, >=, nominal / 2);
		g_assert_cmpuint(hi, <=, nominal);
		/* Jitter really spreads the delays. */
		g_assert_cmpuint(hi - lo, >, nominal / 4);
	}
	g_rand_free(rand);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/backoff/growth", test_growth);
	g_test_add_func("/backoff/resource", test_resource);
	g_test_add_func("/backoff/jitter-range", test_jitter_range);
	return g_test_run();
}
