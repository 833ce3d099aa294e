/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_TEST_CONFIG_HARNESS_H
#define IMAPWATCH_TEST_CONFIG_HARNESS_H

/*
 * What the config tests share. Their main() points HOME at TEST_DATA_DIR
 * first, so that "~/config/ca.pem" is the fixture file.
 */

#include "imapwatch/core/config.h"

/* Parses text as if read from the file "test.conf". */
struct config *load(const char *text, GError **error);

#endif
