/* SPDX-License-Identifier: MIT */
/* Loading a config from a string, for the config tests. */
#include "config-harness.h"

#include <string.h>

struct config *load(const char *text, GError **error)
{
	return config_load_data(text, strlen(text), "test.conf", error);
}
