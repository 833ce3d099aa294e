/* SPDX-License-Identifier: MIT */
/*
 * OAuth access tokens from a token command's output, and a server's JSON
 * refusal of one (A3–A5). The JSON reader takes only what is needed: the
 * string and number members of the top-level object; nested values are
 * walked (bounded) and skipped. Strict where it matters: a document that is
 * not one well-formed object is not a token.
 */
#include "imapwatch/core/oauth.h"

#include <string.h>

/* --- a small JSON reader --------------------------------------------------- */

struct json {
	const char *p;
	const char *end;
};

/* The members the callers ask for: a string's decoded text, or a number's
 * text as written. */
struct member {
	const char *key;
	char *string;
	char *number;
};

static void skip_space(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) {
		j->p++;
	}
}

static bool eat(struct json *j, char c)
{
	skip_space(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = (char)g_ascii_tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A string after its opening quote; its text into out (NULL: skipped). */
static bool read_string(struct json *j, GString *out)
{
	while (j->p < j->end) {
		char c = *j->p++;

		if (c == '"') {
			return true;
		}
		if ((unsigned char)c < 0x20) {
			return false;
		}
		if (c != '\\') {
			if (out != NULL) {
				g_string_append_c(out, c);
			}
			continue;
		}
		if (j->p >= j->end) {
			return false;
		}
		c = *j->p++;
		const char *simple = strchr("\"\\/bfnrt", c);
		if (c != '\0' && simple != NULL) {
			if (out != NULL) {
				g_string_append_c(out, "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"]);
			}
			continue;
		}
		if (c != 'u' || j->end - j->p < 4) {
			return false;
		}
		gunichar u = 0;
		for (int i = 0; i < 4; i++) {
			int v = hex_value(*j->p++);

			if (v < 0) {
				return false;
			}
			u = u * 16 + (gunichar)v;
		}
		if (out != NULL) {
			/* Surrogates stand for themselves badly; a token has none. */
			g_string_append_unichar(out, g_unichar_validate(u) ? u : 0xFFFD);
		}
	}
	return false;
}

static bool read_number(struct json *j, GString *out)
{
	const char *start = j->p;

	while (j->p < j->end && *j->p != '\0' && strchr("+-0123456789.eE", *j->p) != NULL) {
		j->p++;
	}
	if (j->p == start) {
		return false;
	}
	if (out != NULL) {
		g_string_append_len(out, start, j->p - start);
	}
	return true;
}

static bool read_value(struct json *j, int depth, GString *string, GString *number);

/* An object or array after its opening bracket, skipped. */
static bool skip_container(struct json *j, char close, int depth)
{
	if (depth > OAUTH_JSON_DEPTH_MAX) {
		return false;
	}
	if (eat(j, close)) {
		return true;
	}
	do {
		if (close == '}') {
			if (!eat(j, '"') || !read_string(j, NULL) || !eat(j, ':')) {
				return false;
			}
		}
		if (!read_value(j, depth + 1, NULL, NULL)) {
			return false;
		}
	} while (eat(j, ','));
	return eat(j, close);
}

static bool read_value(struct json *j, int depth, GString *string, GString *number)
{
	static const char *const words[] = {"true", "false", "null"};

	skip_space(j);
	if (j->p >= j->end) {
		return false;
	}
	switch (*j->p) {
	case '"':
		j->p++;
		return read_string(j, string);
	case '{':
		j->p++;
		return skip_container(j, '}', depth);
	case '[':
		j->p++;
		return skip_container(j, ']', depth);
	default:
		break;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
		size_t n = strlen(words[i]);

		if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i], n) == 0) {
			j->p += n;
			return true;
		}
	}
	return read_number(j, number);
}

/* One JSON object and nothing after it; the members named in want get
 * their values (the last one wins if a key repeats). */
static bool read_object(const char *text, gsize len, struct member *want, size_t n_want)
{
	struct json j = {.p = text, .end = text + len};
	g_autoptr(GString) key = g_string_new(NULL);

	if (!eat(&j, '{')) {
		return false;
	}
	if (!eat(&j, '}')) {
		do {
			g_autoptr(GString) string = g_string_new(NULL);
			g_autoptr(GString) number = g_string_new(NULL);
			bool is_string;

			g_string_truncate(key, 0);
			if (!eat(&j, '"') || !read_string(&j, key) || !eat(&j, ':')) {
				return false;
			}
			skip_space(&j);
			is_string = j.p < j.end && *j.p == '"';
			if (!read_value(&j, 1, string, number)) {
				return false;
			}
			for (size_t i = 0; i < n_want; i++) {
				if (strcmp(key->str, want[i].key) != 0) {
					continue;
				}
				g_clear_pointer(&want[i].string, g_free);
				g_clear_pointer(&want[i].number, g_free);
				if (is_string) {
					want[i].string =
					    g_string_free(g_steal_pointer(&string), FALSE);
				} else if (number->len > 0) {
					want[i].number =
					    g_string_free(g_steal_pointer(&number), FALSE);
				}
			}
		} while (eat(&j, ','));
		if (!eat(&j, '}')) {
			return false;
		}
	}
	skip_space(&j);
	return j.p == j.end;
}

static void members_clear(struct member *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (m[i].string != NULL) {
			explicit_bzero(m[i].string, strlen(m[i].string));
		}
		g_clear_pointer(&m[i].string, g_free);
		g_clear_pointer(&m[i].number, g_free);
	}
}

/* --- tokens ------------------------------------------------------------------- */

/* RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
 * "+" / "/" ) *"=". Anything else would corrupt the SASL message. */
static bool token_valid(const char *t)
{
	size_t n = strlen(t);
	size_t i = 0;

	while (i < n && (g_ascii_isalnum(t[i]) || strchr("-._~+/", t[i]) != NULL)) {
		i++;
	}
	if (i == 0) {
		return false;
	}
	while (i < n && t[i] == '=') {
		i++;
	}
	return i == n;
}

/* A number of seconds, whole, as JSON writes it ("3599", "3599.0"). */
static bool seconds_value(const char *text, gint64 *out)
{
	char *end = NULL;
	double v = g_ascii_strtod(text, &end);

	if (end == text || *end != '\0' || !(v >= 0) || v > 1e12) {
		return false;
	}
	*out = (gint64)v;
	return true;
}

static bool expiry(const struct member *in, const struct member *at, gint64 now, gint64 *out,
                   char **error)
{
	gint64 v;

	*out = 0;
	if (in->number != NULL || in->string != NULL) {
		if (!seconds_value(in->number != NULL ? in->number : in->string, &v)) {
			*error = g_strdup(
			    "the token command's \"expires_in\" is not a number of seconds");
			return false;
		}
		*out = now + v;
		return true;
	}
	if (at->number != NULL) {
		if (!seconds_value(at->number, &v)) {
			*error = g_strdup("the token command's \"expires_at\" is not a Unix time");
			return false;
		}
		*out = v;
		return true;
	}
	if (at->string != NULL) {
		g_autoptr(GDateTime) when = g_date_time_new_from_iso8601(at->string, NULL);

		if (when == NULL && seconds_value(at->string, &v)) {
			*out = v;
			return true;
		}
		if (when == NULL || g_date_time_to_unix(when) < 0) {
			*error =
			    g_strdup("the token command's \"expires_at\" is neither a Unix time "
			             "nor an ISO 8601 date with a time zone");
			return false;
		}
		*out = g_date_time_to_unix(when);
	}
	return true;
}

bool oauth_token_parse(const char *output, gsize len, gint64 now, struct oauth_token *out,
                       char **error)
{
	const char *p = output;
	const char *end = output + MIN(len, (gsize)OAUTH_OUTPUT_MAX);

	memset(out, 0, sizeof(*out));
	*error = NULL;
	while (p < end && g_ascii_isspace(*p)) {
		p++;
	}
	if (p < end && *p == '{') {
		struct member m[] = {
		    {.key = "access_token"}, {.key = "expires_in"}, {.key = "expires_at"}};
		bool ok = read_object(p, (gsize)(end - p), m, G_N_ELEMENTS(m));

		if (!ok) {
			*error =
			    g_strdup("the token command printed something that starts like JSON "
			             "but is not a JSON object");
		} else if (m[0].string == NULL || m[0].string[0] == '\0') {
			*error =
			    g_strdup("the token command's JSON has no \"access_token\" string");
			ok = false;
		} else if (!token_valid(m[0].string)) {
			*error = g_strdup("the token command's \"access_token\" holds characters a "
			                  "bearer token cannot have");
			ok = false;
		} else {
			ok = expiry(&m[1], &m[2], now, &out->expires_at, error);
		}
		if (ok) {
			out->access_token = g_steal_pointer(&m[0].string);
		}
		members_clear(m, G_N_ELEMENTS(m));
		return ok;
	}
	const char *eol = p;
	while (eol < end && *eol != '\n' && *eol != '\r') {
		eol++;
	}
	while (eol > p && g_ascii_isspace(eol[-1])) {
		eol--;
	}
	g_autofree char *line = g_strndup(p, (gsize)(eol - p));
	if (line[0] == '\0') {
		*error = g_strdup("the token command printed nothing on its first line");
		return false;
	}
	if (!token_valid(line)) {
		explicit_bzero(line, strlen(line));
		*error = g_strdup("the token command's first line holds characters a bearer token "
		                  "cannot have (it should print the access token alone, or JSON)");
		return false;
	}
	out->access_token = g_steal_pointer(&line);
	return true;
}

void oauth_token_clear(struct oauth_token *token)
{
	if (token->access_token != NULL) {
		explicit_bzero(token->access_token, strlen(token->access_token));
		g_free(token->access_token);
	}
	memset(token, 0, sizeof(*token));
}

/* --- a server's refusal --------------------------------------------------- */

char *oauth_error_describe(const char *base64)
{
	gsize len = 0;
	g_autofree guchar *raw = NULL;
	struct member m[] = {{.key = "status"}, {.key = "scope"}, {.key = "schemes"}};
	GString *out;

	if (base64 == NULL || base64[0] == '\0' || strlen(base64) > OAUTH_OUTPUT_MAX) {
		return NULL;
	}
	raw = g_base64_decode(base64, &len);
	if (raw == NULL || len == 0 || !read_object((const char *)raw, len, m, G_N_ELEMENTS(m))) {
		members_clear(m, G_N_ELEMENTS(m));
		return NULL;
	}
	out = g_string_new(NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(m); i++) {
		const char *v = m[i].string != NULL ? m[i].string : m[i].number;

		if (v != NULL) {
			g_string_append_printf(out, "%s%s %s", out->len > 0 ? ", " : "", m[i].key,
			                       v);
		}
	}
	members_clear(m, G_N_ELEMENTS(m));
	if (out->len == 0) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}
