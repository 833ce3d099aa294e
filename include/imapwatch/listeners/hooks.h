/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_HOOKS_H
#define IMAPWATCH_HOOKS_H

/*
 * Hooks (output): the user's commands on events — on_new, on_changed,
 * on_removed, on_state of an account, or of the first [rule] that matches
 * the message (imapwatch.conf(5), HOOKS).
 *
 * Events are batched per account and command (hook-queue.h: hook_delay
 * after the last event, at most hook_max_delay after the first); a command
 * never runs twice at once. A run gets the batch as JSON on standard input
 * (one object, or an array for several events), IMAPWATCH_ACCOUNT,
 * IMAPWATCH_FOLDER ("" when the events are about several folders) and
 * IMAPWATCH_COUNT in the environment, and its argv from the config alone:
 * nothing a server sends is ever part of a command line. It runs with the
 * daemon's environment in the home directory, in a session of its own, and
 * is killed with its process group after hook_timeout. Its exit status and
 * output go to the log.
 *
 * All of it runs on the main loop without waiting: a hook that hangs
 * delays nothing but its own next run. Shutdown kills the hooks still
 * running and drops batches not yet run (logged).
 */

#include "imapwatch/daemon/daemon.h"

struct hooks;

/* Subscribes to daemon's events. daemon must outlive the hooks. */
struct hooks *hooks_create(struct daemon *daemon);
void hooks_destroy(struct hooks *hooks);

#endif
