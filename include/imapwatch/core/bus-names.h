/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_BUS_NAMES_H
#define IMAPWATCH_BUS_NAMES_H

/*
 * The names of imapwatch's D-Bus contract (docs/DBUS.md,
 * data/org.imapwatch.Daemon1.xml), shared by the service in the daemon and
 * the imapwatch command that calls it.
 */

#define BUS_NAME                  "org.imapwatch.Daemon1"
#define BUS_PATH                  "/org/imapwatch/Daemon1"
#define BUS_INTERFACE             "org.imapwatch.Daemon1"
#define BUS_ERROR_NO_SUCH_ACCOUNT "org.imapwatch.Error.NoSuchAccount"
#define BUS_ERROR_NO_SUCH_MESSAGE "org.imapwatch.Error.NoSuchMessage"
#define BUS_ERROR_FAILED          "org.imapwatch.Error.Failed"

#endif
