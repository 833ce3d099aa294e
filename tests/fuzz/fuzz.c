/* SPDX-License-Identifier: MIT */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: fuzz invariant failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static GLogWriterOutput fuzz_log_writer(GLogLevelFlags level, const GLogField *fields,
                                        gsize n_fields, gpointer user_data)
{
	(void)user_data;
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
		for (gsize i = 0; i < n_fields; i++) {
			if (g_strcmp0(fields[i].key, "MESSAGE") == 0) {
				fprintf(stderr, "GLib critical: %s\n",
				        (const char *)fields[i].value);
			}
		}
		abort();
	}
	return G_LOG_WRITER_HANDLED;
}

void fuzz_init(void)
{
	static bool done;

	if (done) {
		return;
	}
	done = true;
	g_log_set_writer_func(fuzz_log_writer, NULL, NULL);
}

bool fuzz_text_is_display_safe(const char *s)
{
	if (s == NULL) {
		return true;
	}
	if (!g_utf8_validate(s, -1, NULL)) {
		return false;
	}
	for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x200e || c == 0x200f ||
		    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
			return false;
		}
	}
	return true;
}
