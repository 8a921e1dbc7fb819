"""The request class: form fields and query parameters arrive without NUL characters.

No legitimate input contains U+0000, and PostgreSQL refuses it in any text value, so one
typed into a form or a search box would end the request with a 500 on PostgreSQL (and be
stored as-is on SQLite). It is dropped while the request is parsed, before any view sees it.
"""

from __future__ import annotations

from flask import Request, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class CleanParameters(ImmutableMultiDict):
    def __init__(self, mapping=None):
        raw = MultiDict(mapping) if mapping is not None else MultiDict()
        super().__init__([(_without_nul(k), _without_nul(v)) for k, v in raw.items(multi=True)])


class AppRequest(Request):
    parameter_storage_class = CleanParameters


# Ids are PostgreSQL INTEGER columns. A larger number in a URL or a query parameter cannot name
# a row, and handing it to the database fails in the driver ("integer out of range" on
# PostgreSQL, OverflowError on SQLite), which would be a 500 instead of a 404.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in routes: numbers beyond the id range do not match, so they are a 404."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def id_arg(name: str) -> int:
    """A positive id from the query string, or 0 when missing or out of range."""
    value = request.args.get(name, 0, type=int)
    return value if 0 < value <= MAX_ID else 0
