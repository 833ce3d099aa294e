/* SPDX-License-Identifier: MIT */
#include "core/header-private.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <string.h>

/*
 * RFC 2047 decoding is done here rather than by
 * g_mime_utils_header_decode_text(): GMime silently drops words whose base64
 * is bad or unpadded, turns bytes it cannot convert into '?', and in its
 * default mode decodes words glued to other text. We want E3 exactly
 * (malformed → shown raw, nothing lost) and U+FFFD for bad bytes. GMime is
 * still used for what it does well: charset alias names
 * (g_mime_charset_iconv_name) and RFC 5322 dates with obsolete zones.
 */

/* g_mime_init() sets up GMime's charset tables; it must run once before the
 * GMime calls here and in header.c. Done lazily so callers need no setup,
 * and under g_once because headers may be decoded from more than one
 * thread. Never undone: the tables live until exit. */
void header_init_gmime(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		g_mime_init();
		g_once_init_leave(&done, 1);
	}
}

/* ---- sanitizing ---- */

static bool header_is_dropped_char(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

char *header_sanitize(const char *s)
{
	GString *out = g_string_new(NULL);
	bool space = false;

	if (s == NULL) {
		return g_string_free(out, FALSE);
	}
	const char *end = s + strlen(s);
	for (const char *p = s; p < end;) {
		gunichar c;
		if ((unsigned char)*p < 0x80) {
			c = (unsigned char)*p++;
		} else {
			c = g_utf8_get_char_validated(p, end - p);
			if (c == (gunichar)-1 || c == (gunichar)-2) {
				/* One replacement per bad byte, so nothing that
				 * follows a stray byte is swallowed. */
				c = 0xfffd;
				p++;
			} else {
				p = g_utf8_next_char(p);
			}
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = true;
			continue;
		}
		if (header_is_dropped_char(c)) {
			continue;
		}
		if (space && out->len > 0) {
			g_string_append_c(out, ' ');
		}
		space = false;
		g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

/* Server noise at the end of a reply's text, before an optional full stop
 * (see header_sanitize_reply()). */
static const char *const reply_noise =
    "[ \t]*(\\([0-9]+\\.[0-9]+( \\+ [0-9]+\\.[0-9]+){0,2} secs\\)"
    "|\\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\]"
    "|\\(Failure\\))(?=\\.?$)";

char *header_sanitize_reply(const char *s)
{
	g_autofree char *clean = header_sanitize(s);

	if (clean[0] == '\0') {
		return g_steal_pointer(&clean);
	}
	/* Compiled for each reply: failures are rare. */
	g_autoptr(GRegex) noise = g_regex_new(reply_noise, 0, 0, NULL);
	char *quiet = g_regex_replace_literal(noise, clean, -1, 0, "", 0, NULL);

	return quiet != NULL ? quiet : g_steal_pointer(&clean);
}

/* ---- charset conversion ---- */

/* Returns an iconv descriptor converting charset to UTF-8, or (GIConv)-1 if
 * iconv does not know the charset under its name or GMime's alias for it. */
static GIConv header_open_charset(const char *charset)
{
	header_init_gmime();
	const char *name = g_mime_charset_iconv_name(charset);
	GIConv cd = g_iconv_open("UTF-8", name);
	if (cd == (GIConv)-1 && g_ascii_strcasecmp(name, charset) != 0) {
		cd = g_iconv_open("UTF-8", charset);
	}
	return cd;
}

/* Appends UTF-8 output, dropping U+0000 so the result stays a C string. */
static void header_append_no_nul(GString *out, const char *s, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		if (s[i] != '\0') {
			g_string_append_c(out, s[i]);
		}
	}
}

/* Converts in[0..len) through cd and appends to out. Bytes the charset does
 * not define, and a truncated sequence at the end, become U+FFFD instead of
 * failing the whole string. */
static void header_convert(GIConv cd, const char *in, gsize len, GString *out)
{
	char buf[256];
	char *inp = (char *)in;
	gsize inleft = len;

	while (inleft > 0) {
		char *outp = buf;
		gsize outleft = sizeof(buf);
		gsize r = g_iconv(cd, &inp, &inleft, &outp, &outleft);
		int err = errno;
		header_append_no_nul(out, buf, sizeof(buf) - outleft);
		if (r != (gsize)-1 || err == E2BIG) {
			continue;
		}
		g_string_append_unichar(out, 0xfffd);
		if (err != EILSEQ) {
			/* EINVAL: an incomplete sequence at the end. */
			break;
		}
		inp++;
		inleft--;
	}
	/* Back to the initial shift state for the descriptor's next use. */
	g_iconv(cd, NULL, NULL, NULL, NULL);
}

/* Plain (not encoded) header text: RFC 6532 UTF-8 as is; anything else is
 * taken to be windows-1252, which is what unlabelled 8-bit mail from
 * Latin-1 era clients almost always is. */
static void header_append_raw(GString *out, const char *s, gsize len)
{
	if (g_utf8_validate(s, (gssize)len, NULL)) {
		header_append_no_nul(out, s, len);
		return;
	}
	GIConv cd = header_open_charset("windows-1252");
	if (cd == (GIConv)-1) {
		/* No iconv at all: header_sanitize() turns the bytes into
		 * U+FFFD later. */
		g_string_append_len(out, s, (gssize)len);
		return;
	}
	header_convert(cd, s, len, out);
	g_iconv_close(cd);
}

/* ---- RFC 2047 ---- */

static int header_base64_value(char c)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *hit = c != '\0' ? strchr(alphabet, c) : NULL;

	return hit != NULL ? (int)(hit - alphabet) : -1;
}

static bool header_decode_q(const char *s, gsize len, GString *out)
{
	for (gsize i = 0; i < len; i++) {
		if (s[i] == '_') {
			g_string_append_c(out, ' ');
		} else if (s[i] == '=') {
			int hi = i + 2 < len ? g_ascii_xdigit_value(s[i + 1]) : -1;
			int lo = hi >= 0 ? g_ascii_xdigit_value(s[i + 2]) : -1;
			if (lo < 0) {
				return false;
			}
			g_string_append_c(out, (char)(hi << 4 | lo));
			i += 2;
		} else {
			g_string_append_c(out, s[i]);
		}
	}
	return true;
}

/* Strict base64, except that missing '=' padding is tolerated because
 * several mailers omit it. */
static bool header_decode_b(const char *s, gsize len, GString *out)
{
	guint32 bits = 0;
	unsigned nbits = 0;
	gsize i = 0;

	for (; i < len && s[i] != '='; i++) {
		int v = header_base64_value(s[i]);
		if (v < 0) {
			return false;
		}
		bits = (bits << 6 | (guint32)v) & 0xffffff;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			g_string_append_c(out, (char)(bits >> nbits));
		}
	}
	gsize data = i;
	for (; i < len && s[i] == '='; i++) {
	}
	gsize pad = i - data;
	if (i != len || data % 4 == 1 || pad > 2 || (pad > 0 && len % 4 != 0)) {
		return false;
	}
	return true;
}

/* RFC 2978 names are short and made of letters, digits and a little
 * punctuation. Anything else is not passed to iconv_open(), which would
 * otherwise also see "//TRANSLIT" style suffixes or path separators. */
static bool header_is_charset_name(const char *s, gsize len)
{
	if (len == 0 || len > 64) {
		return false;
	}
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(s[i]) && strchr("-_.:+", s[i]) == NULL) {
			return false;
		}
	}
	return true;
}

struct header_word {
	const char *start; /* the whole "=?...?=" in the input */
	gsize len;
	char *charset;  /* without an RFC 2231 "*language" suffix */
	GString *bytes; /* decoded, still in charset */
};

static void header_word_clear(struct header_word *w)
{
	g_clear_pointer(&w->charset, g_free);
	if (w->bytes != NULL) {
		g_string_free(w->bytes, TRUE);
		w->bytes = NULL;
	}
}

/* Parses one encoded word at p (not past end). Returns the position after
 * it and fills w, or NULL if p does not start a well-formed word. */
static const char *header_parse_word(const char *p, const char *end, struct header_word *w)
{
	if (end - p < 8 || p[0] != '=' || p[1] != '?') {
		return NULL;
	}
	const char *cs = p + 2;
	const char *q = cs;
	while (q < end && *q != '?') {
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
			return NULL;
		}
		q++;
	}
	if (q == cs || end - q < 5 || q[2] != '?') {
		return NULL;
	}
	char enc = g_ascii_toupper(q[1]);
	if (enc != 'B' && enc != 'Q') {
		return NULL;
	}
	const char *text = q + 3;
	const char *t = text;
	while (t < end && *t != '?') {
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f) {
			return NULL;
		}
		t++;
	}
	if (end - t < 2 || t[1] != '=') {
		return NULL;
	}

	const char *star = memchr(cs, '*', (size_t)(q - cs));
	const char *cs_end = star != NULL ? star : q;
	if (!header_is_charset_name(cs, (gsize)(cs_end - cs))) {
		return NULL;
	}
	GString *bytes = g_string_new(NULL);
	bool ok = enc == 'B' ? header_decode_b(text, (gsize)(t - text), bytes)
	                     : header_decode_q(text, (gsize)(t - text), bytes);
	if (!ok) {
		g_string_free(bytes, TRUE);
		return NULL;
	}
	w->start = p;
	w->len = (gsize)(t + 2 - p);
	w->charset = g_strndup(cs, (gsize)(cs_end - cs));
	w->bytes = bytes;
	return t + 2;
}

/* A piece of the value: literal text (whitespace or not), or a decoded
 * encoded word whose charset iconv knows. */
struct header_piece {
	bool encoded;
	bool space;
	const char *start;
	gsize len;
	struct header_word word;
};

static void header_piece_clear(gpointer data)
{
	header_word_clear(&((struct header_piece *)data)->word);
}

static void header_add_literal(GArray *pieces, const char *start, gsize len, bool space)
{
	struct header_piece piece = {.space = space, .start = start, .len = len};
	g_array_append_val(pieces, piece);
}

/* Splits one whitespace-free token into pieces. A token made only of
 * well-formed encoded words counts as words, even when they are glued
 * together without the required space (a common mailer bug); anything else
 * is literal text (E3: a word must be separated from adjacent text). Words
 * in charsets iconv does not know stay literal, i.e. shown raw (E5). */
static void header_split_token(GArray *pieces, const char *start, const char *end)
{
	guint first = pieces->len;
	const char *p = start;

	while (p < end) {
		struct header_piece piece = {.encoded = true};
		const char *next = header_parse_word(p, end, &piece.word);
		if (next == NULL) {
			break;
		}
		GIConv cd = header_open_charset(piece.word.charset);
		if (cd == (GIConv)-1) {
			piece.encoded = false;
		} else {
			g_iconv_close(cd);
		}
		piece.start = piece.word.start;
		piece.len = piece.word.len;
		g_array_append_val(pieces, piece);
		p = next;
	}
	if (p != end) {
		g_array_remove_range(pieces, first, pieces->len - first);
		header_add_literal(pieces, start, (gsize)(end - start), false);
	}
}

/* Flushes bytes collected from adjacent words in one charset. Collecting
 * first lets a multi-byte character split across two words (forbidden by
 * RFC 2047 §5 but common) decode to the intended character. */
static void header_flush_pending(GString *out, GString *pending, const char *charset)
{
	if (charset == NULL || pending->len == 0) {
		g_string_truncate(pending, 0);
		return;
	}
	GIConv cd = header_open_charset(charset);
	if (cd != (GIConv)-1) {
		header_convert(cd, pending->str, pending->len, out);
		g_iconv_close(cd);
	}
	g_string_truncate(pending, 0);
}

/* Decodes the RFC 2047 words in s[0..len) without sanitizing. */
static char *header_decode_words(const char *s, gsize len)
{
	const char *end = s + len;
	GArray *pieces = g_array_new(FALSE, TRUE, sizeof(struct header_piece));
	g_array_set_clear_func(pieces, header_piece_clear);

	for (const char *p = s; p < end;) {
		const char *q = p;
		bool space = header_is_lwsp(*p);
		while (q < end && header_is_lwsp(*q) == space) {
			q++;
		}
		if (space) {
			header_add_literal(pieces, p, (gsize)(q - p), true);
		} else {
			header_split_token(pieces, p, q);
		}
		p = q;
	}

	GString *out = g_string_new(NULL);
	GString *pending = g_string_new(NULL);
	const char *pending_charset = NULL;
	for (guint i = 0; i < pieces->len; i++) {
		struct header_piece *piece = &g_array_index(pieces, struct header_piece, i);
		if (piece->encoded) {
			if (pending_charset != NULL &&
			    g_ascii_strcasecmp(pending_charset, piece->word.charset) != 0) {
				header_flush_pending(out, pending, pending_charset);
			}
			pending_charset = piece->word.charset;
			g_string_append_len(pending, piece->word.bytes->str,
			                    (gssize)piece->word.bytes->len);
			continue;
		}
		/* E2: whitespace between two encoded words is dropped. */
		if (piece->space && pending_charset != NULL && i + 1 < pieces->len &&
		    g_array_index(pieces, struct header_piece, i + 1).encoded) {
			continue;
		}
		header_flush_pending(out, pending, pending_charset);
		pending_charset = NULL;
		header_append_raw(out, piece->start, piece->len);
	}
	header_flush_pending(out, pending, pending_charset);

	g_string_free(pending, TRUE);
	g_array_unref(pieces);
	return g_string_free(out, FALSE);
}

char *header_decode_text(const char *raw)
{
	if (raw == NULL) {
		return g_strdup("");
	}
	g_autofree char *decoded = header_decode_words(raw, strlen(raw));
	return header_sanitize(decoded);
}
