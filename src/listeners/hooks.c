/* SPDX-License-Identifier: MIT */
#include "imapwatch/listeners/hooks.h"

#include "imapwatch/core/hook-queue.h"
#include "imapwatch/io/process.h"

#include <string.h>
#include <sys/wait.h>

/* What of a hook's output reaches the log: enough for an error message,
 * not a whole mbsync transcript. */
#define HOOK_OUTPUT_LIMIT (4 * 1024)
#define HOOK_LOG_LINES    10
#define HOOK_LINE_CHARS   300

/* One hook command of one account: its queue, its timer, its run. */
struct hook {
	struct hooks *hooks;
	char *account;
	enum config_hook kind;
	char *command;
	char *program; /* the command's first word, for the log: the rest may
	                * hold a secret (curl -H 'Authorization: …') */
	bool waiting;  /* due while the same command runs for another hook */
	struct hook_queue *queue;
	struct config_hook_timing timing; /* from the latest event's config */
	guint timer;
	struct process *process;
	gint64 started; /* monotonic µs of the run */
	guint timeout_ms;
};

struct hooks {
	struct daemon *daemon;
	guint listener;
	GHashTable *table; /* "account\nkind\ncommand" → struct hook * */
	/* Commands running now → their hook: the same command never runs
	 * twice at once, whatever hooks name it (on_new and on_removed both
	 * running `mbsync -a` would fight over its locks). */
	GHashTable *busy;
};

static void hook_schedule(struct hook *h);

static void hook_free(struct hook *h)
{
	g_clear_handle_id(&h->timer, g_source_remove);
	if (h->process != NULL) {
		g_message("hook %s of account '%s' still running at exit; killed",
		          config_hook_name(h->kind), h->account);
		process_cancel(h->process);
	}
	if (!hook_queue_empty(h->queue)) {
		g_message("hook %s of account '%s': events not yet passed on at exit are dropped",
		          config_hook_name(h->kind), h->account);
	}
	hook_queue_free(h->queue);
	g_free(h->account);
	g_free(h->command);
	g_free(h->program);
	g_free(h);
}

/* Each line of what the hook printed, cleaned, as its own log line. */
static void hook_log_output(const struct hook *h, const char *text, gsize len, bool truncated)
{
	guint lines = 0;
	const char *p = text;
	const char *end = text + len;

	while (p < end && lines < HOOK_LOG_LINES) {
		const char *nl = memchr(p, '\n', (gsize)(end - p));
		gsize n = nl ? (gsize)(nl - p) : (gsize)(end - p);
		g_autofree char *line = process_first_line(p, n, HOOK_LINE_CHARS);

		if (*line != '\0') {
			g_message("hook %s of account '%s': %s", config_hook_name(h->kind),
			          h->account, line);
			lines++;
		}
		p += n + 1;
	}
	if (p < end || truncated) {
		g_message("hook %s of account '%s': (more output not logged)",
		          config_hook_name(h->kind), h->account);
	}
}

static void hook_done(const struct process_result *r, void *user_data)
{
	struct hook *h = user_data;
	gint64 ms = (g_get_monotonic_time() - h->started) / 1000;
	g_autofree char *end = process_describe_end(r, h->timeout_ms);
	bool ok = r->error == NULL && !r->timed_out && WIFEXITED(r->wait_status) &&
	          WEXITSTATUS(r->wait_status) == 0;

	h->process = NULL;
	g_hash_table_remove(h->hooks->busy, h->command);
	if (r->out != NULL) {
		hook_log_output(h, r->out, r->out_len, r->out_truncated);
	}
	if (r->err != NULL) {
		/* mbsync and notmuch say what went wrong here. */
		hook_log_output(h, r->err, r->err_len, false);
	}
	if (ok) {
		g_message("hook %s of account '%s' %s after %" G_GINT64_FORMAT " ms",
		          config_hook_name(h->kind), h->account, end, ms);
	} else {
		g_warning("hook %s of account '%s' (%s) %s after %" G_GINT64_FORMAT " ms",
		          config_hook_name(h->kind), h->account, h->program, end, ms);
	}
	hook_queue_finished(h->queue);
	hook_schedule(h);
	/* Hooks that waited for this command may run now. */
	GHashTableIter it;
	struct hook *other;

	g_hash_table_iter_init(&it, h->hooks->table);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&other)) {
		if (other->waiting && strcmp(other->command, h->command) == 0) {
			other->waiting = false;
			hook_schedule(other);
		}
	}
}

static void hook_run(struct hook *h)
{
	g_autoptr(hook_batch) batch = hook_queue_take(h->queue);
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) argv = NULL;

	if (batch == NULL) {
		return;
	}
	if (!g_shell_parse_argv(h->command, NULL, &argv, &error)) {
		/* The config checked it; only a bug gets here. */
		g_warning("hook %s of account '%s': cannot split '%s': %s",
		          config_hook_name(h->kind), h->account, h->command, error->message);
		hook_queue_finished(h->queue);
		return;
	}
	g_autofree char *json = hook_batch_to_json(batch);
	g_autofree char *env_account = g_strconcat("IMAPWATCH_ACCOUNT=", h->account, NULL);
	g_autofree char *env_folder =
	    g_strconcat("IMAPWATCH_FOLDER=", hook_batch_folder(batch), NULL);
	g_autofree char *env_count = g_strdup_printf("IMAPWATCH_COUNT=%u", batch->count);
	g_autofree char *env_hook = g_strconcat("IMAPWATCH_HOOK=", config_hook_name(h->kind), NULL);
	const char *env[] = {env_account, env_folder, env_count, env_hook, NULL};
	gsize json_len = strlen(json);
	g_autoptr(GBytes) input = g_bytes_new_take(g_steal_pointer(&json), json_len);

	if (batch->count > batch->events->len) {
		g_message("hook %s of account '%s': %u events, the first %u passed on",
		          config_hook_name(h->kind), h->account, batch->count, batch->events->len);
	}
	h->timeout_ms = MIN(h->timing.timeout, G_MAXUINT / 1000) * 1000;
	h->started = g_get_monotonic_time();
	g_hash_table_insert(h->hooks->busy, h->command, h);
	g_debug("hook %s of account '%s': running %s for %u events", config_hook_name(h->kind),
	        h->account, h->program, batch->count);
	h->process = process_start(
	    &(struct process_options){
	        .argv = (const char *const *)argv,
	        .env = env,
	        .cwd = g_get_home_dir(),
	        .input = input,
	        .timeout_ms = h->timeout_ms,
	        .out_limit = HOOK_OUTPUT_LIMIT,
	        .err_limit = HOOK_OUTPUT_LIMIT,
	    },
	    hook_done, h);
}

static gboolean hook_timer(gpointer data)
{
	struct hook *h = data;

	h->timer = 0;
	if (g_hash_table_contains(h->hooks->busy, h->command)) {
		h->waiting = true;
		return G_SOURCE_REMOVE;
	}
	hook_run(h);
	return G_SOURCE_REMOVE;
}

static void hook_schedule(struct hook *h)
{
	gint64 due = hook_queue_due(h->queue, &h->timing);

	g_clear_handle_id(&h->timer, g_source_remove);
	if (due < 0) {
		return;
	}
	gint64 wait_ms = MAX(0, (due - g_get_monotonic_time() + 999) / 1000);

	h->timer = g_timeout_add((guint)MIN(wait_ms, G_MAXUINT), hook_timer, h);
}

static struct hook *hooks_find(struct hooks *hs, const char *account, enum config_hook kind,
                               const char *command)
{
	g_autofree char *key = g_strdup_printf("%s\n%d\n%s", account, kind, command);
	struct hook *h = g_hash_table_lookup(hs->table, key);

	if (h == NULL) {
		h = g_new0(struct hook, 1);
		h->hooks = hs;
		h->account = g_strdup(account);
		h->kind = kind;
		h->command = g_strdup(command);
		g_auto(GStrv) argv = NULL;
		h->program = g_shell_parse_argv(command, NULL, &argv, NULL)
		                 ? g_path_get_basename(argv[0])
		                 : g_strdup("?");
		h->queue = hook_queue_new();
		g_hash_table_insert(hs->table, g_steal_pointer(&key), h);
	}
	return h;
}

static bool hook_kind(enum watch_event_type type, enum config_hook *kind)
{
	switch (type) {
	case WATCH_EVENT_NEW:
	case WATCH_EVENT_RESET: /* the folder holds other messages now */
		*kind = CONFIG_HOOK_NEW;
		return true;
	case WATCH_EVENT_CHANGED:
		*kind = CONFIG_HOOK_CHANGED;
		return true;
	case WATCH_EVENT_REMOVED:
		*kind = CONFIG_HOOK_REMOVED;
		return true;
	case WATCH_EVENT_STATE:
		*kind = CONFIG_HOOK_STATE;
		return true;
	default:
		return false;
	}
}

static void hooks_event(const struct watch_event *event, void *user_data)
{
	struct hooks *hs = user_data;
	const struct config *cfg = daemon_get_config(hs->daemon);
	const struct config_account *account = config_find_account(cfg, event->account);
	enum config_hook kind;

	if (account == NULL || !hook_kind(event->type, &kind)) {
		return;
	}
	const char *command =
	    config_hook_for(cfg, account, kind, event->folder, event->from_name, event->from_addr);
	if (command == NULL) {
		return;
	}
	struct hook *h = hooks_find(hs, event->account, kind, command);

	h->timing = account->hook_timing;
	hook_queue_add(h->queue, event, g_get_monotonic_time());
	if (!hook_queue_running(h->queue)) {
		hook_schedule(h);
	}
}

struct hooks *hooks_create(struct daemon *daemon)
{
	struct hooks *hs = g_new0(struct hooks, 1);

	hs->daemon = daemon;
	hs->table =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)hook_free);
	hs->busy = g_hash_table_new(g_str_hash, g_str_equal);
	hs->listener = daemon_add_listener(daemon, hooks_event, hs);
	return hs;
}

void hooks_destroy(struct hooks *hs)
{
	if (hs == NULL) {
		return;
	}
	daemon_remove_listener(hs->daemon, hs->listener);
	g_hash_table_unref(hs->table);
	g_hash_table_unref(hs->busy);
	g_free(hs);
}
