/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CTL_FORMAT_H
#define IMAPWATCH_CTL_FORMAT_H

/*
 * ctl_format: pure text helpers of the imapwatch CLI — times for people,
 * terminal widths and text cut to them, JSON from the daemon's GVariant
 * replies, and watch events rebuilt from signal dictionaries (so that
 * `imapwatch monitor --json` prints exactly what `imapwatchd
 * --print-events` prints).
 */

#include "imapwatch/core/event.h"

#include <glib.h>
#include <stdbool.h>

/* "never" (when is 0), "just now", "42 s ago", "5 min ago", "3 h ago",
 * "2 days ago"; "in the future" for clocks that disagree. New string. */
char *ctl_format_ago(gint64 when, gint64 now);

/* "45 s", "12 min", "3 h 12 min", "2 days 3 h". New string. */
char *ctl_format_duration(guint64 seconds);

/* Columns the UTF-8 text takes on a terminal: East Asian wide characters
 * count 2, combining marks 0. Invalid UTF-8 counts a column per byte. */
gsize ctl_format_width(const char *text);

/* text cut to at most width terminal columns (as ctl_format_width counts
 * them): whole characters, blanks before the cut dropped, and "…" (one
 * column) at the end; text that fits is returned whole. Invalid UTF-8 is
 * made valid first. New string. */
char *ctl_format_ellipsize(const char *text, gsize width);

/* Appends value as JSON: dictionaries a{sv} (and a{s*}) as objects,
 * other arrays and tuples as arrays, variants unwrapped, 64-bit integers
 * as numbers. Strings are escaped as in watch events. */
void ctl_format_json(GString *out, GVariant *value);

/* A watch event rebuilt from a signal's message dictionary (a{sv}): the
 * strings borrow from dict; *flags is a new array of borrowed strings
 * (free with g_free) that event->flags points at. Missing keys read as
 * "" / 0 / false. */
void ctl_format_event_from_dict(GVariant *dict, enum watch_event_type type,
                                struct watch_event *event, const char ***flags);

/* A reset event rebuilt from the arguments of the FolderReset signal,
 * (ssuuuu): the strings borrow from args. False, with event untouched, if
 * args has another type. */
bool ctl_format_event_from_reset(GVariant *args, struct watch_event *event);

/* What a reset event means, for people, to follow "ACCOUNT/FOLDER": "was
 * reset by the server: 12 messages, 3 unread". New string. */
char *ctl_format_reset_text(const struct watch_event *event);

#endif
