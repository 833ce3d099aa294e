# SPDX-License-Identifier: MIT
"""make_message(): RFC 5322 messages with encoded headers (RFC 2047 words
from encode_word()).
"""

import base64
import email.utils
import time
import uuid


def encode_word(text, charset="utf-8", encoding="B"):
    """RFC 2047 encoded-word(s) for text."""
    raw = text.encode(charset)
    if encoding.upper() == "B":
        # Keep each encoded word within 75 characters (RFC 2047 section 2).
        words, chunk = [], b""
        for ch in text:
            b = ch.encode(charset)
            if len(base64.b64encode(chunk + b)) > 75 - len(charset) - 7:
                words.append(chunk)
                chunk = b""
            chunk += b
        words.append(chunk)
        return " ".join(f"=?{charset}?B?{base64.b64encode(w).decode()}?="
                        for w in words)
    out = []
    for byte in raw:
        c = chr(byte)
        if c == " ":
            out.append("_")
        elif c.isalnum() and byte < 128:
            out.append(c)
        else:
            out.append(f"={byte:02X}")
    return f"=?{charset}?Q?{''.join(out)}?="


def make_message(subject="Test", from_name="Alice Example",
                 from_addr="alice@example.com", to="user@localhost",
                 date=None, message_id=None, body="Hello.\r\n",
                 subject_encoding=None, from_encoding=None, charset="utf-8",
                 extra_headers=()):
    """RFC 5322 message as bytes (CRLF line ends).

    subject_encoding / from_encoding: None (raw ASCII), "B" or "Q" to write
    the subject / display name as RFC 2047 encoded words in `charset`.
    date: epoch seconds (default now). message_id default: a fresh one.
    Returns (bytes, message_id).
    """
    if date is None:
        date = int(time.time())
    if message_id is None:
        message_id = f"<{uuid.uuid4().hex}@imapwatch.test>"
    if subject_encoding:
        subj = encode_word(subject, charset, subject_encoding)
    else:
        subject.encode("ascii")
        subj = subject
    if from_encoding:
        name = encode_word(from_name, charset, from_encoding)
    elif from_name:
        from_name.encode("ascii")
        name = '"' + from_name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        name = ""
    from_hdr = f"{name} <{from_addr}>" if name else from_addr
    headers = [
        f"From: {from_hdr}",
        f"To: {to}",
        f"Subject: {subj}",
        f"Date: {email.utils.formatdate(date, localtime=False)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    headers += list(extra_headers)
    text = "\r\n".join(headers) + "\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")
    return text.encode("utf-8"), message_id
