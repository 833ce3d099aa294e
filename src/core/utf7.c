/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/utf7.h"

#include <stdbool.h>
#include <stdint.h>

/* Modified base64 (RFC 3501 §5.1.3): the RFC 2045 alphabet with ',' in place
 * of '/', and no '=' padding. */
static const char utf7_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static bool utf7_is_direct(gunichar c)
{
	return c >= 0x20 && c <= 0x7e;
}

static int utf7_base64_value(char c)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	}
	if (c == '+') {
		return 62;
	}
	if (c == ',') {
		return 63;
	}
	return -1;
}

struct utf7_encoder {
	GString *out;
	uint32_t bits;
	unsigned nbits;
	bool shifted;
};

static void utf7_encoder_put_unit(struct utf7_encoder *enc, uint16_t unit)
{
	enc->bits = (enc->bits << 16) | unit;
	enc->nbits += 16;
	while (enc->nbits >= 6) {
		enc->nbits -= 6;
		g_string_append_c(enc->out, utf7_alphabet[(enc->bits >> enc->nbits) & 0x3f]);
	}
	/* Only the low nbits (< 6) are still needed; keep the accumulator from
	 * overflowing on long runs. */
	enc->bits &= (1u << enc->nbits) - 1;
}

static void utf7_encoder_unshift(struct utf7_encoder *enc)
{
	if (!enc->shifted) {
		return;
	}
	if (enc->nbits > 0) {
		/* Pad the last sextet with zero bits; the decoder checks them. */
		g_string_append_c(enc->out, utf7_alphabet[(enc->bits << (6 - enc->nbits)) & 0x3f]);
	}
	g_string_append_c(enc->out, '-');
	enc->bits = 0;
	enc->nbits = 0;
	enc->shifted = false;
}

char *utf7_imap_encode(const char *utf8)
{
	if (utf8 == NULL || !g_utf8_validate(utf8, -1, NULL)) {
		return NULL;
	}

	struct utf7_encoder enc = {.out = g_string_new(NULL)};
	for (const char *p = utf8; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (utf7_is_direct(c)) {
			utf7_encoder_unshift(&enc);
			if (c == '&') {
				g_string_append(enc.out, "&-");
			} else {
				g_string_append_c(enc.out, (char)c);
			}
			continue;
		}
		if (!enc.shifted) {
			g_string_append_c(enc.out, '&');
			enc.shifted = true;
		}
		if (c >= 0x10000) {
			c -= 0x10000;
			utf7_encoder_put_unit(&enc, (uint16_t)(0xd800 | (c >> 10)));
			utf7_encoder_put_unit(&enc, (uint16_t)(0xdc00 | (c & 0x3ff)));
		} else {
			utf7_encoder_put_unit(&enc, (uint16_t)c);
		}
	}
	utf7_encoder_unshift(&enc);
	return g_string_free(enc.out, FALSE);
}

/* Decodes one shift sequence starting after its '&' and ending at the
 * terminating '-', appending the characters to out. Returns the position of
 * the '-', or NULL if the sequence is malformed. */
static const char *utf7_decode_shift(const char *p, GString *out)
{
	uint32_t bits = 0;
	unsigned nbits = 0;
	gunichar high = 0;
	bool any = false;

	for (; *p != '-'; p++) {
		int v = utf7_base64_value(*p);
		if (v < 0) {
			/* Also covers the end of the string: unterminated shift. */
			return NULL;
		}
		bits = ((bits << 6) | (uint32_t)v) & 0x3fffff;
		nbits += 6;
		if (nbits < 16) {
			continue;
		}
		nbits -= 16;
		gunichar unit = (bits >> nbits) & 0xffff;
		any = true;
		if (high != 0) {
			if (unit < 0xdc00 || unit > 0xdfff) {
				return NULL;
			}
			g_string_append_unichar(out, 0x10000 + ((high - 0xd800) << 10) +
			                                 (unit - 0xdc00));
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			return NULL;
		} else if (unit == 0 || utf7_is_direct(unit)) {
			/* Printable ASCII must stand for itself, and U+0000 cannot
			 * be represented in a C string. */
			return NULL;
		} else {
			g_string_append_unichar(out, unit);
		}
	}
	/* At most 4 zero bits of padding may be left over: 6 or more would be
	 * a superfluous sextet, non-zero bits mean a sloppy encoder. */
	if (!any || high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0) {
		return NULL;
	}
	return p;
}

char *utf7_imap_decode(const char *mutf7)
{
	if (mutf7 == NULL) {
		return NULL;
	}

	g_autoptr(GString) out = g_string_new(NULL);
	bool after_shift = false;
	for (const char *p = mutf7; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c > 0x7e) {
			return NULL;
		}
		if (c != '&') {
			g_string_append_c(out, (char)c);
			after_shift = false;
			continue;
		}
		if (p[1] == '-') {
			g_string_append_c(out, '&');
			p++;
			after_shift = false;
			continue;
		}
		/* "&AOQ-&APY-" should have been one shift "&AOQA9g-": only the
		 * minimal form is accepted so that a name has one spelling. */
		if (after_shift) {
			return NULL;
		}
		p = utf7_decode_shift(p + 1, out);
		if (p == NULL) {
			return NULL;
		}
		after_shift = true;
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}
