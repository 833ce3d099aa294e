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

/* Connects to the session bus, whether imapwatchd runs or not. On failure
 * returns NULL with *exit_code CTL_EXIT_NOT_RUNNING, after printing why on
 * stderr unless quiet. A quiet client does not print either when a call
 * finds no daemon (the exit code says so); other failures are printed. */
struct ctl_client *ctl_client_open(bool quiet, int *exit_code);

/* ctl_client_open(), and checks that imapwatchd owns its name: if not,
 * says so (unless quiet) and returns NULL with *exit_code
 * CTL_EXIT_NOT_RUNNING. */
struct ctl_client *ctl_client_connect(bool quiet, int *exit_code);

void ctl_client_free(struct ctl_client *client);

/* Whether later calls that find no daemon say so on stderr (not quiet)
 * or leave it to the exit code (quiet). */
void ctl_client_set_quiet(struct ctl_client *client, bool quiet);

/* Whether imapwatchd owns its name now; asked of the bus, which starts
 * nothing to answer. False also when the bus does not answer (the next
 * call or ctl_client_monitor() reports that). */
bool ctl_client_daemon_running(struct ctl_client *client);

/* Calls a method of org.imapwatch.Daemon1 (or, with a '.' in method, of
 * that interface) with args (a tuple, floating refs are sunk; NULL for
 * none). Returns the reply's arguments as a tuple, or NULL after printing
 * why on stderr, with *exit_code set. Blocks up to timeout_ms; signals that
 * arrive meanwhile wait for ctl_client_monitor(). */
GVariant *ctl_client_call(struct ctl_client *client, const char *method, GVariant *args,
                          int timeout_ms, int *exit_code);

/* Subscribes to every signal of the daemon (its own interface and
 * PropertiesChanged) and to its coming and going on the bus; signals sent
 * after this returns are received. Returns an exit code (after printing
 * why on failure). */
int ctl_client_subscribe(struct ctl_client *client);

/* Hands over each signal subscribed to: member is the signal name, args
 * its arguments as a tuple; the daemon leaving or taking its name (again)
 * is member "DaemonGone" / "DaemonBack" with empty args. */
typedef bool (*ctl_client_signal_fn)(const char *member, GVariant *args, void *user_data);
/* Called whenever every signal received so far has been handed over, and
 * once before the first wait. */
typedef bool (*ctl_client_idle_fn)(void *user_data);

/* Waits for signals and hands them to fn, calling idle (may be NULL)
 * between bursts, until fn or idle returns false (CTL_EXIT_OK), the reader
 * of out_fd goes away (an error or hang-up on it, for example a closed
 * pipe: CTL_EXIT_OK; -1 watches nothing), or the bus is lost (said on
 * stderr, CTL_EXIT_FAILED). Never polls: it sleeps in poll() until the bus
 * or out_fd has something to say. */
int ctl_client_monitor(struct ctl_client *client, ctl_client_signal_fn fn, ctl_client_idle_fn idle,
                       int out_fd, void *user_data);

#endif
