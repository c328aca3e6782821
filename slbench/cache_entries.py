"""What the image and feature caches share: a checksum over each entry's content, and one
line of warning when an entry fails it.

A cache entry is trusted only when the sha256 stored with it matches the bytes read back. A
flipped bit in a cached feature file otherwise goes straight into FID (one damaged file moved
an FID of 14 to over 6,000 without a word); with the checksum the entry is deleted, recomputed
from the images, and the user is told once which file was damaged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from slbench.console import console, labelled


def content_sha256(*chunks: bytes | memoryview) -> str:
    """sha256 hex over ``chunks`` in order."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def discard_damaged(path: Path, what: str, reason: str) -> None:
    """Delete a damaged cache entry and say so in one line."""
    path.unlink(missing_ok=True)
    console.print(labelled("warning:", "yellow", f"{what} cache entry {path} {reason}; deleted, recomputing it"),
                  soft_wrap=True)
