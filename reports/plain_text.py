"""One line of printable text: what every report format starts from before its own escaping.

A name or note from a results folder may hold line breaks (CR, LF, NEL, U+2028/U+2029),
other control characters or invisible format characters (bidirectional overrides). In LaTeX a
line break ends a ``%`` comment and a form feed is an ``\\outer`` paragraph; in Markdown a
line break ends a table row. So every string is reduced to one line first: control and
line/paragraph-separator characters become a space, format characters are dropped.
"""

from __future__ import annotations

import unicodedata

SPACE_CATEGORIES = ("Cc", "Zl", "Zp", "Cs", "Co", "Cn")
DROPPED_CATEGORIES = ("Cf",)


def one_line(text: object) -> str:
    """``text`` as a single line of printable characters (see the module docstring)."""
    out = []
    for ch in str(text):
        category = unicodedata.category(ch)
        if category in DROPPED_CATEGORIES:
            continue
        out.append(" " if category in SPACE_CATEGORIES else ch)
    return "".join(out)
