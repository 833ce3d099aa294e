# SPDX-License-Identifier: MIT
"""A scripted IMAP server with a mailbox that outlives its connections,
speaking with the habits of one big provider (standard library only).

ProviderServer is a HostileServer (hostile_server.py) over implicit TLS
whose replies are computed, not scripted: it holds folders of messages
(UID, flags, mod-sequence, a header, Gmail's X-GM-MSGID) in memory and
answers what imapwatchd sends a real server — CAPABILITY, AUTHENTICATE and
LOGIN, ID, ENABLE, NAMESPACE, LIST (also LIST-STATUS), STATUS, EXAMINE
(also with QRESYNC), UID FETCH (also CHANGEDSINCE), UID SEARCH (also
ESEARCH), IDLE, NOOP, LOGOUT — for several connections at once. Everything
else gets BAD; SELECT, STORE and the other commands that change a mailbox
are never answered OK.

A Personality says how the provider talks: its greeting and capability
lists, the texts of its replies, and its quirks (see PERSONALITIES; each
names where the habit is documented or reported). The test plays the
user's other devices and the provider's moods:

  deliver(folders, subject)          new mail (one message in several
                                     folders: Gmail's labels, one X-GM-MSGID)
  set_flags(folder, uid, *flags)     read or flagged elsewhere
  expunge(folder, *uids)             removed elsewhere
  bye(conn, text) / drop(conn)       the server ends a session, with a BYE
                                     or without a word
  withhold(conn)                     the session stops hearing news (an IDLE
                                     that went stale); it is told at its
                                     next command, as servers do
  deliver_at_next_idle(folder, subject)
                                     new mail announced before "+" of the
                                     next IDLE (RFC 2177 allows it)
  script(name, reply, conn=None)     a one-off reply to the next command
                                     NAME (of connection conn)

What a connection was told is tracked per connection: EXISTS, EXPUNGE or
VANISHED and FETCH go to a session that idles at once (push) and to one
busy with a command before the reply to its next one. Sequence numbers
are that connection's own. Observation: idling(folder), wait_idling(),
sent(conn), refused (logins over the connection limit) and everything
HostileServer records (conns, commands, wait_until()).
"""

import base64
import re
import traceback

import imapwatch_harness as h
from hostile_server import HostileServer, Scenario

USER = "alice@example.com"
PASSWORD = "Pr0vider-Pa55"

HEADER_FIELDS = b"BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)]"
INTERNALDATE = b'"25-Nov-2025 10:00:01 +0000"'


class Personality:
    """How one provider talks. Texts are bytes; "{tag}", "{caps}",
    "{user}", "{name}" are filled in."""

    def __init__(self, name, **kw):
        self.name = name
        self.greeting = kw.pop("greeting", b"* OK [CAPABILITY {caps}] ready\r\n")
        self.caps_pre = kw.pop("caps_pre")
        self.caps_post = kw.pop("caps_post")
        # The tagged reply to a login, after any untagged data.
        self.login_ok = kw.pop("login_ok", b"{tag} OK [CAPABILITY {caps}] Logged in\r\n")
        self.ok = kw.pop("ok", b"Completed")              # text of other tagged OKs
        self.capability_ok = kw.pop("capability_ok", None)
        self.id_reply = kw.pop("id_reply", b"* ID NIL\r\n")
        # ENABLE answered with "* ENABLED ..." (RFC 5161) and taking effect.
        self.enabled = kw.pop("enabled", True)
        self.examine_ok = kw.pop("examine_ok", b"{tag} OK [READ-ONLY] Completed\r\n")
        # Text after [HIGHESTMODSEQ n] (b"": none, as Gmail does).
        self.modseq_text = kw.pop("modseq_text", b" Highest")
        # [HIGHESTMODSEQ n] on every selection, CONDSTORE or not (Yahoo).
        self.modseq_always = kw.pop("modseq_always", False)
        self.idle_continuation = kw.pop("idle_continuation", b"+ idling\r\n")
        self.status_trailer = kw.pop("status_trailer", b"")  # b" ": Microsoft 365
        # A VANISHED for expunged UIDs names the range from the lowest to
        # the highest, holes included (Cyrus).
        self.vanished_wide = kw.pop("vanished_wide", False)
        # Connections the user's other clients hold, and the limit.
        self.max_connections = kw.pop("max_connections", None)
        self.limit_reply = kw.pop("limit_reply", b"{tag} NO [LIMIT] Too many connections\r\n")
        # The reply to extensions the client should not use here.
        self.refuse_extension = kw.pop("refuse_extension", b"{tag} BAD Invalid arguments\r\n")
        if kw:
            raise TypeError(f"unknown personality keys: {sorted(kw)}")

    def has(self, cap):
        """Offered after login."""
        return cap.encode() in self.caps_post.split()


GMAIL_PRE = (b"IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY "
             b"SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER")
GMAIL_POST = (b"IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS "
              b"COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED "
              b"LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584")
M365_PRE = (b"IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT "
            b"CHILDREN IDLE NAMESPACE LITERAL+")
M365_POST = (b"IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT "
             b"CLIENTACCESSRULES CLIENTNETWORKPRESENCELOCATION BACKENDAUTHENTICATE CHILDREN "
             b"IDLE NAMESPACE LITERAL+")
YAHOO_PRE = (b"IMAP4rev1 ID NAMESPACE X-ID-ACLID UIDPLUS LITERAL+ CHILDREN XAPPLEPUSHSERVICE "
             b"XYMHIGHESTMODSEQ AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 AUTH=XYMCOOKIE "
             b"AUTH=XYMECOOKIE AUTH=XYMCOOKIEB64 AUTH=XYMPKI")
YAHOO_POST = (b"IMAP4rev1 ID NAMESPACE X-ID-ACLID UIDPLUS LITERAL+ XAPPLEPUSHSERVICE "
              b"XYMHIGHESTMODSEQ")
ICLOUD_PRE = b"XAPPLEPUSHSERVICE IMAP4 IMAP4rev1 SASL-IR AUTH=ATOKEN AUTH=PLAIN"
ICLOUD_POST = (b"XAPPLEPUSHSERVICE IMAP4 IMAP4rev1 CONDSTORE ENABLE QRESYNC QUOTA NAMESPACE "
               b"UIDPLUS CHILDREN BINARY UNSELECT SORT CATENATE URLAUTH LANGUAGE ESEARCH ESORT "
               b"THREAD=ORDEREDSUBJECT THREAD=REFERENCES CONTEXT=SEARCH CONTEXT=SORT WITHIN "
               b"SASL-IR SEARCHRES METADATA ID XMSEARCH X-SUN-SORT ANNOTATE-EXPERIMENT-1 "
               b"X-UNAUTHENTICATE X-SUN-IMAP XUM1 MULTISEARCH IDLE LIST-STATUS")
CYRUS_PRE = b"IMAP4rev1 LITERAL+ ID ENABLE AUTH=PLAIN SASL-IR"
CYRUS_POST = (b"IMAP4rev1 LITERAL+ ID ENABLE NAMESPACE UIDPLUS UNSELECT CHILDREN CONDSTORE "
              b"ESEARCH QRESYNC MOVE SPECIAL-USE IDLE")

PERSONALITIES = {
    # Capability lists before and after login, texts: the Gmail traces of
    # mscdex/node-imap#715 and the "IMAP Extensions" page (X-GM-EXT-1);
    # [HIGHESTMODSEQ n] without text (docs/PROTOCOL.md P9); 15 connections
    # per account, over it "NO [ALERT] Too many simultaneous connections.
    # (Failure)" (zone-eu/wildduck#35, jstedfast/MailKit#377).
    "gmail": Personality(
        "gmail",
        greeting=b"* OK Gimap ready for requests from 127.0.0.1 a1mb123\r\n",
        caps_pre=GMAIL_PRE, caps_post=GMAIL_POST,
        login_ok=b"* CAPABILITY {caps}\r\n{tag} OK {user} authenticated (Success)\r\n",
        ok=b"Success", capability_ok=b"Thats all she wrote! a1mb123",
        id_reply=b'* ID ("name" "GImap" "vendor" "Google, Inc.")\r\n',
        examine_ok=b"{tag} OK [READ-ONLY] {name} selected. (Success)\r\n",
        modseq_text=b"",
        max_connections=15,
        limit_reply=b"{tag} NO [ALERT] Too many simultaneous connections. (Failure)\r\n",
        refuse_extension=b"{tag} BAD Could not parse command\r\n"),
    # Microsoft 365: capability lists and texts of jstedfast/MailKit#1494,
    # #638 (the selection) and Webklex/php-imap#258 (IDLE); no CONDSTORE,
    # QRESYNC or ENABLE; STATUS lines end with a space (P9).
    "m365": Personality(
        "m365",
        greeting=(b"* OK The Microsoft Exchange IMAP4 service is ready. "
                  b"[TQBXADIAUABSADEAMQBDAEEAMAAwADcAMAAuAG4AYQBtAHAAcgBkADEAMQAuAHAA]\r\n"),
        caps_pre=M365_PRE, caps_post=M365_POST,
        login_ok=b"{tag} OK AUTHENTICATE completed.\r\n",
        ok=b"completed.", capability_ok=b"CAPABILITY completed.",
        examine_ok=b"{tag} OK [READ-ONLY] EXAMINE completed.\r\n",
        idle_continuation=b"+ IDLE accepted, awaiting DONE command.\r\n",
        status_trailer=b" "),
    # Yahoo: no IDLE, no SASL-IR, XYMHIGHESTMODSEQ instead of CONDSTORE yet
    # [HIGHESTMODSEQ n] on selection, CHANGEDSINCE refused
    # (jstedfast/MailKit#221, whiteout-io/imap-client#40).
    "yahoo": Personality(
        "yahoo",
        greeting=(b"* OK [CAPABILITY {caps}] IMAP4rev1 imapgate-1.8.1_01.20166 "
                  b"imap1015.mail.gq1.yahoo.com\r\n"),
        caps_pre=YAHOO_PRE, caps_post=YAHOO_POST,
        login_ok=b"{tag} OK AUTHENTICATE completed - Mailbox size in bytes is 2624334830\r\n",
        ok=b"completed",
        examine_ok=b"{tag} OK [READ-ONLY] EXAMINE completed; now in selected state\r\n",
        modseq_text=b"", modseq_always=True,
        refuse_extension=b"{tag} BAD [CLIENTBUG] UID FETCH Command arguments invalid\r\n"),
    # iCloud: CONDSTORE and QRESYNC offered, "ENABLE QRESYNC" answered OK
    # without "* ENABLED" (nextcloud/mail#3401, jstedfast/MailKit#1871);
    # extension arguments refused with "BAD Unexpected extra arguments"
    # (jstedfast/MailKit#970).
    "icloud": Personality(
        "icloud",
        greeting=(b"* OK [CAPABILITY {caps}] (2109B29-d3afe4d5aba6) "
                  b"pv33p00im-iscream021.me.com\r\n"),
        caps_pre=ICLOUD_PRE, caps_post=ICLOUD_POST,
        login_ok=b"{tag} OK user {user} authenticated\r\n",
        enabled=False,
        examine_ok=b"{tag} OK [READ-ONLY] EXAMINE completed (took 5 ms)\r\n",
        refuse_extension=b"{tag} BAD Unexpected extra arguments\r\n"),
    # Fastmail runs Cyrus IMAP (Fastmail's blog, "IMAP upgrade - new
    # features"): QRESYNC, ESEARCH, VANISHED ranges that name UIDs the
    # folder never held (docs/PROTOCOL.md N9).
    "fastmail": Personality(
        "fastmail",
        greeting=b"* OK [CAPABILITY {caps}] imap.fastmail.com Cyrus IMAP server ready\r\n",
        caps_pre=CYRUS_PRE, caps_post=CYRUS_POST,
        login_ok=b"{tag} OK [CAPABILITY {caps}] Success (tls protection)\r\n",
        vanished_wide=True),
}


class Message:
    def __init__(self, uid, subject, message_id, flags, modseq, gm_msgid):
        self.uid = uid
        self.subject = subject
        self.message_id = message_id
        self.flags = set(flags)
        self.modseq = modseq
        self.gm_msgid = gm_msgid
        self.header = (f"From: Ann <ann@example.org>\r\nSubject: {subject}\r\n"
                       f"Date: Tue, 25 Nov 2025 10:00:00 +0000\r\n"
                       f"Message-ID: {message_id}\r\n\r\n").encode()


class Folder:
    def __init__(self, name, uidvalidity):
        self.name = name
        self.uidvalidity = uidvalidity
        self.messages = {}  # uid -> Message, in UID order
        self.uidnext = 1
        self.modseq = 1
        self.expunged = []  # (uid, modseq) for VANISHED (EARLIER)

    def uids(self):
        return list(self.messages)

    def unseen(self):
        return [u for u, m in self.messages.items() if "\\Seen" not in m.flags]


class Session:
    """What one connection is, and what it was told."""

    def __init__(self, index):
        self.index = index
        self.user = None
        self.condstore = False
        self.qresync = False
        self.folder = None      # name of the selected folder
        self.view = []          # its UIDs, in this connection's sequence order
        self.idle_tag = None    # the running IDLE's tag
        self.pending = []       # untagged data for the next reply
        self.withheld = False   # news waits for the next command


def uid_set(text, highest):
    """The UIDs of a set like 1:3,5,7:* (M5: n:* always holds the highest)."""
    out = set()
    for part in text.split(","):
        lo, _, hi = part.partition(":")
        lo = highest if lo == "*" else int(lo)
        hi = lo if not hi else (highest if hi == "*" else int(hi))
        out.update(range(min(lo, hi), max(lo, hi) + 1))
    return out


def compact(uids):
    """Sorted UIDs as a set with ranges, "1:3,6"."""
    parts = []
    for u in sorted(uids):
        if parts and parts[-1][1] == u - 1:
            parts[-1][1] = u
        else:
            parts.append([u, u])
    return ",".join(f"{a}" if a == b else f"{a}:{b}" for a, b in parts)


def astring(text):
    """One folder name argument: a quoted string or an atom; and the rest."""
    text = text.lstrip()
    if text.startswith('"'):
        m = re.match(r'"((?:[^"\\]|\\.)*)"', text)
        return re.sub(r"\\(.)", r"\1", m.group(1)), text[m.end():]
    m = re.match(r"[^ ()]+", text)
    return m.group(0), text[m.end():]


def quoted(name):
    return b'"' + name.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'


class ProviderServer(HostileServer):
    """`with ProviderServer("gmail", folders=("INBOX", "Work")) as srv:`;
    srv.port; account() gives the daemon's account keys."""

    def __init__(self, personality, folders=("INBOX",), other_clients=0):
        self.p = PERSONALITIES[personality] if isinstance(personality, str) else personality
        self.folders = {}
        for i, name in enumerate(folders):
            self.folders[name] = Folder(name, 1700000000 + i)
        self.other_clients = other_clients
        self.refused = 0      # logins refused over the limit
        self.sessions = {}
        self._scripted = []   # (conn index or None, NAME, reply)
        self._at_next_idle = []   # (folder, subject) to deliver at the next IDLE
        self._idle_delivered = []  # what those deliveries returned
        self._gm_msgid = 1278455344230334000
        names = ("CAPABILITY", "AUTHENTICATE", "AUTHENTICATE+", "LOGIN", "ID", "ENABLE",
                 "NAMESPACE", "LIST", "STATUS", "EXAMINE", "SELECT", "UID", "NOOP", "IDLE",
                 "IDLE+", "LOGOUT", "NOTIFY", "STORE", "EXPUNGE", "CLOSE")
        replies = {n: (lambda conn, tag, line, n=n: self._dispatch(n, conn, tag, line))
                   for n in names}
        greeting = self.p.greeting.replace(b"{caps}", self.p.caps_pre)
        super().__init__(Scenario(greeting=greeting, replies=replies, starttls=False,
                                  implicit_tls=True), concurrent=True)

    def account(self, **extra):
        """The daemon's account keys for this server."""
        keys = {"host": "localhost", "port": self.port, "security": "tls", "username": USER,
                "password": PASSWORD, "folders": list(self.folders),
                "tls_ca_file": h.certs().ca}
        keys.update(extra)
        return keys

    # -- the test's side: other devices and the provider's moods

    def deliver(self, folders, subject):
        """New mail in one folder, or the same message in several (Gmail's
        labels: one X-GM-MSGID). Returns {folder: uid}."""
        if isinstance(folders, str):
            folders = [folders]
        with self._cond:
            self._gm_msgid += 1
            message_id = f"<{subject.replace(' ', '.')}.{self._gm_msgid}@example.org>"
            out = {}
            for name in folders:
                f = self.folders[name]
                f.modseq += 1
                m = Message(f.uidnext, subject, message_id, (), f.modseq, self._gm_msgid)
                f.messages[m.uid] = m
                f.uidnext += 1
                out[name] = m.uid
                for s in self._selecting(name):
                    s.view.append(m.uid)
                    self._tell(s, b"* %d EXISTS\r\n" % len(s.view))
            self._cond.notify_all()
            return out

    def deliver_at_next_idle(self, folder, subject):
        """Delivers when the next IDLE on folder comes in, so that its
        EXISTS goes out before "+". Returns at once."""
        with self._cond:
            self._at_next_idle.append((folder, subject))

    def delivered_at_idle(self):
        """The {folder: uid} of each deliver_at_next_idle() done so far."""
        with self._cond:
            return list(self._idle_delivered)

    def set_flags(self, folder, uid, *flags):
        with self._cond:
            f = self.folders[folder]
            m = f.messages[uid]
            f.modseq += 1
            m.flags = set(flags)
            m.modseq = f.modseq
            for s in self._selecting(folder):
                if uid in s.view:
                    self._tell(s, self._fetch_flags(s, s.view.index(uid) + 1, m))
            self._cond.notify_all()

    def expunge(self, folder, *uids):
        with self._cond:
            f = self.folders[folder]
            for uid in uids:
                del f.messages[uid]
                f.modseq += 1
                f.expunged.append((uid, f.modseq))
            for s in self._selecting(folder):
                gone = [u for u in uids if u in s.view]
                if not gone:
                    continue
                if s.qresync:
                    named = (range(min(gone), max(gone) + 1) if self.p.vanished_wide else gone)
                    self._tell(s, b"* VANISHED %s\r\n" % compact(named).encode())
                    s.view = [u for u in s.view if u not in gone]
                    continue
                for u in gone:
                    self._tell(s, b"* %d EXPUNGE\r\n" % (s.view.index(u) + 1))
                    s.view.remove(u)
            self._cond.notify_all()

    def withhold(self, conn, on=True):
        """Connection conn hears no news until its next command (a stale
        IDLE); on=False ends that."""
        with self._cond:
            self.sessions[conn].withheld = on

    def bye(self, conn, text):
        self.push(b"* BYE " + text.encode() + b"\r\n", conn=conn, close=True)

    def drop(self, conn):
        self.push(b"", conn=conn, close=True)

    def script(self, name, reply, conn=None):
        """The next NAME command (of connection conn) gets reply ("{tag}"
        filled in) instead of the computed one, once."""
        with self._cond:
            self._scripted.append((conn, name, reply))

    # -- observation

    def idling(self, folder=None):
        """Indexes of the open connections idling (on folder)."""
        with self._cond:
            return [i for i, s in self.sessions.items()
                    if s.idle_tag is not None and not self.conns[i].closed
                    and (folder is None or s.folder == folder)]

    def wait_idling(self, folder=None, since_conn=0, timeout=15.0):
        """Waits until a connection numbered since_conn or later idles (on
        folder); returns its index."""
        found = []

        def pred(srv):
            found[:] = [i for i in srv.idling(folder) if i >= since_conn]
            return bool(found)
        self.wait_until(pred, timeout, f"a connection idling on {folder or 'any folder'}")
        return found[0]

    def sent(self, conn=None):
        """The command lines the client sent (on connection conn)."""
        with self._cond:
            conns = self.conns if conn is None else [self.conns[conn]]
            return [line for c in conns for _, _, _, line in c.commands]

    # -- the server's side

    def _selecting(self, folder):
        return [s for i, s in self.sessions.items()
                if s.folder == folder and not self.conns[i].closed]

    def _tell(self, s, data):
        """News for session s: now when it idles (and hears), else with the
        reply to its next command. Called with the lock held."""
        if s.idle_tag is not None and not s.withheld:
            self.conns[s.index].outbox.append((data, False))
        else:
            s.pending.append(data)

    def _flush(self, s):
        data = b"".join(s.pending)
        s.pending = []
        return data

    def _fetch_flags(self, s, seq, m):
        modseq = b" MODSEQ (%d)" % m.modseq if s.condstore else b""
        return b"* %d FETCH (UID %d FLAGS (%s)%s)\r\n" % (
            seq, m.uid, " ".join(sorted(m.flags)).encode(), modseq)

    def _ok(self, tag, text=None):
        return tag + b" OK " + (text if text is not None else self.p.ok) + b"\r\n"

    def _fill(self, template, tag, **fields):
        out = template.replace(b"{tag}", tag)
        for k, v in fields.items():
            out = out.replace(b"{" + k.encode() + b"}", v)
        return out

    def _dispatch(self, name, conn, tag, line):
        try:
            return self._answer(name, conn, tag, line.decode("utf-8", "replace"))
        except Exception:  # a bug of this server: fail the test, loudly
            with self._cond:
                self.errors.append("provider server: " + traceback.format_exc())
            raise

    def server_errors(self):
        """Failures of this server's own code (a test asserts none)."""
        with self._cond:
            return [e for e in self.errors if e.startswith("provider server: ")]

    def _answer(self, name, conn, tag, line):
        if name.endswith("+"):
            text = line  # a continuation: the SASL response, DONE
        else:
            text = line.split(" ", 2)[2] if line.count(" ") >= 2 else ""
        # The lock is reentrant: handlers may call deliver().
        with self._cond:
            s = self.sessions.setdefault(conn.index, Session(conn.index))
            for i, (c, n, reply) in enumerate(self._scripted):
                if n == name and c in (None, conn.index):
                    del self._scripted[i]
                    return self._flush(s) + reply.replace(b"{tag}", tag)
            handler = getattr(self, "_cmd_" + name.lower().replace("+", "_cont"), None)
            out = handler(conn, s, tag, text) if handler else tag + b" BAD unknown command\r\n"
            self._cond.notify_all()
            return out

    def _cmd_capability(self, conn, s, tag, text):
        caps = self.p.caps_post if s.user else self.p.caps_pre
        ok = self.p.capability_ok if (self.p.capability_ok and not s.user) else self.p.ok
        return b"* CAPABILITY " + caps + b"\r\n" + self._ok(tag, ok)

    def _login(self, conn, s, tag, user, password):
        if user != USER or password != PASSWORD:
            return tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n"
        if self.p.max_connections is not None:
            others = sum(1 for i, x in self.sessions.items()
                         if x.user and not self.conns[i].closed)
            if others + self.other_clients >= self.p.max_connections:
                self.refused += 1
                return self._fill(self.p.limit_reply, tag)
        s.user = user
        return self._fill(self.p.login_ok, tag, caps=self.p.caps_post, user=user.encode())

    def _cmd_authenticate(self, conn, s, tag, text):
        parts = text.split()
        if parts[0].upper() != "PLAIN":
            return tag + b" NO unsupported mechanism\r\n"
        if len(parts) == 1:
            return b"+ \r\n"  # no SASL-IR: the response comes on its own line
        return self._plain(conn, s, tag, parts[1])

    def _cmd_authenticate_cont(self, conn, s, tag, text):
        return self._plain(conn, s, tag, text.strip())

    def _plain(self, conn, s, tag, b64):
        _, user, password = base64.b64decode(b64).decode().split("\0")
        return self._login(conn, s, tag, user, password)

    def _cmd_login(self, conn, s, tag, text):
        user, rest = astring(text)
        password, _ = astring(rest)
        return self._login(conn, s, tag, user, password)

    def _cmd_id(self, conn, s, tag, text):
        return self.p.id_reply + self._ok(tag)

    def _cmd_enable(self, conn, s, tag, text):
        wanted = [w for w in text.upper().split()
                  if w in ("CONDSTORE", "QRESYNC") and self.p.has(w)]
        if not self.p.enabled:
            return self._ok(tag, b"ENABLE completed")
        s.condstore = bool(wanted)
        s.qresync = "QRESYNC" in wanted
        return b"* ENABLED " + " ".join(wanted).encode() + b"\r\n" + self._ok(tag)

    def _cmd_namespace(self, conn, s, tag, text):
        return b'* NAMESPACE (("" "/")) NIL NIL\r\n' + self._ok(tag)

    def _list_line(self, name):
        return b'* LIST (\\HasNoChildren) "/" %s\r\n' % quoted(name)

    def _matching(self, pattern):
        rx = re.escape(pattern).replace(r"\*", ".*").replace("%", "[^/]*")
        return [n for n in self.folders if re.fullmatch(rx, n, re.I if n == "INBOX" else 0)]

    def _cmd_list(self, conn, s, tag, text):
        _, rest = astring(text)             # the reference, always ""
        rest = rest.strip()
        out = self._flush(s)
        if rest.startswith("("):
            # LIST-STATUS (RFC 5819): LIST "" (a b) RETURN (STATUS (...))
            inner, _, tail = rest[1:].partition(")")
            names = []
            while inner.strip():
                n, inner = astring(inner)
                names.append(n)
            items = re.search(r"STATUS \(([^)]*)\)", tail)
            for n in names:
                if n in self.folders:
                    out += self._list_line(n)
                    if items:
                        out += self._status_line(n, items.group(1).split())
            return out + self._ok(tag)
        pattern, _ = astring(rest)
        for n in self._matching(pattern):
            out += self._list_line(n)
        return out + self._ok(tag)

    def _status_line(self, name, items):
        f = self.folders[name]
        values = {"MESSAGES": len(f.messages), "UIDNEXT": f.uidnext,
                  "UIDVALIDITY": f.uidvalidity, "UNSEEN": len(f.unseen()),
                  "HIGHESTMODSEQ": f.modseq, "RECENT": 0}
        body = " ".join(f"{i} {values[i]}" for i in items if i in values).encode()
        return b"* STATUS %s (%s)%s\r\n" % (quoted(name), body, self.p.status_trailer)

    def _cmd_status(self, conn, s, tag, text):
        name, rest = astring(text)
        if name not in self.folders:
            return tag + b" NO [NONEXISTENT] Unknown Mailbox\r\n"
        items = rest.strip().strip("()").split()
        return self._flush(s) + self._status_line(name, items) + self._ok(tag)

    def _cmd_examine(self, conn, s, tag, text):
        name, rest = astring(text)
        rest = rest.strip().upper()
        if name not in self.folders:
            return tag + b" NO [NONEXISTENT] Unknown Mailbox\r\n"
        qresync = re.match(r"\(QRESYNC \((\d+) (\d+)", rest)
        if rest and (not qresync or not s.qresync):
            return self._fill(self.p.refuse_extension, tag)
        f = self.folders[name]
        s.folder = name
        s.view = f.uids()
        s.pending = []
        out = (b"* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen)\r\n"
               b"* OK [PERMANENTFLAGS ()] Flags permitted.\r\n"
               b"* OK [UIDVALIDITY %d] UIDs valid.\r\n* %d EXISTS\r\n* 0 RECENT\r\n"
               b"* OK [UIDNEXT %d] Predicted next UID.\r\n" % (
                   f.uidvalidity, len(f.messages), f.uidnext))
        if s.condstore or self.p.modseq_always:
            out += b"* OK [HIGHESTMODSEQ %d]%s\r\n" % (f.modseq, self.p.modseq_text)
        if qresync and int(qresync.group(1)) == f.uidvalidity:
            since = int(qresync.group(2))
            gone = [u for u, m in f.expunged if m > since]
            if gone:
                named = range(min(gone), max(gone) + 1) if self.p.vanished_wide else gone
                out += b"* VANISHED (EARLIER) %s\r\n" % compact(named).encode()
            for seq, m in enumerate(f.messages.values(), 1):
                if m.modseq > since:
                    out += self._fetch_flags(s, seq, m)
        return out + self._fill(self.p.examine_ok, tag, name=name.encode())

    def _cmd_select(self, conn, s, tag, text):
        # Watching never selects read-write (W1); nothing here may change.
        return tag + b" NO this test server is read-only\r\n"

    _cmd_store = _cmd_expunge = _cmd_close = _cmd_select

    def _cmd_notify(self, conn, s, tag, text):
        return tag + b" BAD unknown command\r\n"

    def _cmd_uid(self, conn, s, tag, text):
        verb, _, rest = text.partition(" ")
        if s.folder is None:
            return tag + b" BAD No mailbox selected\r\n"
        out = self._flush(s)
        f = self.folders[s.folder]
        if verb.upper() == "FETCH":
            return out + self._uid_fetch(s, f, tag, rest)
        if verb.upper() == "SEARCH":
            return out + self._uid_search(s, f, tag, rest)
        return out + tag + b" BAD unknown command\r\n"

    def _uid_fetch(self, s, f, tag, rest):
        set_text, _, items = rest.partition(" ")
        changed = re.search(r"\(CHANGEDSINCE (\d+)", items)
        if changed and not s.condstore:
            return self._fill(self.p.refuse_extension, tag)
        highest = max(f.messages, default=0)
        wanted = uid_set(set_text, highest)
        out = b""
        for uid in s.view:
            m = f.messages.get(uid)
            if m is None or uid not in wanted:
                continue
            if changed and m.modseq <= int(changed.group(1)):
                continue
            seq = s.view.index(uid) + 1
            parts = []
            if "X-GM-MSGID" in items and self.p.has("X-GM-EXT-1"):
                parts.append(b"X-GM-MSGID %d" % m.gm_msgid)
            parts.append(b"UID %d" % uid)
            if s.condstore:
                parts.append(b"MODSEQ (%d)" % m.modseq)
            parts.append(b"FLAGS (%s)" % " ".join(sorted(m.flags)).encode())
            if "INTERNALDATE" in items:
                parts.append(b"INTERNALDATE " + INTERNALDATE)
            if "RFC822.SIZE" in items:
                parts.append(b"RFC822.SIZE %d" % (len(m.header) + 100))
            if "BODY.PEEK[HEADER.FIELDS" in items:
                parts.append(HEADER_FIELDS + b" {%d}\r\n" % len(m.header) + m.header)
            out += b"* %d FETCH (%s)\r\n" % (seq, b" ".join(parts))
        return out + self._ok(tag)

    def _uid_search(self, s, f, tag, rest):
        ret = re.match(r"RETURN \(([^)]*)\) ?", rest)
        criteria = rest[ret.end():] if ret else rest
        uids = set(f.messages)
        words = criteria.split()
        i = 0
        while i < len(words):
            w = words[i].upper()
            if w == "UID":
                uids &= uid_set(words[i + 1], max(f.messages, default=0))
                i += 1
            elif w == "UNSEEN":
                uids &= set(f.unseen())
            elif w != "ALL":
                return tag + b" BAD unknown search criterion\r\n"
            i += 1
        if ret is None:
            return (b"* SEARCH %s\r\n" % " ".join(map(str, sorted(uids))).encode()
                    + self._ok(tag))
        if not self.p.has("ESEARCH"):
            return self._fill(self.p.refuse_extension, tag)
        out = b'* ESEARCH (TAG "%s") UID' % tag
        options = ret.group(1).upper().split() or ["ALL"]
        if "ALL" in options and uids:
            out += b" ALL " + compact(uids).encode()
        if "COUNT" in options:
            out += b" COUNT %d" % len(uids)
        return out + b"\r\n" + self._ok(tag)

    def _cmd_noop(self, conn, s, tag, text):
        return self._flush(s) + self._ok(tag)

    def _cmd_idle(self, conn, s, tag, text):
        if not self.p.has("IDLE"):
            return tag + b" BAD unknown command\r\n"
        for i, (folder, subject) in enumerate(self._at_next_idle):
            if folder == s.folder:
                # Not idling yet: its EXISTS waits in s.pending, and goes
                # out before "+".
                del self._at_next_idle[i]
                self._idle_delivered.append(self.deliver(folder, subject))
                break
        s.idle_tag = tag
        s.withheld = False
        return self._flush(s) + self.p.idle_continuation

    def _cmd_idle_cont(self, conn, s, tag, text):
        s.idle_tag = None
        if text.strip().upper() != "DONE":
            return self._flush(s) + tag + b" BAD Expected DONE\r\n"
        # RFC 2177: what is queued goes out before the tagged reply.
        return self._flush(s) + self._ok(tag)

    def _cmd_logout(self, conn, s, tag, text):
        return b"* BYE LOGOUT Requested\r\n" + self._ok(tag)
