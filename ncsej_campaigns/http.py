"""The request class: form fields and query parameters arrive without NUL characters.

No legitimate input contains U+0000, and PostgreSQL refuses it in any text value, so one
typed into a form or a search box would end the request with a 500 on PostgreSQL (and be
stored as-is on SQLite). It is dropped while the request is parsed, before any view sees it.
"""

from __future__ import annotations

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class CleanParameters(ImmutableMultiDict):
    def __init__(self, mapping=None):
        raw = MultiDict(mapping) if mapping is not None else MultiDict()
        super().__init__([(_without_nul(k), _without_nul(v)) for k, v in raw.items(multi=True)])


class AppRequest(Request):
    parameter_storage_class = CleanParameters
