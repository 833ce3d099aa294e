/* SPDX-License-Identifier: MIT */
/*
 * Runs LLVMFuzzerTestOneInput over every file of the directories (or the
 * files) given, in name order, so that the seed corpus and the regression
 * inputs are checked by ctest in every build, with gcc and without
 * libFuzzer. A failing input aborts; its name was printed just before.
 */
#include "fuzz.h"

#include <stdio.h>
#include <string.h>

static int replay_file(const char *path)
{
	g_autofree char *contents = NULL;
	g_autofree uint8_t *copy = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &contents, &len, &error)) {
		fprintf(stderr, "replay: %s\n", error->message);
		return 1;
	}
	/* An exact-size copy: g_file_get_contents() adds a NUL after the data,
	 * which would hide a one-byte over-read from the sanitizers. */
	copy = g_malloc(MAX(len, 1));
	memcpy(copy, contents, len);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, (size_t)len);
	LLVMFuzzerTestOneInput(copy, len);
	return 0;
}

/* g_ptr_array_sort() passes pointers to the elements. */
static gint replay_compare(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int replay_dir(const char *path, unsigned *count)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = g_dir_open(path, 0, &error);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	int failed = 0;

	if (dir == NULL) {
		fprintf(stderr, "replay: %s\n", error->message);
		return 1;
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_ptr_array_add(names, g_build_filename(path, name, NULL));
	}
	g_ptr_array_sort(names, replay_compare);
	for (guint i = 0; i < names->len; i++) {
		failed |= replay_file(names->pdata[i]);
		(*count)++;
	}
	return failed;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
			failed |= replay_dir(argv[i], &count);
		} else {
			failed |= replay_file(argv[i]);
			count++;
		}
	}
	/* An empty or missing corpus must not pass as "nothing failed". */
	if (count == 0) {
		fprintf(stderr, "replay: no inputs\n");
		return 1;
	}
	printf("replay: %u inputs\n", count);
	return failed;
}
