"""How the archive keeps a title or a text, whichever way it came in (an import, the admin, a
fixture): one module without Django, so that the models and the ingest package both use it."""

from __future__ import annotations

import re

# Control characters other than tab and line break: a terminal's colour codes (ESC) or
# backspaces in a text file are no part of an article, and came back in snippets and the API.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def stored_text(value: str) -> str:
    """A title or text as the archive keeps it: one kind of line break (a browser's form sends
    "\\r\\n": editing only a title in the admin rewrote every line break of the text) and no
    control characters (NUL among them)."""
    return CONTROL_CHARACTERS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
