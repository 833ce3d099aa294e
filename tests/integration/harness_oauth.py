# SPDX-License-Identifier: MIT
"""OAuth 2.0 for the integration tests (standard library only): a token
authority on loopback that issues short-lived bearer tokens and answers
Dovecot's token introspection (RFC 7662), and token commands — small
scripts used as an account's `password_command` — that fetch a token from
it and print it, counting their runs in a file.

    with TokenAuthority() as auth:
        dc = Dovecot(oauth2_introspection_url=auth.introspection_url)
        cmd = TokenCommand(auth, dir, user="user1", ttl=3, output="json")
        ... "password_command": cmd.command ...
        cmd.runs()            # how often the daemon ran it
        auth.introspections() # [(token, user, active)] as Dovecot asked

The authority's clock is time.monotonic(); a token is live from its issue
until ttl seconds later. Issued tokens are random and never repeat, so a
test can look for every one of them in the daemon's output.
"""

import http.server
import json
import os
import secrets
import shlex
import sys
import threading
import time
import urllib.parse

from harness_base import Fixture, HarnessError
from harness_dovecot import Dovecot


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep the test output clean
        pass

    def _reply(self, status, body, ctype="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/issue":
            self._reply(404, '{"error": "not found"}')
            return
        q = urllib.parse.parse_qs(url.query)
        user = q.get("user", [""])[0]
        ttl = float(q.get("ttl", ["3600"])[0])
        token = self.server.authority.issue(user, ttl)
        self._reply(200, token + "\n", "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        if urllib.parse.urlsplit(self.path).path != "/introspect":
            self._reply(404, '{"error": "not found"}')
            return
        form = urllib.parse.parse_qs(body)
        token = form.get("token", [""])[0]
        # Dovecot may also send the token as "Authorization: Bearer".
        if not token:
            auth = self.headers.get("Authorization", "")
            if auth.lower().startswith("bearer "):
                token = auth[7:].strip()
        user, active = self.server.authority.introspect(token)
        if active:
            self._reply(200, json.dumps({"active": True, "username": user}))
        else:
            self._reply(200, json.dumps({"active": False}))


class TokenAuthority(Fixture):
    """An OAuth token issuer and introspection endpoint on 127.0.0.1.

    GET /issue?user=U&ttl=S -> a new token (text line), live for S seconds
    (S <= 0: born expired). POST /introspect token=T -> {"active": true,
    "username": U} while T is live, else {"active": false}.
    """

    def __init__(self):
        self._lock = threading.Condition()
        self._tokens = {}  # token -> (user, expires at, monotonic)
        self._issued = []  # tokens in issue order
        self._introspections = []  # (token, user, active, monotonic)
        self._httpd = None
        self._thread = None
        self.port = None

    @property
    def introspection_url(self):
        return f"http://127.0.0.1:{self.port}/introspect"

    @property
    def issue_url(self):
        return f"http://127.0.0.1:{self.port}/issue"

    def start(self):
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.authority = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="token-authority", daemon=True)
        self._thread.start()

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive():
                raise HarnessError("token authority thread did not stop")
            self._thread = None

    # -- the authority's side

    def issue(self, user, ttl):
        token = "tok_" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (user, time.monotonic() + ttl)
            self._issued.append(token)
            self._lock.notify_all()
        return token

    def introspect(self, token):
        with self._lock:
            user, expires = self._tokens.get(token, (None, 0.0))
            now = time.monotonic()
            active = user is not None and now < expires
            self._introspections.append((token, user, active, now))
            self._lock.notify_all()
        return user, active

    # -- the test's side

    def issued(self):
        """Every token handed out so far (the ones that must not leak)."""
        with self._lock:
            return list(self._issued)

    def introspections(self, since=0):
        """[(token, user, active)] for each introspection request."""
        with self._lock:
            return [(t, u, a) for t, u, a, _ in self._introspections[since:]]

    def revoke(self, token):
        """From now on the token is no longer live."""
        with self._lock:
            user, _ = self._tokens[token]
            self._tokens[token] = (user, time.monotonic())

    def introspection_count(self):
        with self._lock:
            return len(self._introspections)

    def expires_at(self, token):
        with self._lock:
            return self._tokens[token][1]

    def wait_expired(self, token, timeout=10.0):
        """Returns once token is no longer live (polls the clock; bounded)."""
        deadline = time.monotonic() + timeout
        expires = self.expires_at(token)
        while time.monotonic() < expires:
            if time.monotonic() > deadline:
                raise AssertionError(f"token still live after {timeout}s")
            time.sleep(min(0.05, max(0.0, expires - time.monotonic())))

    def wait_introspections(self, count, timeout=10.0):
        """Waits until at least count introspection requests arrived."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._introspections) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{len(self._introspections)} of {count} introspection "
                        f"requests within {timeout}s: {self._introspections}")
                self._lock.wait(remaining)


# The token command: python3 SCRIPT ISSUE_URL COUNTER MODE USER TTL OUTPUT
# EXPIRES_IN. MODE says which token each run gets: "fresh" (live for TTL
# seconds), "invalid" (always one born expired), "stale-once" (born
# expired on the first run only, as a helper's stale cache), "stale-odd"
# (born expired on runs 1, 3, 5, ...), "garbage" (a live token followed
# by words on the same line: not a token). OUTPUT "json" prints
# {"access_token", "expires_in": EXPIRES_IN, "token_type"} over several
# lines, "json-at" {"access_token", "expires_at": ISO 8601 UTC date} on
# one line, "bare" the token alone. Each run appends "RUN_NUMBER TOKEN" to
# COUNTER.
_SCRIPT = r'''
import datetime, json, sys, urllib.request

issue_url, counter, mode, user, ttl, output, expires_in = sys.argv[1:8]
try:
    with open(counter) as f:
        before = sum(1 for _ in f)
except FileNotFoundError:
    before = 0
run = before + 1
stale = (mode == "invalid" or (mode == "stale-once" and run == 1)
         or (mode == "stale-odd" and run % 2 == 1))
with urllib.request.urlopen(
        f"{issue_url}?user={user}&ttl={-1 if stale else ttl}", timeout=10) as r:
    token = r.read().decode().strip()
with open(counter, "a") as f:
    f.write(f"{run} {token}\n")
if mode == "garbage":
    token += " is what you asked for"
if output == "json":
    print(json.dumps({"access_token": token, "token_type": "Bearer",
                      "expires_in": int(float(expires_in))}, indent=2))
elif output == "json-at":
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        seconds=float(expires_in))
    print(json.dumps({"access_token": token,
                      "expires_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}))
else:
    print(token)
'''


class TokenCommand:
    """A token command in dir for one user: `command` is the shell line
    for password_command; runs() counts how often it ran, tokens() lists
    what each run printed."""

    MODES = ("fresh", "invalid", "stale-once", "stale-odd", "garbage")

    def __init__(self, authority, dir, user, ttl=3600, output="json", mode="fresh",
                 name="token", expires_in=None):
        """ttl: how long the authority honours each token; expires_in:
        what the JSON output claims (default ttl)."""
        if mode not in self.MODES:
            raise ValueError(mode)
        if output not in ("json", "json-at", "bare"):
            raise ValueError(output)
        self.script = os.path.join(dir, "token-command.py")
        if not os.path.exists(self.script):
            with open(self.script, "w") as f:
                f.write(_SCRIPT)
            os.chmod(self.script, 0o755)
        self.counter = os.path.join(dir, f"{name}.runs")
        self.command = " ".join(shlex.quote(str(a)) for a in (
            sys.executable, self.script, authority.issue_url, self.counter, mode, user,
            ttl, output, ttl if expires_in is None else expires_in))

    def _lines(self):
        try:
            with open(self.counter) as f:
                return [line.split() for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def runs(self):
        return len(self._lines())

    def tokens(self):
        return [parts[1] for parts in self._lines()]

    def wait_runs(self, count, timeout=10.0):
        """Waits until the command ran at least count times (polls the
        counter file; bounded)."""
        deadline = time.monotonic() + timeout
        while self.runs() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"token command ran {self.runs()} of {count} "
                                     f"times within {timeout}s")
            time.sleep(0.05)  # polling a file for a condition, bounded


def start_oauth_dovecot(authority, **kw):
    """Starts authority, then a Dovecot whose oauth2 passdb asks it (kw:
    more Dovecot options; no login penalty, so a refused token does not
    slow the next login). Stops the authority again if Dovecot fails."""
    authority.start()
    dovecot = Dovecot(oauth2_introspection_url=authority.introspection_url,
                      auth_penalty=False, **kw)
    try:
        dovecot.start()
    except BaseException:
        authority.stop()
        raise
    return dovecot


def stop_oauth_dovecot(dovecot, authority):
    try:
        dovecot.stop()
    finally:
        authority.stop()
