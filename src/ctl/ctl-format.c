/* SPDX-License-Identifier: MIT */
#include "imapwatch/ctl/ctl-format.h"

#include <string.h>

char *ctl_format_ago(gint64 when, gint64 now)
{
	if (when == 0) {
		return g_strdup("never");
	}
	if (when > now + 60) {
		return g_strdup("in the future");
	}
	gint64 ago = now > when ? now - when : 0;
	if (ago < 5) {
		return g_strdup("just now");
	}
	if (ago < 60) {
		return g_strdup_printf("%" G_GINT64_FORMAT " s ago", ago);
	}
	if (ago < 3600) {
		return g_strdup_printf("%" G_GINT64_FORMAT " min ago", ago / 60);
	}
	if (ago < 2 * 86400) {
		return g_strdup_printf("%" G_GINT64_FORMAT " h ago", ago / 3600);
	}
	return g_strdup_printf("%" G_GINT64_FORMAT " days ago", ago / 86400);
}

char *ctl_format_duration(guint64 s)
{
	if (s < 60) {
		return g_strdup_printf("%" G_GUINT64_FORMAT " s", s);
	}
	if (s < 3600) {
		return g_strdup_printf("%" G_GUINT64_FORMAT " min", s / 60);
	}
	if (s < 86400) {
		return g_strdup_printf("%" G_GUINT64_FORMAT " h %" G_GUINT64_FORMAT " min",
		                       s / 3600, s % 3600 / 60);
	}
	return g_strdup_printf("%" G_GUINT64_FORMAT " %s %" G_GUINT64_FORMAT " h", s / 86400,
	                       s / 86400 == 1 ? "day" : "days", s % 86400 / 3600);
}

static gsize char_width(gunichar c)
{
	if (g_unichar_iszerowidth(c)) {
		return 0;
	}
	return g_unichar_iswide(c) ? 2 : 1;
}

gsize ctl_format_width(const char *text)
{
	gsize width = 0;

	if (!g_utf8_validate(text, -1, NULL)) {
		return strlen(text);
	}
	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		width += char_width(c);
	}
	return width;
}

char *ctl_format_ellipsize(const char *text, gsize width)
{
	g_autofree char *valid = g_utf8_make_valid(text, -1);
	GString *out;
	gsize used = 0;

	if (ctl_format_width(valid) <= width) {
		return g_steal_pointer(&valid);
	}
	out = g_string_new(NULL);
	if (width == 0) {
		return g_string_free(out, FALSE);
	}
	/* Whole characters up to one column short, their combining marks
	 * with them; then the ellipsis. */
	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gsize w = char_width(g_utf8_get_char(p));

		if (used + w > width - 1) {
			break;
		}
		g_string_append_len(out, p, g_utf8_next_char(p) - p);
		used += w;
	}
	while (out->len > 0 && out->str[out->len - 1] == ' ') {
		g_string_truncate(out, out->len - 1);
	}
	g_string_append(out, "…");
	return g_string_free(out, FALSE);
}

static void json_append_children(GString *out, GVariant *value, bool object)
{
	GVariantIter it;
	GVariant *child;
	bool first = true;

	g_string_append_c(out, object ? '{' : '[');
	g_variant_iter_init(&it, value);
	while ((child = g_variant_iter_next_value(&it)) != NULL) {
		if (!first) {
			g_string_append_c(out, ',');
		}
		first = false;
		if (object) {
			g_autoptr(GVariant) key = g_variant_get_child_value(child, 0);
			g_autoptr(GVariant) item = g_variant_get_child_value(child, 1);

			ctl_format_json(out, key);
			g_string_append_c(out, ':');
			ctl_format_json(out, item);
		} else {
			ctl_format_json(out, child);
		}
		g_variant_unref(child);
	}
	g_string_append_c(out, object ? '}' : ']');
}

void ctl_format_json(GString *out, GVariant *value)
{
	switch (g_variant_classify(value)) {
	case G_VARIANT_CLASS_BOOLEAN:
		g_string_append(out, g_variant_get_boolean(value) ? "true" : "false");
		break;
	case G_VARIANT_CLASS_BYTE:
		g_string_append_printf(out, "%u", g_variant_get_byte(value));
		break;
	case G_VARIANT_CLASS_INT16:
		g_string_append_printf(out, "%d", g_variant_get_int16(value));
		break;
	case G_VARIANT_CLASS_UINT16:
		g_string_append_printf(out, "%u", g_variant_get_uint16(value));
		break;
	case G_VARIANT_CLASS_INT32:
		g_string_append_printf(out, "%" G_GINT32_FORMAT, g_variant_get_int32(value));
		break;
	case G_VARIANT_CLASS_UINT32:
		g_string_append_printf(out, "%" G_GUINT32_FORMAT, g_variant_get_uint32(value));
		break;
	case G_VARIANT_CLASS_INT64:
		g_string_append_printf(out, "%" G_GINT64_FORMAT, g_variant_get_int64(value));
		break;
	case G_VARIANT_CLASS_UINT64:
		g_string_append_printf(out, "%" G_GUINT64_FORMAT, g_variant_get_uint64(value));
		break;
	case G_VARIANT_CLASS_DOUBLE:
		g_string_append_printf(out, "%.17g", g_variant_get_double(value));
		break;
	case G_VARIANT_CLASS_STRING:
	case G_VARIANT_CLASS_OBJECT_PATH:
	case G_VARIANT_CLASS_SIGNATURE:
		watch_event_append_json_string(out, g_variant_get_string(value, NULL));
		break;
	case G_VARIANT_CLASS_VARIANT: {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);

		ctl_format_json(out, inner);
		break;
	}
	case G_VARIANT_CLASS_MAYBE:
		if (g_variant_n_children(value) == 0) {
			g_string_append(out, "null");
		} else {
			g_autoptr(GVariant) inner = g_variant_get_child_value(value, 0);

			ctl_format_json(out, inner);
		}
		break;
	case G_VARIANT_CLASS_ARRAY: {
		const GVariantType *element = g_variant_type_element(g_variant_get_type(value));
		bool object =
		    g_variant_type_is_dict_entry(element) &&
		    g_variant_type_equal(g_variant_type_key(element), G_VARIANT_TYPE_STRING);

		json_append_children(out, value, object);
		break;
	}
	case G_VARIANT_CLASS_TUPLE:
	case G_VARIANT_CLASS_DICT_ENTRY:
	case G_VARIANT_CLASS_HANDLE:
		if (g_variant_is_container(value)) {
			json_append_children(out, value, false);
		} else {
			g_string_append(out, "null");
		}
		break;
	}
}

static const char *dict_string(GVariant *dict, const char *key)
{
	const char *value = NULL;

	/* "&s": the string stays owned by dict. */
	return g_variant_lookup(dict, key, "&s", &value) ? value : "";
}

static uint32_t dict_uint32(GVariant *dict, const char *key)
{
	guint32 value = 0;

	return g_variant_lookup(dict, key, "u", &value) ? value : 0;
}

static bool dict_bool(GVariant *dict, const char *key)
{
	gboolean value = FALSE;

	return g_variant_lookup(dict, key, "b", &value) && value;
}

void ctl_format_event_from_dict(GVariant *dict, enum watch_event_type type,
                                struct watch_event *event, const char ***flags)
{
	gint64 date = 0;

	*flags = NULL;
	if (!g_variant_lookup(dict, "flags", "^a&s", flags)) {
		*flags = g_new0(const char *, 1);
	}
	(void)g_variant_lookup(dict, "date", "x", &date);
	*event = (struct watch_event){
	    .type = type,
	    .account = dict_string(dict, "account"),
	    .folder = dict_string(dict, "folder"),
	    .uidvalidity = dict_uint32(dict, "uidvalidity"),
	    .uid = dict_uint32(dict, "uid"),
	    .message_id = dict_string(dict, "message_id"),
	    .from_name = dict_string(dict, "from_name"),
	    .from_addr = dict_string(dict, "from_addr"),
	    .subject = dict_string(dict, "subject"),
	    .date = date,
	    .catchup = dict_bool(dict, "catchup"),
	    .flags = *flags,
	    .seen = dict_bool(dict, "seen"),
	};
}

bool ctl_format_event_from_reset(GVariant *args, struct watch_event *event)
{
	if (!g_variant_is_of_type(args, G_VARIANT_TYPE("(ssuuuu)"))) {
		return false;
	}
	*event = (struct watch_event){.type = WATCH_EVENT_RESET};
	g_variant_get(args, "(&s&suuuu)", &event->account, &event->folder, &event->uidvalidity,
	              &event->previous_uidvalidity, &event->count, &event->unseen);
	return true;
}

char *ctl_format_reset_text(const struct watch_event *event)
{
	return g_strdup_printf(
	    "was reset by the server: %" G_GUINT32_FORMAT " %s, %" G_GUINT32_FORMAT " unread",
	    event->count, event->count == 1 ? "message" : "messages", event->unseen);
}
