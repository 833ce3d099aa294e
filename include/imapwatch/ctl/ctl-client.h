/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CTL_CLIENT_H
#define IMAPWATCH_CTL_CLIENT_H

/*
 * ctl_client: the imapwatch CLI's side of D-Bus. Blocking libdbus calls with
 * bounded timeouts (a CLI has nothing else to do meanwhile). Values travel
 * as GVariants so that the commands use GLib's API; D-Bus failures are
 * turned into a sentence on stderr and an exit code, never raw error names.
 *
 * The daemon is never started through D-Bus activation: every call carries
 * the no-auto-start flag, and a missing daemon is reported as such.
 */

#include <glib.h>
#include <stdbool.h>

/* Exit codes of the imapwatch command. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILED = 1,      /* the daemon refused, or status: an account in error */
	CTL_EXIT_USAGE = 2,       /* bad command line */
	CTL_EXIT_NOT_RUNNING = 3, /* no imapwatchd (or no session bus) */
};

/* Timeouts of calls, in milliseconds. MarkRead waits for the servers. */
#define CTL_CALL_TIMEOUT_MS      10000
#define CTL_MARK_READ_TIMEOUT_MS 60000

struct ctl_client;

/* Connects to the session bus and checks that imapwatchd owns its name.
 * On failure prints why on stderr and returns NULL with *exit_code set
 * (CTL_EXIT_NOT_RUNNING when there is no bus or no daemon). */
struct ctl_client *ctl_client_connect(int *exit_code);
void ctl_client_free(struct ctl_client *client);

/* Calls a method of org.imapwatch.Daemon1 (or, with a '.' in method, of
 * that interface) with args (a tuple, floating refs are sunk; NULL for
 * none). Returns the reply's arguments as a tuple, or NULL after printing
 * why on stderr, with *exit_code set. */
GVariant *ctl_client_call(struct ctl_client *client, const char *method, GVariant *args,
                          int timeout_ms, int *exit_code);

/* Subscribes to every signal of the daemon and to its coming and going on
 * the bus; signals sent after this returns are received. Returns an exit
 * code (after printing why on failure). */
int ctl_client_subscribe(struct ctl_client *client);

/* Calls fn for each signal subscribed to, until fn returns false or the
 * bus is lost. member is the signal name, args its arguments as a tuple; a
 * daemon that leaves or comes back is reported as member "DaemonGone" /
 * "DaemonBack" with empty args. Returns an exit code. */
typedef bool (*ctl_client_signal_fn)(const char *member, GVariant *args, void *user_data);
int ctl_client_monitor(struct ctl_client *client, ctl_client_signal_fn fn, void *user_data);

#endif
