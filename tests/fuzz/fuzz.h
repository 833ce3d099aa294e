/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_FUZZ_H
#define IMAPWATCH_FUZZ_H

/*
 * Shared by the libFuzzer targets in this directory. Each target defines
 * LLVMFuzzerTestOneInput(); it is linked either with libFuzzer (clang,
 * -DIMAPWATCH_FUZZ=ON) or with replay.c, which runs it over a corpus under
 * ctest in every build.
 *
 * Invariants are checked with FUZZ_CHECK, not assert(): release builds
 * define NDEBUG, and a replay that silently skips its checks proves nothing.
 */

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "fuzz invariant failed: <message>" and aborts, so that both
 * libFuzzer and ctest record the input as a failure. */
G_GNUC_NORETURN G_GNUC_PRINTF(3, 4) void fuzz_fail(const char *file, int line, const char *fmt,
                                                   ...);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fuzz_fail(__FILE__, __LINE__, "%s", #cond);                                \
		}                                                                                  \
	} while (0)

#define FUZZ_CHECK_MSG(cond, ...)                                                                  \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);                                \
		}                                                                                  \
	} while (0)

/* Call first in every LLVMFuzzerTestOneInput. Idempotent. Drops GLib log
 * output below critical (the modules log debug and warning lines about
 * hostile input, which would drown the fuzzer's output) and makes
 * criticals fatal: a failed g_return_if_fail() is a bug even when nothing
 * crashes. */
void fuzz_init(void);

/* True if s is valid UTF-8 without C0/C1 controls, DEL, U+200E/U+200F or
 * the bidi embedding/override/isolate characters: what header_sanitize()
 * promises for text shown to the user. NULL counts as clean. */
bool fuzz_text_is_display_safe(const char *s);

#endif
