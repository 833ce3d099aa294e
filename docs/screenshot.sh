#!/bin/bash
# SPDX-License-Identifier: MIT
# Takes docs/notification.png: a real notification from imapwatchd, shown
# by dunst under Xvfb on a private session bus, for mail delivered to a
# throwaway Dovecot (all started by the integration-test harness).
#   docs/screenshot.sh [OUTPUT.png]     (IMAPWATCHD defaults to build/imapwatchd)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export IMAPWATCHD="${IMAPWATCHD:-$PWD/build/imapwatchd}"
OUT="$(realpath -m "${1:-docs/notification.png}")"
cd tests/integration
exec python3 - "$OUT" <<'PY'
import sys
import imapwatch_harness as h

out = sys.argv[1]
with h.Dovecot() as dc, h.Desktop(screen="460x120x24") as desk:
    dc.create_folder("user1", "Lists/dev")
    account = {"host": "localhost", "port": dc.imaps_port, "username": "user1",
               "password": dc.users["user1"], "folders": "INBOX;Lists/dev",
               "tls_ca_file": h.certs().ca}
    with h.Daemon({"work": account}, daemon={"notifications": True},
                  env=desk.env) as d:
        d.wait_for(h.is_account_state("work", "idle"), timeout=20)
        raw, _ = h.make_message(subject="Lunch on Friday? The new place on 5th",
                                from_name="Alice Example", from_addr="alice@example.com")
        uid = dc.deliver("user1", "INBOX", raw)
        d.wait_for(h.is_event("new", uid=uid), timeout=10)
        desk.wait_displayed(1)
        desk.screenshot(out)
print(out)
PY
