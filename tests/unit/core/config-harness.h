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

/* A text that must be refused, and the exact message. */
struct config_error_case {
	const char *text;
	const char *message;
};

/* Loads each text and checks that it is refused with exactly its message
 * and that no message quotes the password "hunter2". With data_dir, a
 * message is a printf format whose %s stands for data_dir (and %% for a
 * percent sign); without, it is taken as written. */
void assert_config_errors(const struct config_error_case *cases, size_t n, const char *data_dir);

#endif
