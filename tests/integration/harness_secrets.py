# SPDX-License-Identifier: MIT
"""Finding a password in bytes: in clear, quoted, or in a base64 form,
whatever its alignment.
"""

import base64
import re


_B64_TOKEN = re.compile(rb"[A-Za-z0-9+/]{8,}={0,2}")


def secret_forms(user, password):
    """The password as it could appear on the wire or in a log: plain,
    quoted for LOGIN, and base64 of the SASL PLAIN message (with and
    without an authorization identity), of the password alone and of
    "user password"."""
    forms = {password.encode(), f'"{password}"'.encode()}
    for raw in (f"\0{user}\0{password}", f"{user}\0{user}\0{password}", password,
                f"{user} {password}"):
        forms.add(base64.b64encode(raw.encode()))
    return forms


def leaks_secret(data, user, password):
    """True if data (bytes) holds the password in one of secret_forms() or
    inside any base64 token, whatever its alignment there."""
    if any(form in data for form in secret_forms(user, password)):
        return True
    for token in _B64_TOKEN.findall(data):
        for cut in range(4):
            chunk = token[cut:]
            chunk = chunk[:len(chunk) - len(chunk) % 4]
            try:
                if password.encode() in base64.b64decode(chunk):
                    return True
            except ValueError:
                pass
    return False
