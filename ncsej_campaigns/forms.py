"""Shared form pieces: the base form, choices and field validators used by several domains."""

from __future__ import annotations

from functools import lru_cache

from babel import support
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path
from wtforms.validators import Length, Regexp


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """Every form's base. WTForms' own messages (and the labels it makes up for unlabelled
    fields) come in the page's language from translations loaded once per language and
    process; Flask-WTF would read and parse the catalogue from disk on every request that
    builds a form, about a seventh of the cost of signing a petition."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _wtforms_translations(str(get_locale() or "en"))


LANGUAGE_CHOICES = [("en", _l("English")), ("ru", _l("Russian"))]

COUNTRY_CODE = Regexp(r"^([A-Z]{2})?$", message=_l("Use a two-letter country code, like US or IL."))


def upper_strip(value):
    return value.strip().upper() if isinstance(value, str) else value


def strip(value):
    return value.strip() if isinstance(value, str) else value


def max_len(n: int) -> Length:
    return Length(max=n, message=_l("Keep this under %(max)d characters.", max=n))
