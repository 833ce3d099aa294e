/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_DOCTOR_H
#define IMAPWATCH_DOCTOR_H

/*
 * `imapwatch doctor [ACCOUNT]`: checks the configuration and every account
 * (or one) step by step without the daemon — the password (password or
 * password_command), DNS, TCP, TLS (protocol, cipher, the certificate's
 * subject, issuer and expiry, the verification result), the capabilities
 * that matter (IDLE, NOTIFY, QRESYNC, CONDSTORE, the mechanisms offered),
 * the login, and that every configured folder exists (LIST, then EXAMINE:
 * read-only, nothing is changed). Each failure is followed by what to
 * change, in plain words. Passwords and tokens are never printed; text
 * from servers is made safe to show.
 *
 * Accounts are checked one after another. Each is bounded in time (30 s
 * without an answer, 60 s in all), so a dead server cannot hang the
 * terminal for long.
 */

#include <stdio.h>

/* Runs the checks and writes the report to out, line by line, flushed.
 * config_path NULL means the default ($XDG_CONFIG_HOME/imapwatch/config);
 * account NULL means every account. Blocks: runs a GMainLoop on the
 * thread-default main context until done; call it from a program's main
 * thread with no loop running. Returns 0 when every check passed
 * (warnings allowed), 1 when one failed, the configuration is invalid, or
 * it has no such account. */
int doctor_run(const char *config_path, const char *account, FILE *out);

#endif
