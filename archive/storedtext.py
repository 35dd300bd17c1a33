"""How the archive keeps a title or a text, whichever way it came in (an import, the admin, a
fixture): one module without Django, so that the models and the ingest package both use it."""

from __future__ import annotations

import re

# A terminal's colour and cursor codes ("\x1b[31m"), whole: no part of an article, and they came
# back in snippets and the API.
ESCAPE_SEQUENCES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# Control characters that separate: a vertical tab (a word processor's line break) and a form
# feed (a PDF's page break) end a line; the information separators are spaces, as str.split()
# reads them.
LINE_BREAKING = str.maketrans(
    {"\x0b": "\n", "\x0c": "\n", **{chr(c): " " for c in range(0x1C, 0x20)}}
)
# The other control characters (NUL, which PostgreSQL cannot store, backspace, bell, a lone
# ESC, DEL), other than tab and line break: dropped.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")


def stored_text(value: str) -> str:
    """A title or text as the archive keeps it: one kind of line break (a browser's form sends
    "\\r\\n": editing only a title in the admin rewrote every line break of the text), separating
    controls as line breaks or spaces, and no other control characters."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not _ANY_CONTROL.search(value):
        return value  # the usual case: nothing to do
    value = ESCAPE_SEQUENCES.sub("", value).translate(LINE_BREAKING)
    return CONTROL_CHARACTERS.sub("", value)


_ANY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
