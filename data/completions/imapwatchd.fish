# SPDX-License-Identifier: MIT
# fish completion for imapwatchd.
complete -c imapwatchd -s c -l config -r -F -d 'read the configuration from PATH'
complete -c imapwatchd -l check-config -d 'validate the configuration and exit'
complete -c imapwatchd -l print-events -d 'write watch events to stdout as JSON lines'
complete -c imapwatchd -s v -l verbose -d 'log debug messages'
complete -c imapwatchd -l trace-imap -d 'log the IMAP protocol, credentials redacted'
complete -c imapwatchd -s V -l version -d 'print the version'
