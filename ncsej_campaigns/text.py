"""Small text helpers shared by the domains."""

from __future__ import annotations

import re
import unicodedata


def slugify(value: str, max_length: int = 80) -> str:
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    value = re.sub(r"[^a-zA-Z0-9]+", "-", value).strip("-").lower()
    return value[:max_length].strip("-")


def normalize_email(email: str) -> str:
    """The identity of a person's address: Unicode NFKC, trimmed, case-folded.

    The ``+tag`` part is kept: many people use tags on purpose to tell senders apart, and two
    tagged addresses can belong to two people of one household.
    """
    email = unicodedata.normalize("NFKC", email).strip()
    return email.casefold()


def like_pattern(term: str) -> str:
    """A ``LIKE`` pattern that matches ``term`` literally anywhere (escape with ``\\``)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
