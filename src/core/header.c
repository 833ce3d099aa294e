/* SPDX-License-Identifier: MIT */
/*
 * The header block: its fields unfolded, From: (the first mailbox, its
 * display name decoded by header-text.c), Date:, Message-ID:, and IMAP
 * INTERNALDATE.
 */
#include "core/header-private.h"

#include <gmime/gmime.h>
#include <string.h>

/* ---- From: ---- */

struct header_from {
	GString *phrase;  /* words of the current address, for the display name */
	GString *spec;    /* the same tokens unspaced, for a bare addr-spec */
	GString *comment; /* first comment, the name in "a@b.c (Name)" */
	GString *angle;   /* contents of <...>, NULL if none yet */
	char *fallback;   /* first phrase without any address */
	bool space;       /* CFWS seen since the last word */
	bool spaced;      /* the phrase has more than one word */
};

static void header_from_reset(struct header_from *f)
{
	g_string_truncate(f->phrase, 0);
	g_string_truncate(f->spec, 0);
	g_string_truncate(f->comment, 0);
	if (f->angle != NULL) {
		g_string_free(f->angle, TRUE);
		f->angle = NULL;
	}
	f->space = false;
	f->spaced = false;
}

static void header_from_add_word(struct header_from *f, const char *word, gsize len)
{
	if (f->space && f->phrase->len > 0) {
		g_string_append_c(f->phrase, ' ');
		f->spaced = true;
	}
	g_string_append_len(f->phrase, word, (gssize)len);
	f->space = false;
}

/* Skips a comment starting at p ('('), appending its text without the outer
 * parentheses and escapes to text. Nested comments are kept as text. */
static const char *header_skip_comment(const char *p, const char *end, GString *text)
{
	int depth = 0;

	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end) {
			p++;
			g_string_append_c(text, *p);
			continue;
		}
		if (*p == '(') {
			if (depth++ == 0) {
				continue;
			}
		} else if (*p == ')') {
			if (--depth == 0) {
				return p + 1;
			}
		}
		g_string_append_c(text, *p);
	}
	return end;
}

/* Skips a quoted string starting at p ('"'), appending its unescaped
 * contents to text. */
static const char *header_skip_quoted(const char *p, const char *end, GString *text)
{
	for (p++; p < end; p++) {
		if (*p == '\\' && p + 1 < end) {
			p++;
		} else if (*p == '"') {
			return p + 1;
		}
		g_string_append_c(text, *p);
	}
	return end;
}

/* An addr-spec has no whitespace of its own: what is left of it after
 * header_sanitize() is CFWS between its parts ("<john . doe @ example.org>",
 * RFC 5322 §4.4), and it is dropped so that the address stays one word. */
static void header_drop_spaces(char *s)
{
	char *q = s;

	for (const char *p = s; *p != '\0'; p++) {
		if (*p != ' ') {
			*q++ = *p;
		}
	}
	*q = '\0';
}

/* Ends one address. Returns true and sets the results if it was a mailbox.
 * The addr-spec is never RFC 2047-decoded (E3); the display name is, also
 * inside quotes, because many mailers quote encoded words. */
static bool header_from_finish(struct header_from *f, char **name, char **addr)
{
	if (f->angle != NULL) {
		const char *a = f->angle->str;
		/* Drop an obsolete source route "<@relay,@relay:user@host>". */
		const char *colon = strrchr(a, ':');
		if (a[strspn(a, " \t")] == '@' && colon != NULL) {
			a = colon + 1;
		}
		*addr = header_sanitize(a);
		header_drop_spaces(*addr);
		*name = header_decode_text(f->phrase->len > 0 ? f->phrase->str : f->comment->str);
		return true;
	}
	/* A bare addr-spec is one word: "John Doe john@example.com" or an
	 * unterminated quote is a phrase, shown as the name. */
	if (!f->spaced && strchr(f->spec->str, '@') != NULL &&
	    strpbrk(f->spec->str, " \t\r\n") == NULL) {
		*addr = header_sanitize(f->spec->str);
		*name = header_decode_text(f->comment->str);
		return true;
	}
	if (f->fallback == NULL && f->phrase->len > 0) {
		f->fallback = g_strdup(f->phrase->str);
	}
	return false;
}

/* Finds the first mailbox in an address list, descending into groups. If
 * there is none, the first bare phrase ("From: Mail Daemon") becomes the
 * name so that nothing the sender wrote is lost. */
static void header_parse_from(const char *s, gsize len, char **name, char **addr)
{
	const char *end = s + len;
	struct header_from f = {
	    .phrase = g_string_new(NULL),
	    .spec = g_string_new(NULL),
	    .comment = g_string_new(NULL),
	};
	bool found = false;

	for (const char *p = s; p < end && !found;) {
		if (header_is_lwsp(*p)) {
			f.space = true;
			p++;
		} else if (*p == '(') {
			g_autoptr(GString) text = g_string_new(NULL);
			p = header_skip_comment(p, end, text);
			if (f.comment->len == 0) {
				g_string_append_len(f.comment, text->str, (gssize)text->len);
			}
			f.space = true;
		} else if (*p == '"') {
			g_autoptr(GString) text = g_string_new(NULL);
			const char *q = header_skip_quoted(p, end, text);
			header_from_add_word(&f, text->str, text->len);
			g_string_append_len(f.spec, p, q - p);
			p = q;
		} else if (*p == '<') {
			const char *q = memchr(p, '>', (size_t)(end - p));
			const char *stop = q != NULL ? q : end;
			if (f.angle == NULL) {
				f.angle = g_string_new_len(p + 1, stop - p - 1);
			}
			p = q != NULL ? q + 1 : end;
		} else if (*p == ':') {
			/* Group name: not a person, forget it. */
			header_from_reset(&f);
			p++;
		} else if (*p == ',' || *p == ';') {
			found = header_from_finish(&f, name, addr);
			header_from_reset(&f);
			p++;
		} else {
			const char *q = p;
			while (q < end && !header_is_lwsp(*q) && strchr("(\"<:,;", *q) == NULL) {
				q++;
			}
			header_from_add_word(&f, p, (gsize)(q - p));
			g_string_append_len(f.spec, p, q - p);
			p = q;
		}
	}
	if (!found && !header_from_finish(&f, name, addr)) {
		*name = header_decode_text(f.fallback);
		*addr = g_strdup("");
	}

	header_from_reset(&f);
	g_string_free(f.phrase, TRUE);
	g_string_free(f.spec, TRUE);
	g_string_free(f.comment, TRUE);
	g_free(f.fallback);
}

/* ---- Date:, Message-ID: ---- */

static gint64 header_parse_date(const char *value)
{
	header_init_gmime();
	GDateTime *dt = g_mime_utils_header_decode_date(value);
	if (dt == NULL) {
		return 0;
	}
	gint64 t = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return t;
}

static char *header_parse_message_id(const char *value)
{
	const char *lt = strchr(value, '<');
	const char *gt = lt != NULL ? strchr(lt, '>') : NULL;
	if (gt != NULL) {
		g_autofree char *id = g_strndup(lt, (gsize)(gt + 1 - lt));
		return header_sanitize(id);
	}
	/* No brackets: keep whatever was sent rather than nothing. */
	return header_sanitize(value);
}

/* ---- the header block ---- */

enum header_field {
	HEADER_FIELD_FROM,
	HEADER_FIELD_SUBJECT,
	HEADER_FIELD_DATE,
	HEADER_FIELD_MESSAGE_ID,
	HEADER_FIELD_COUNT,
};

static const char *const header_field_names[HEADER_FIELD_COUNT] = {
    [HEADER_FIELD_FROM] = "From",
    [HEADER_FIELD_SUBJECT] = "Subject",
    [HEADER_FIELD_DATE] = "Date",
    [HEADER_FIELD_MESSAGE_ID] = "Message-ID",
};

static int header_field_lookup(const char *name, gsize len)
{
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t')) {
		/* obs-optional allows "Subject :" */
		len--;
	}
	for (int i = 0; i < HEADER_FIELD_COUNT; i++) {
		const char *known = header_field_names[i];
		if (strlen(known) == len && g_ascii_strncasecmp(name, known, len) == 0) {
			return i;
		}
	}
	return -1;
}

/* Splits the block into fields and unfolds them: a line starting with
 * SP/TAB continues the previous field, and the line break before it is
 * removed (RFC 5322 §2.2.3). Only the first of duplicate fields is kept.
 * An empty line ends the block. */
static void header_split_fields(const char *p, const char *end, GString **values)
{
	GString *cur = NULL;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl != NULL ? nl + 1 : end;
		const char *le = nl != NULL ? nl : end;
		if (le > p && le[-1] == '\r') {
			le--;
		}
		if (le == p) {
			break;
		}
		if (*p == ' ' || *p == '\t') {
			if (cur != NULL) {
				g_string_append_len(cur, p, le - p);
			}
			p = next;
			continue;
		}
		cur = NULL;
		const char *colon = memchr(p, ':', (size_t)(le - p));
		if (colon != NULL) {
			int i = header_field_lookup(p, (gsize)(colon - p));
			if (i >= 0 && values[i] == NULL) {
				values[i] = g_string_new_len(colon + 1, le - colon - 1);
				cur = values[i];
			}
		}
		p = next;
	}
}

void header_fields_parse(const char *raw, size_t len, struct header_fields *out)
{
	GString *values[HEADER_FIELD_COUNT] = {NULL};
	g_autoptr(GString) block = g_string_sized_new(len);

	for (size_t i = 0; raw != NULL && i < len; i++) {
		if (raw[i] != '\0') {
			g_string_append_c(block, raw[i]);
		}
	}
	header_split_fields(block->str, block->str + block->len, values);

	GString *from = values[HEADER_FIELD_FROM];
	if (from != NULL) {
		header_parse_from(from->str, from->len, &out->from_name, &out->from_addr);
	} else {
		out->from_name = g_strdup("");
		out->from_addr = g_strdup("");
	}
	GString *subject = values[HEADER_FIELD_SUBJECT];
	out->subject = header_decode_text(subject != NULL ? subject->str : NULL);
	GString *date = values[HEADER_FIELD_DATE];
	out->date = date != NULL ? header_parse_date(date->str) : 0;
	GString *id = values[HEADER_FIELD_MESSAGE_ID];
	out->message_id = id != NULL ? header_parse_message_id(id->str) : g_strdup("");

	for (int i = 0; i < HEADER_FIELD_COUNT; i++) {
		if (values[i] != NULL) {
			g_string_free(values[i], TRUE);
		}
	}
}

void header_fields_clear(struct header_fields *fields)
{
	if (fields == NULL) {
		return;
	}
	g_free(fields->from_name);
	g_free(fields->from_addr);
	g_free(fields->subject);
	g_free(fields->message_id);
	memset(fields, 0, sizeof(*fields));
}

/* ---- INTERNALDATE ---- */

static const char *header_parse_digits(const char *p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!g_ascii_isdigit(p[i])) {
			return NULL;
		}
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return p + n;
}

bool header_parse_internaldate(const char *s, gint64 *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int day, month = 0, year, hour, min, sec, zh, zm;

	if (s == NULL) {
		return false;
	}
	/* date-day-fixed is SP DIGIT or 2DIGIT; a caller may also have
	 * trimmed the space away. */
	if (s[0] == ' ' && g_ascii_isdigit(s[1]) && s[2] == '-') {
		s++;
	}
	const char *p = header_parse_digits(s, g_ascii_isdigit(s[0]) && s[1] == '-' ? 1 : 2, &day);
	if (p == NULL || *p++ != '-') {
		return false;
	}
	for (int i = 0; i < 12; i++) {
		if (g_ascii_strncasecmp(p, months + 3 * i, 3) == 0) {
			month = i + 1;
		}
	}
	if (month == 0 || p[3] != '-') {
		return false;
	}
	p = header_parse_digits(p + 4, 4, &year);
	if (p == NULL || *p++ != ' ' || (p = header_parse_digits(p, 2, &hour)) == NULL ||
	    *p++ != ':' || (p = header_parse_digits(p, 2, &min)) == NULL || *p++ != ':' ||
	    (p = header_parse_digits(p, 2, &sec)) == NULL || *p++ != ' ') {
		return false;
	}
	char sign = *p++;
	if ((sign != '+' && sign != '-') || (p = header_parse_digits(p, 2, &zh)) == NULL ||
	    (p = header_parse_digits(p, 2, &zm)) == NULL || *p != '\0') {
		return false;
	}
	if (year < 1 || hour > 23 || min > 59 || sec > 60 || zh > 23 || zm > 59) {
		return false;
	}

	/* GDateTime checks the day against the month; it has no leap second,
	 * so 60 is counted as 59 plus one. */
	GDateTime *dt = g_date_time_new_utc(year, month, day, hour, min, sec == 60 ? 59 : sec);
	if (dt == NULL) {
		return false;
	}
	gint64 t =
	    g_date_time_to_unix(dt) + (sec == 60) - (sign == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
	g_date_time_unref(dt);
	*out = t;
	return true;
}
