/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/event.h"

#include <inttypes.h>

static const char *const type_names[] = {
    [WATCH_EVENT_NEW] = "new",         [WATCH_EVENT_CHANGED] = "changed",
    [WATCH_EVENT_REMOVED] = "removed", [WATCH_EVENT_UNSEEN] = "unseen",
    [WATCH_EVENT_STATE] = "state",     [WATCH_EVENT_RESET] = "reset",
};

const char *watch_event_type_name(enum watch_event_type type)
{
	if ((unsigned)type >= G_N_ELEMENTS(type_names)) {
		return "unknown";
	}
	return type_names[type];
}

char *watch_event_message_id(const char *account, const char *folder, uint32_t uidvalidity,
                             uint32_t uid)
{
	return g_strdup_printf("%s/%s/%" PRIu32 "/%" PRIu32, account, folder, uidvalidity, uid);
}

void watch_event_append_json_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				g_string_append_printf(out, "\\u%04x", *p);
			} else {
				g_string_append_c(out, (char)*p);
			}
		}
	}
	g_string_append_c(out, '"');
}

static void json_append_member(GString *out, const char *key, const char *value)
{
	g_string_append_printf(out, ",\"%s\":", key);
	watch_event_append_json_string(out, value);
}

struct watch_event *watch_event_copy(const struct watch_event *event)
{
	struct watch_event *copy = g_new(struct watch_event, 1);

	*copy = *event;
	copy->account = g_strdup(event->account);
	copy->folder = g_strdup(event->folder);
	copy->message_id = g_strdup(event->message_id);
	copy->from_name = g_strdup(event->from_name);
	copy->from_addr = g_strdup(event->from_addr);
	copy->subject = g_strdup(event->subject);
	copy->flags = (const char *const *)g_strdupv((char **)event->flags);
	copy->state = g_strdup(event->state);
	copy->detail = g_strdup(event->detail);
	return copy;
}

void watch_event_free(struct watch_event *event)
{
	if (event == NULL) {
		return;
	}
	g_free((char *)event->account);
	g_free((char *)event->folder);
	g_free((char *)event->message_id);
	g_free((char *)event->from_name);
	g_free((char *)event->from_addr);
	g_free((char *)event->subject);
	g_strfreev((char **)event->flags);
	g_free((char *)event->state);
	g_free((char *)event->detail);
	g_free(event);
}

char *watch_event_to_json(const struct watch_event *ev)
{
	GString *out = g_string_new("{\"event\":");

	watch_event_append_json_string(out, watch_event_type_name(ev->type));
	json_append_member(out, "account", ev->account);
	if (ev->type == WATCH_EVENT_STATE) {
		json_append_member(out, "state", ev->state);
		json_append_member(out, "detail", ev->detail);
		g_string_append_c(out, '}');
		return g_string_free(out, FALSE);
	}
	json_append_member(out, "folder", ev->folder);
	if (ev->type == WATCH_EVENT_UNSEEN) {
		g_string_append_printf(out, ",\"count\":%" PRIu32 "}", ev->count);
		return g_string_free(out, FALSE);
	}
	if (ev->type == WATCH_EVENT_RESET) {
		g_string_append_printf(
		    out,
		    ",\"uidvalidity\":%" PRIu32 ",\"previous_uidvalidity\":%" PRIu32
		    ",\"count\":%" PRIu32 ",\"unseen\":%" PRIu32 "}",
		    ev->uidvalidity, ev->previous_uidvalidity, ev->count, ev->unseen);
		return g_string_free(out, FALSE);
	}

	g_autofree char *id =
	    watch_event_message_id(ev->account, ev->folder, ev->uidvalidity, ev->uid);
	g_string_append_printf(out, ",\"uidvalidity\":%" PRIu32 ",\"uid\":%" PRIu32,
	                       ev->uidvalidity, ev->uid);
	json_append_member(out, "id", id);
	if (ev->type == WATCH_EVENT_NEW) {
		json_append_member(out, "message_id", ev->message_id);
		json_append_member(out, "from_name", ev->from_name);
		json_append_member(out, "from_addr", ev->from_addr);
		json_append_member(out, "subject", ev->subject);
		g_string_append_printf(out, ",\"date\":%" G_GINT64_FORMAT, ev->date);
		if (ev->catchup) {
			g_string_append(out, ",\"catchup\":true");
		}
		if (ev->gm_msgid != 0) {
			g_string_append_printf(out, ",\"gm_msgid\":\"%" PRIu64 "\"", ev->gm_msgid);
		}
	}
	if (ev->type == WATCH_EVENT_NEW || ev->type == WATCH_EVENT_CHANGED) {
		g_string_append(out, ",\"flags\":[");
		for (size_t i = 0; ev->flags && ev->flags[i]; i++) {
			if (i > 0) {
				g_string_append_c(out, ',');
			}
			watch_event_append_json_string(out, ev->flags[i]);
		}
		g_string_append_printf(out, "],\"seen\":%s", ev->seen ? "true" : "false");
	}
	g_string_append_c(out, '}');
	return g_string_free(out, FALSE);
}

const char *watch_state_name(enum watch_state state)
{
	static const char *const names[] = {
	    [WATCH_STATE_DISCONNECTED] = "disconnected",
	    [WATCH_STATE_CONNECTING] = "connecting",
	    [WATCH_STATE_AUTHENTICATING] = "authenticating",
	    [WATCH_STATE_SYNCING] = "syncing",
	    [WATCH_STATE_IDLE] = "idle",
	    [WATCH_STATE_POLLING] = "polling",
	    [WATCH_STATE_BACKOFF] = "backoff",
	    [WATCH_STATE_ERROR] = "error",
	    [WATCH_STATE_DISABLED] = "disabled",
	};

	return (unsigned)state < G_N_ELEMENTS(names) ? names[state] : "unknown";
}

bool watch_state_is_watching(enum watch_state state)
{
	return state == WATCH_STATE_IDLE || state == WATCH_STATE_POLLING;
}
