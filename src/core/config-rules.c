/* SPDX-License-Identifier: MIT */
/*
 * What the config says about events rather than connections: the hooks and
 * their timing, quiet_hours, and [rule NAME] groups, with the lookups the
 * outputs make for each event (config_notice_for(), config_hook_for()).
 */
#include "core/config-private.h"

#include <string.h>

/* A hook batch waits this long after its last event (goimapnotify's
 * habit), but never more than DEFAULT_HOOK_MAX_DELAY after its first: a
 * steady trickle of mail still runs it. */
#define DEFAULT_HOOK_DELAY     2
#define MAX_HOOK_DELAY         (10 * 60)
#define DEFAULT_HOOK_MAX_DELAY 30
#define MAX_HOOK_MAX_DELAY     (60 * 60)
/* mbsync over a slow line takes minutes; a hook that hangs for longer is
 * stuck. */
#define DEFAULT_HOOK_TIMEOUT (5 * 60)
#define MAX_HOOK_TIMEOUT     (24 * 60 * 60)

/* Freedesktop sound theme name for new mail. */
#define DEFAULT_SOUND "message-new-email"

void config_hook_timing_defaults(struct config_hook_timing *timing)
{
	timing->delay = DEFAULT_HOOK_DELAY;
	timing->max_delay = DEFAULT_HOOK_MAX_DELAY;
	timing->timeout = DEFAULT_HOOK_TIMEOUT;
}

bool config_hook_timing_equal(const struct config_hook_timing *a,
                              const struct config_hook_timing *b)
{
	return a->delay == b->delay && a->max_delay == b->max_delay && a->timeout == b->timeout;
}

bool config_value_hook_timing(struct config_parse *p, const char *group,
                              const struct config_ini_entry *entry,
                              struct config_hook_timing *timing)
{
	if (strcmp(entry->key, "hook_delay") == 0) {
		return config_value_duration(p, group, entry, 0, MAX_HOOK_DELAY, &timing->delay);
	}
	if (strcmp(entry->key, "hook_max_delay") == 0) {
		return config_value_duration(p, group, entry, 1, MAX_HOOK_MAX_DELAY,
		                             &timing->max_delay);
	}
	return config_value_duration(p, group, entry, 1, MAX_HOOK_TIMEOUT, &timing->timeout);
}

bool config_value_hook(struct config_parse *p, const char *group,
                       const struct config_ini_entry *entry, char **out)
{
	g_autofree char *command = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) argv = NULL;

	if (!config_value_string(p, group, entry, &command)) {
		return false;
	}
	/* Split now so that a mistake shows up in --check-config. No shell
	 * runs it: write sh -c '…' for one. */
	if (!g_shell_parse_argv(command, NULL, &argv, &error)) {
		return config_fail(p, entry->line, group, entry->key,
		                   "%s; the command is split into words as a shell would, "
		                   "but no shell runs it (write sh -c '…' for pipes and &&)",
		                   g_error_matches(error, G_SHELL_ERROR, G_SHELL_ERROR_BAD_QUOTING)
		                       ? "a quote is not closed, or a backslash ends the command"
		                       : "there is no command");
	}
	g_free(*out);
	*out = g_steal_pointer(&command);
	return true;
}

static bool parse_clock(const char *s, const char *end, guint *minute)
{
	guint h = 0;
	guint m = 0;

	/* H:MM or HH:MM */
	if (end - s == 4 && g_ascii_isdigit(s[0]) && s[1] == ':') {
		h = (guint)(s[0] - '0');
		s += 2;
	} else if (end - s == 5 && g_ascii_isdigit(s[0]) && g_ascii_isdigit(s[1]) && s[2] == ':') {
		h = (guint)((s[0] - '0') * 10 + (s[1] - '0'));
		s += 3;
	} else {
		return false;
	}
	if (!g_ascii_isdigit(s[0]) || !g_ascii_isdigit(s[1])) {
		return false;
	}
	m = (guint)((s[0] - '0') * 10 + (s[1] - '0'));
	if (h > 23 || m > 59) {
		return false;
	}
	*minute = h * 60 + m;
	return true;
}

bool config_value_quiet_hours(struct config_parse *p, const char *group,
                              const struct config_ini_entry *entry, struct config *cfg)
{
	const char *v = entry->value;
	const char *dash = strchr(v, '-');
	const char *a_end = dash;
	const char *b = dash ? dash + 1 : NULL;

	if (dash != NULL) {
		const char *a = v;
		const char *b_end = v + strlen(v);

		config_span_trim(&a, &a_end);
		config_span_trim(&b, &b_end);
		if (parse_clock(a, a_end, &cfg->quiet_start) &&
		    parse_clock(b, b_end, &cfg->quiet_end)) {
			if (cfg->quiet_start == cfg->quiet_end) {
				return config_fail(p, entry->line, group, entry->key,
				                   "'%s' starts and ends at the same time; remove "
				                   "the line for no quiet hours",
				                   v);
			}
			cfg->has_quiet_hours = true;
			return true;
		}
	}
	return config_fail(p, entry->line, group, entry->key,
	                   "'%s' is not a time span; write it like 22:00-07:00 (24-hour "
	                   "clock, local time)",
	                   v);
}

bool config_quiet_at(const struct config *cfg, guint minute)
{
	if (!cfg->has_quiet_hours) {
		return false;
	}
	if (cfg->quiet_start < cfg->quiet_end) {
		return minute >= cfg->quiet_start && minute < cfg->quiet_end;
	}
	/* Across midnight: 22:00-07:00. */
	return minute >= cfg->quiet_start || minute < cfg->quiet_end;
}

/* ---- rules ---- */

void config_rule_free(struct config_rule *rule)
{
	if (rule == NULL) {
		return;
	}
	g_free(rule->name);
	g_free(rule->account);
	g_free(rule->folder);
	g_free(rule->from);
	g_free(rule->sound);
	for (guint i = 0; i < CONFIG_HOOK_N; i++) {
		g_free(rule->hooks[i]);
	}
	g_free(rule);
}

typedef struct config_rule config_rule;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(config_rule, config_rule_free)

static bool rule_value_sound(struct config_parse *p, const char *group,
                             const struct config_ini_entry *e, char **out)
{
	if (strchr(e->value, '/') != NULL) {
		return config_value_file(p, group, e, "a sound file (.oga, .ogg, .wav)", out);
	}
	if (!config_value_string(p, group, e, out)) {
		return false;
	}
	for (const char *c = *out; *c; c++) {
		if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_' && *c != '.') {
			return config_fail(p, e->line, group, e->key,
			                   "'%s' is neither a sound name (like message-new-email) "
			                   "nor a file (an absolute path or one starting with ~/); "
			                   "write none for silence",
			                   *out);
		}
	}
	return true;
}

static bool rule_value(struct config_parse *p, const struct config_ini_group *g,
                       struct config_rule *r, const struct config_ini_entry *e)
{
	bool flag = false;
	guint choice = 0;

	switch (config_key_index(config_rule_keys, e->key)) {
	case CONFIG_RULE_KEY_ACCOUNT:
		return config_value_string(p, g->name, e, &r->account);
	case CONFIG_RULE_KEY_FOLDER:
		return config_value_string(p, g->name, e, &r->folder);
	case CONFIG_RULE_KEY_FROM:
		return config_value_string(p, g->name, e, &r->from);
	case CONFIG_RULE_KEY_NOTIFY:
		if (!config_value_bool(p, g->name, e, &flag)) {
			return false;
		}
		r->notify = flag;
		return true;
	case CONFIG_RULE_KEY_URGENCY:
		if (!config_value_choice(p, g->name, e, config_urgency_names, &choice)) {
			return false;
		}
		r->urgency = (int)choice;
		return true;
	case CONFIG_RULE_KEY_CONTENT:
		if (!config_value_choice(p, g->name, e, config_content_names, &choice)) {
			return false;
		}
		r->content = (int)choice;
		return true;
	case CONFIG_RULE_KEY_SOUND:
		return rule_value_sound(p, g->name, e, &r->sound);
	case CONFIG_RULE_KEY_ON_NEW:
	case CONFIG_RULE_KEY_ON_CHANGED:
	case CONFIG_RULE_KEY_ON_REMOVED:
		return config_value_hook(p, g->name, e,
		                         &r->hooks[config_key_index(config_hook_names, e->key)]);
	default:
		return config_unknown_key_fail(p, g->name, e, CONFIG_GROUP_RULE);
	}
}

struct config_rule *config_rule_build(struct config_parse *p, const struct config_ini_group *g,
                                      const char *name)
{
	g_autoptr(config_rule) r = g_new0(struct config_rule, 1);
	bool failed = false;

	while (*name == ' ') {
		name++;
	}
	if (*name == '\0') {
		config_fail(p, g->line, NULL, NULL,
		            "the rule has no name; write [rule NAME], e.g. [rule newsletters]");
	}
	r->name = g_strdup(name);
	r->line = g->line;
	r->notify = -1;
	r->urgency = -1;
	r->content = -1;
	for (guint i = 0; i < g->entries->len; i++) {
		const struct config_ini_entry *e = g->entries->pdata[i];

		if (e->bad && config_key_index(config_rule_keys, e->key) >= 0) {
			failed = true; /* the reader has reported it */
			continue;
		}
		failed = !rule_value(p, g, r, e) || failed;
	}
	if (r->from != NULL) {
		/* Only new mail comes with its sender. */
		for (guint h = CONFIG_HOOK_CHANGED; h <= CONFIG_HOOK_REMOVED; h++) {
			const struct config_ini_entry *e =
			    config_ini_find_entry(g, config_hook_names[h]);

			if (e != NULL) {
				config_fail(p, e->line, g->name, e->key,
				            "a rule with from matches new mail only (changes and "
				            "removals carry no sender); move this line to a rule "
				            "without from");
			}
		}
	}
	/* A setting with a bad value was meant to set something. */
	if (!failed &&
	    (g->entries->len == 0 ||
	     (r->notify < 0 && r->urgency < 0 && r->content < 0 && r->sound == NULL &&
	      r->hooks[CONFIG_HOOK_NEW] == NULL && r->hooks[CONFIG_HOOK_CHANGED] == NULL &&
	      r->hooks[CONFIG_HOOK_REMOVED] == NULL))) {
		config_fail(p, g->line, g->name, NULL,
		            "the rule sets nothing; add notify, urgency, sound, content, "
		            "on_new, on_changed or on_removed");
	}
	return g_steal_pointer(&r);
}

/* Case-insensitive glob ('*' and '?'). */
static bool glob_matches(const char *glob, const char *s)
{
	g_autofree char *g = g_utf8_casefold(glob, -1);
	g_autofree char *t = g_utf8_casefold(s, -1);

	return g_pattern_match_simple(g, t);
}

static bool rule_matches(const struct config_rule *r, const struct config_account *a,
                         const char *folder, const char *from_name, const char *from_addr)
{
	if (r->account != NULL && !glob_matches(r->account, a->name)) {
		return false;
	}
	if (r->folder != NULL && (folder == NULL || !config_folder_matches(r->folder, folder))) {
		return false;
	}
	if (r->from != NULL) {
		return (from_addr != NULL && glob_matches(r->from, from_addr)) ||
		       (from_name != NULL && *from_name != '\0' &&
		        glob_matches(r->from, from_name));
	}
	return true;
}

void config_notice_for(const struct config *cfg, const struct config_account *a, const char *folder,
                       const char *from_name, const char *from_addr, struct config_notice *out)
{
	int notify = -1;
	int urgency = -1;
	int content = -1;
	const char *sound = NULL;

	out->rule = NULL;
	for (guint i = 0; i < cfg->rules->len; i++) {
		const struct config_rule *r = cfg->rules->pdata[i];

		if (!rule_matches(r, a, folder, from_name, from_addr)) {
			continue;
		}
		if (out->rule == NULL) {
			out->rule = r->name;
		}
		notify = notify < 0 ? r->notify : notify;
		urgency = urgency < 0 ? r->urgency : urgency;
		content = content < 0 ? r->content : content;
		sound = sound == NULL ? r->sound : sound;
	}
	out->notify =
	    cfg->notifications && (notify >= 0 ? notify == 1 : config_account_notifies(a, folder));
	out->urgency = urgency >= 0 ? (enum config_urgency)urgency : CONFIG_URGENCY_NORMAL;
	out->content = content >= 0 ? (enum config_content)content : cfg->notification_content;
	if (sound == NULL) {
		sound = cfg->notification_sound ? DEFAULT_SOUND : NULL;
	} else if (strcmp(sound, "none") == 0) {
		sound = NULL;
	}
	out->sound = sound;
}

const char *config_hook_for(const struct config *cfg, const struct config_account *a,
                            enum config_hook hook, const char *folder, const char *from_name,
                            const char *from_addr)
{
	if (hook == CONFIG_HOOK_STATE) {
		return a->hooks[hook];
	}
	for (guint i = 0; i < cfg->rules->len; i++) {
		const struct config_rule *r = cfg->rules->pdata[i];

		if (r->hooks[hook] != NULL && rule_matches(r, a, folder, from_name, from_addr)) {
			return r->hooks[hook];
		}
	}
	return a->hooks[hook];
}
