/* SPDX-License-Identifier: MIT */
/*
 * The client's wire: commands and the replies matched to them, IDLE and
 * DONE, STARTTLS and its plaintext check, the feed loop with the untagged
 * limit, the greeting, BYE and the close. What it knows of the server
 * (capabilities, codes, failure classes) is in imap-client-caps.c.
 */
#include "core/imap-client-private.h"

#include <stdarg.h>
#include <string.h>

#define STARTTLS_INJECTION                                                                         \
	"server sent data after accepting STARTTLS (possible injection attack); refusing to "      \
	"continue"

/* Longest trace line; protocol lines can be long (flag lists, literals). */
#define TRACE_MAX 2000

void imap_client_stop(struct imap_client *c)
{
	c->stopped = true;
	c->tls_wanted = false;
	c->idle = IDLE_NONE;
	g_array_set_size(c->pending, 0);
}

bool imap_client_is_stopped(const struct imap_client *c)
{
	return c->stopped;
}

static void client_failv(struct imap_client *c, enum imap_failure failure, const char *fmt,
                         va_list ap) G_GNUC_PRINTF(3, 0);

static void client_failv(struct imap_client *c, enum imap_failure failure, const char *fmt,
                         va_list ap)
{
	if (c->stopped) {
		return;
	}
	g_autofree char *message = g_strdup_vprintf(fmt, ap);

	imap_client_stop(c);
	if (c->handler != NULL && c->handler->failed != NULL) {
		c->handler->failed(failure, message, c->owner);
	}
}

void imap_client_fail(struct imap_client *c, enum imap_failure failure, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	client_failv(c, failure, fmt, ap);
	va_end(ap);
}

/* --- sending and tracing ------------------------------------------------- */

static void trace_out(struct imap_client *c, const char *line)
{
	if (c->trace && c->io->trace != NULL) {
		c->io->trace(true, line, c->io->user_data);
	}
}

void imap_client_send_raw(struct imap_client *c, const char *data, size_t len, const char *redacted)
{
	if (c->stopped) {
		return;
	}
	if (c->trace && c->io->trace != NULL) {
		if (redacted != NULL) {
			trace_out(c, redacted);
		} else {
			g_autofree char *line = g_strndup(data, len);
			g_strchomp(line);
			trace_out(c, line);
		}
	}
	c->io->send(data, len, c->io->user_data);
}

static struct pending *send_command(struct imap_client *c, const char *command,
                                    const char *redacted, imap_client_reply reply, void *data)
{
	if (c->stopped) {
		return NULL;
	}
	struct pending p = {.reply = reply, .data = data};

	g_snprintf(p.tag, sizeof(p.tag), "A%u", ++c->next_tag);
	g_array_append_val(c->pending, p);

	g_autofree char *line = g_strdup_printf("%s %s\r\n", p.tag, command);
	g_autofree char *shown =
	    redacted != NULL ? g_strdup_printf("%s %s", p.tag, redacted) : NULL;

	imap_client_send_raw(c, line, strlen(line), shown);
	if (redacted != NULL) {
		/* A redacted line carried a secret: wipe it before freeing. */
		explicit_bzero(line, strlen(line));
	}
	return &g_array_index(c->pending, struct pending, c->pending->len - 1);
}

void imap_client_command(struct imap_client *c, const char *command, const char *redacted,
                         imap_client_reply reply, void *data)
{
	send_command(c, command, redacted, reply, data);
}

void imap_client_idle(struct imap_client *c, imap_client_reply reply, void *data)
{
	struct pending *p = send_command(c, "IDLE", NULL, reply, data);

	if (p != NULL) {
		p->idle = true;
		c->idle = IDLE_SENT;
	}
}

void imap_client_idle_done(struct imap_client *c)
{
	if (c->stopped || c->idle != IDLE_RUNNING) {
		return;
	}
	/* I3: exactly "DONE"; the IDLE tag stays outstanding. */
	c->idle = IDLE_DONE;
	imap_client_send_raw(c, "DONE\r\n", 6, NULL);
}

bool imap_client_is_idling(const struct imap_client *c)
{
	return c->idle == IDLE_RUNNING;
}

bool imap_client_is_waiting(const struct imap_client *c)
{
	if (c->stopped) {
		return false;
	}
	/* The greeting and a STARTTLS handshake are awaited like replies. */
	return !c->greeted || c->tls_wanted || (c->pending->len > 0 && c->idle != IDLE_RUNNING);
}

void imap_client_starttls(struct imap_client *c, void (*ready)(void *data),
                          imap_client_reply refused, void *data)
{
	struct pending *p = send_command(c, "STARTTLS", NULL, NULL, data);

	if (p != NULL) {
		p->starttls = true;
		p->refused = refused;
		p->tls_ready = ready;
	}
}

static void trace_in(struct imap_client *c, const char *data, size_t len)
{
	if (!c->trace || c->io->trace == NULL) {
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			if (c->trace_in->len > 0 &&
			    c->trace_in->str[c->trace_in->len - 1] == '\r') {
				g_string_truncate(c->trace_in, c->trace_in->len - 1);
			}
			c->io->trace(false, c->trace_in->str, c->io->user_data);
			g_string_truncate(c->trace_in, 0);
		} else if (c->trace_in->len < TRACE_MAX) {
			g_string_append_c(c->trace_in, data[i]);
		}
	}
}

/* --- responses ----------------------------------------------------------- */

/* A5: the words providers end a session with when its OAuth token ran out
 * (Gmail: "* BYE Session invalidated - AccessTokenExpired"). */
static bool bye_says_token_expired(const char *text)
{
	static const char *const says[] = {"accesstokenexpired", "token expired",
	                                   "token has expired", "expired token"};
	g_autofree char *lower = g_ascii_strdown(text != NULL ? text : "", -1);

	for (size_t i = 0; i < G_N_ELEMENTS(says); i++) {
		if (strstr(lower, says[i]) != NULL) {
			return true;
		}
	}
	return false;
}

/* What every machine needs from an untagged response: capabilities, the
 * BYE text for the close message (P7), alerts. */
static void common_untagged(struct imap_client *c, const struct imap_response *r)
{
	if (r->status != IMAP_STATUS_NONE) {
		if (r->status == IMAP_STATUS_BYE) {
			g_free(c->bye_text);
			c->bye_text = g_strdup(r->text);
			c->bye_failure = (r->code != NULL && (strcmp(r->code, "UNAVAILABLE") == 0 ||
			                                      strcmp(r->code, "LIMIT") == 0))
			                     ? IMAP_FAILURE_RESOURCE
			                     : IMAP_FAILURE_TRANSIENT;
			if (c->authenticated && bye_says_token_expired(r->text)) {
				c->bye_failure = IMAP_FAILURE_REAUTH;
			}
		}
		imap_client_handle_code(c, r);
	} else if (r->keyword != NULL && strcmp(r->keyword, "CAPABILITY") == 0) {
		imap_client_caps_set(c, r->args, r->n_args);
	}
}

static void handle_tagged(struct imap_client *c, const struct imap_response *r)
{
	guint i = 0;

	while (i < c->pending->len &&
	       strcmp(g_array_index(c->pending, struct pending, i).tag, r->tag) != 0) {
		i++;
	}
	if (i == c->pending->len) {
		g_debug("ignoring reply with unknown tag '%s' for account '%s'", r->tag,
		        c->account);
		return;
	}
	struct pending p = g_array_index(c->pending, struct pending, i);

	g_array_remove_index(c->pending, i);
	c->untagged = 0;
	if (p.idle) {
		c->idle = IDLE_NONE;
	}
	if (p.starttls) {
		if (r->status != IMAP_STATUS_OK) {
			p.refused(r, p.data);
			return;
		}
		/* S3/S4: forget everything learnt in plaintext; the feed loop
		 * checks that nothing follows before the handshake starts. */
		c->caps = 0;
		c->caps_known = false;
		c->tls_wanted = true;
		c->tls_ready = p.tls_ready;
		c->tls_data = p.data;
		return;
	}
	if (p.reply != NULL) {
		p.reply(r, p.data);
	}
}

static void handle_continuation(struct imap_client *c, const struct imap_response *r)
{
	if (c->idle == IDLE_SENT) {
		c->idle = IDLE_RUNNING;
	}
	if (c->pending->len > 0 && g_array_index(c->pending, struct pending, 0).starttls) {
		/* S1: "+" is neither OK nor a refusal; waiting for the tagged
		 * reply would only let a stripping attacker stall us. */
		imap_client_fail(c, IMAP_FAILURE_PERMANENT,
		                 "server answered STARTTLS with a continuation request instead "
		                 "of OK, refusing to continue without TLS");
		return;
	}
	if (c->handler->continuation != NULL) {
		c->handler->continuation(r, c->owner);
	}
}

static void handle_response(struct imap_client *c, const struct imap_response *r)
{
	bool greeting = !c->greeted;

	c->greeted = true;
	if (greeting && c->handler->greeting != NULL) {
		if (r->kind == IMAP_RESPONSE_UNTAGGED) {
			common_untagged(c, r);
		}
		c->handler->greeting(r, c->owner);
		return;
	}
	switch (r->kind) {
	case IMAP_RESPONSE_UNTAGGED:
		/* The greeting answers no command and does not count. */
		if (!greeting && ++c->untagged > c->untagged_limit) {
			/* Memory stays bounded either way; this bounds the work a
			 * server can make us do for one command. */
			imap_client_fail(c, IMAP_FAILURE_TRANSIENT,
			                 "server sent more than %zu responses without completing "
			                 "a command; closing the connection",
			                 c->untagged_limit);
			return;
		}
		common_untagged(c, r);
		c->handler->untagged(r, c->owner);
		return;
	case IMAP_RESPONSE_TAGGED:
		handle_tagged(c, r);
		return;
	case IMAP_RESPONSE_CONTINUATION:
		handle_continuation(c, r);
		return;
	}
}

/* --- public entry points ------------------------------------------------- */

struct imap_client *imap_client_create(const char *account, bool trace,
                                       const struct imap_client_io *io)
{
	struct imap_client *c = g_new0(struct imap_client, 1);

	c->account = account;
	c->trace = trace;
	c->io = io;
	c->parser = imap_parser_create(NULL);
	c->pending = g_array_new(FALSE, FALSE, sizeof(struct pending));
	c->untagged_limit = IMAP_CLIENT_UNTAGGED_LIMIT;
	c->trace_in = g_string_new(NULL);
	c->auth_mechanisms = g_string_new(NULL);
	return c;
}

void imap_client_destroy(struct imap_client *c)
{
	if (c == NULL) {
		return;
	}
	imap_parser_destroy(c->parser);
	g_array_unref(c->pending);
	g_free(c->bye_text);
	g_string_free(c->trace_in, TRUE);
	g_string_free(c->auth_mechanisms, TRUE);
	g_free(c);
}

void imap_client_set_handler(struct imap_client *c, const struct imap_client_handler *handler,
                             void *owner)
{
	c->handler = handler;
	c->owner = owner;
}

void imap_client_feed(struct imap_client *c, const char *data, size_t len)
{
	bool handled = false;

	while (len > 0 && !c->stopped && !c->tls_wanted) {
		size_t consumed = 0;
		enum imap_parse_result result = imap_parser_feed(c->parser, data, len, &consumed);

		trace_in(c, data, consumed);
		data += consumed;
		len -= consumed;
		if (result == IMAP_PARSE_ERROR) {
			imap_client_fail(c, IMAP_FAILURE_TRANSIENT,
			                 "cannot parse the server's response: %s",
			                 imap_parser_error(c->parser));
			return;
		}
		if (result == IMAP_PARSE_NEED_MORE) {
			break;
		}
		g_autoptr(imap_response) response = imap_parser_take(c->parser);
		if (response != NULL) {
			handle_response(c, response);
			handled = true;
		}
		if (c->tls_wanted) {
			/* S3: anything after "OK Begin TLS" came in plaintext
			 * and may be injected; never use it. */
			if (len > 0 || imap_parser_has_partial(c->parser)) {
				imap_client_fail(c, IMAP_FAILURE_PERMANENT, STARTTLS_INJECTION);
				return;
			}
			c->io->start_tls(c->io->user_data);
			return;
		}
	}
	if (len > 0 && c->tls_wanted) {
		imap_client_fail(c, IMAP_FAILURE_PERMANENT, STARTTLS_INJECTION);
		return;
	}
	if (handled && !c->stopped && c->handler->batch_end != NULL) {
		c->handler->batch_end(c->owner);
	}
}

void imap_client_tls_ready(struct imap_client *c)
{
	if (c->stopped || !c->tls_wanted) {
		return;
	}
	c->tls_wanted = false;
	c->tls_active = true;
	imap_parser_reset(c->parser);
	c->tls_ready(c->tls_data);
}

bool imap_client_is_tls(const struct imap_client *c)
{
	return c->tls_active;
}

void imap_client_set_tls(struct imap_client *c)
{
	c->tls_active = true;
}

void imap_client_transport_closed(struct imap_client *c, enum imap_failure failure,
                                  const char *message)
{
	if (c->bye_text != NULL) {
		imap_client_fail(c, c->bye_failure, "server closed the connection: %s",
		                 c->bye_text);
		return;
	}
	imap_client_fail(c, failure, "%s", message);
}

void imap_client_set_line_limit(struct imap_client *c, size_t limit)
{
	imap_parser_set_max_line(c->parser, MAX(limit, imap_parser_default_limits.max_line));
}

void imap_client_set_untagged_limit(struct imap_client *c, size_t limit)
{
	c->untagged_limit = MAX(limit, IMAP_CLIENT_UNTAGGED_LIMIT);
}
