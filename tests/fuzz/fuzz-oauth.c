/* SPDX-License-Identifier: MIT */
/*
 * A token command's output and a server's refusal of a token. Whatever the
 * bytes: a token that is accepted is a non-empty bearer token (RFC 6750
 * §2.1 characters, '=' only at the end), a refusal has an error and no
 * token, and the description of a refusal is NULL or non-empty text.
 */
#include "fuzz.h"

#include "imapwatch/core/oauth.h"

#include <string.h>

static bool bearer_token(const char *t)
{
	size_t n = strlen(t);
	size_t i =
	    strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

	return i > 0 && strspn(t + i, "=") == n - i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauth_token token;
	g_autofree char *error = NULL;
	g_autofree char *text = g_strndup((const char *)data, size);

	fuzz_init();
	if (oauth_token_parse((const char *)data, size, 1800000000, &token, &error)) {
		FUZZ_CHECK(error == NULL);
		FUZZ_CHECK(token.access_token != NULL && bearer_token(token.access_token));
		FUZZ_CHECK(token.expires_at >= 0);
		oauth_token_clear(&token);
	} else {
		FUZZ_CHECK(error != NULL && error[0] != '\0');
		FUZZ_CHECK(token.access_token == NULL);
	}
	g_autofree char *described = oauth_error_describe(text);
	FUZZ_CHECK(described == NULL || described[0] != '\0');
	return 0;
}
