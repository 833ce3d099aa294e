/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/secret.h"

#include <string.h>

struct secret {
	gatomicrefcount refs;
	char *text;
};

struct secret *secret_new(const char *text)
{
	struct secret *s = g_new0(struct secret, 1);

	g_atomic_ref_count_init(&s->refs);
	s->text = g_strdup(text != NULL ? text : "");
	return s;
}

struct secret *secret_ref(struct secret *s)
{
	g_atomic_ref_count_inc(&s->refs);
	return s;
}

void secret_unref(struct secret *s)
{
	if (s != NULL && g_atomic_ref_count_dec(&s->refs)) {
		secret_free(s->text);
		g_free(s);
	}
}

const char *secret_get(const struct secret *s)
{
	return s->text;
}

void secret_free(char *text)
{
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		g_free(text);
	}
}
