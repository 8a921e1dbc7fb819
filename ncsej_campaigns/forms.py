"""Shared form pieces: choices and field validators used by several domains."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import Length, Regexp

LANGUAGE_CHOICES = [("en", _l("English")), ("ru", _l("Russian"))]

COUNTRY_CODE = Regexp(r"^([A-Z]{2})?$", message=_l("Use a two-letter country code, like US or IL."))


def upper_strip(value):
    return value.strip().upper() if isinstance(value, str) else value


def strip(value):
    return value.strip() if isinstance(value, str) else value


def max_len(n: int) -> Length:
    return Length(max=n, message=_l("Keep this under %(max)d characters.", max=n))
