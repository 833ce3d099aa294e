# SPDX-License-Identifier: MIT
"""Real parts for imapwatch integration tests (standard library only).

Tests and scripts import this module alone (`import imapwatch_harness as
h`); it re-exports the names of the modules that hold the parts:

- harness_base: the environment switches, bounds for waits, HarnessError,
  find_tool(), free_port() and temp dirs.
- harness_pki: Certs, a test CA, a server certificate for
  localhost/127.0.0.1 signed by it, a second CA nobody trusts, and a
  certificate for another host name; certs() is the process-wide one.
- harness_dovecot: Dovecot, a private Dovecot on free loopback ports in a
  temp dir, plus doveadm helpers that act as the user's other devices.
- harness_cyrus: Cyrus, the same for Cyrus IMAP (its other devices are
  IMAP sessions), and mail_server(), which makes a Dovecot or, with
  IMAPWATCH_TEST_SERVER=cyrus, a Cyrus.
- harness_message: make_message(), RFC 5322 messages with encoded headers.
- harness_daemon: Daemon, imapwatchd --print-events with its JSON events
  read into a queue, and the predicates is_event() and is_account_state().
- harness_desktop: Desktop (Xvfb, a private session bus, a notification
  server: dunst, xfce4-notifyd or notification-daemon) and
  BusMonitor (dbus-monitor, Notify calls parsed by parse_notify()).
- harness_secrets: leaks_secret(), a password in clear or in base64.
- harness_keyring: Keyring (gnome-keyring-daemon's Secret Service on a
  private bus; lock and unlock without a prompt) and SecretCalls (the
  searches of it, counted on the bus).

Binaries come from the environment: IMAPWATCHD (set by CMake), and
optionally DOVECOT, DOVEADM, OPENSSL. Nothing is skipped: a missing tool is
an error. Set IMAPWATCH_TEST_DEBUG=1 for Dovecot debug logs and rawlogs,
IMAPWATCH_TEST_KEEP=1 to keep temp dirs.
"""

from harness_base import (  # noqa: F401
    DEBUG, DOVEADM_TIMEOUT, KEEP, READY_TIMEOUT, Fixture, HarnessError, _mkdtemp, _rmtree, _run,
    find_tool, free_port, program, readme_snippet, stop_process)
from harness_cyrus import SERVER, Cyrus, mail_server, mutf7_decode, mutf7_encode  # noqa: F401
from harness_daemon import Daemon, _name, is_account_state, is_event  # noqa: F401
from harness_desktop import (  # noqa: F401
    DUNSTRC, NOTIFY_SERVER, NOTIFY_SERVERS, SERVER_CAPABILITIES, BusMonitor, Desktop, _killpg,
    _start_with_fd, find_server_program, parse_notify, re_header)
from harness_dovecot import DEFAULT_USERS, Dovecot  # noqa: F401
from harness_keyring import Keyring, SecretCalls  # noqa: F401
from harness_message import encode_word, make_message  # noqa: F401
from harness_oauth import (  # noqa: F401
    TokenAuthority, TokenCommand, start_oauth_dovecot, stop_oauth_dovecot)
from harness_pki import Certs, certs  # noqa: F401
from harness_secrets import leaks_secret, secret_forms  # noqa: F401

