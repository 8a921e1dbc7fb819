"""Declarative base with a constraint naming convention, and shared column types."""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator, bindparam, cast, event, null, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, make_transient_to_detached

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


@event.listens_for(Engine, "connect")
def _sqlite_unicode_case(dbapi_connection, _record) -> None:
    """SQLite's lower() folds ASCII only, and SQLAlchemy compiles ILIKE to lower() LIKE lower()
    there, so a search for "щаранский" missed "Щаранский" in embedded mode. PostgreSQL's
    ILIKE already folds every script; this gives SQLite the same behaviour."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    SQLite stores no offset, so values come back naive; this type gives them back their UTC
    zone and refuses naive input so a local time can never be stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Bilingual:
    """For models whose texts are kept as ``<field>_en`` and ``<field>_ru`` columns."""

    def localized(self, field: str, locale: str) -> str:
        """The Russian text when asked for and written, else the English."""
        if locale == "ru":
            value = getattr(self, f"{field}_ru")
            if value:
                return value
        return getattr(self, f"{field}_en")


_INSERTS: dict = {}


def insert_new(session, obj, *, unless_exists: list[str] | None = None):
    """Insert a new ORM object with one ``INSERT ... RETURNING id`` built once per table (Core,
    not the unit of work, whose bookkeeping costs more than the statement on a hot path such
    as signing) and add it to ``session`` as if just loaded. Columns left unset or None take
    their Python-side defaults, as with the unit of work. Only column attributes count: set
    foreign keys, not relationships.

    ``unless_exists`` names the columns of a unique constraint: the INSERT then does nothing
    when a row with the same values exists, or another transaction inserting them commits
    first (``ON CONFLICT DO NOTHING``, no error, no savepoint), and None is returned."""
    table, values = _column_values(obj)
    dialect = session.get_bind().dialect.name
    cache_key = (table.name, dialect, tuple(unless_exists or ()))
    stmt = _INSERTS.get(cache_key)
    if stmt is None:
        stmt = _insert(table, dialect, unless_exists).returning(table.c.id)
        _INSERTS[cache_key] = stmt
    new_id = session.execute(stmt, values).scalar()
    if new_id is None:  # only with unless_exists: the row was there
        return None
    obj.id = new_id
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def _column_values(obj, skip=(), write_back: bool = True) -> tuple:
    """The table of a new ORM object and its column values, defaults filled in (as the unit
    of work would) and, with ``write_back``, set on the object too."""
    mapper = sa_inspect(type(obj))
    table = mapper.local_table
    values = {}
    for column in table.columns:
        if column.primary_key or column.key in skip:
            continue
        key = mapper.get_property_by_column(column).key
        value = obj.__dict__.get(key)
        default = column.default
        if value is None and default is not None:
            # As the unit of work does: None on a column with a default means the default.
            value = default.arg(None) if default.is_callable else default.arg
        if write_back:
            setattr(obj, key, value)
        values[column.key] = value
    return table, values


@dataclass
class Linked:
    """One row of ``insert_chain``: a new ORM object; the columns it takes from the row
    inserted just before it in the same statement (``links``: column key -> function of the
    earlier rows' CTEs, in order, giving an SQL expression over the last one); and for the
    first row, the unique columns that make it do nothing when a row with the same values
    exists (``unless_exists``)."""

    obj: object
    links: dict = field(default_factory=dict)
    unless_exists: list[str] | None = None
    returns: tuple[str, ...] = ()  # columns besides the id that the next row's links read


_CHAINS: dict = {}


def insert_chain(session, name: str, rows: list[Linked], *, when=None,
                 params: dict | None = None) -> tuple | None:
    """PostgreSQL: insert rows that refer to each other (a person, their signature, its
    email) in one statement of data-modifying CTEs, one round trip instead of one per row.
    Returns the new ids in order, or None when nothing was inserted: the first row existed
    (``unless_exists``) or ``when``, an SQL condition over ``params``, was false. Each row
    is inserted only if the one before it was, so the chain goes in whole or not at all.

    The statement is built once per ``name`` and set of columns left NULL (written into it
    rather than sent): psycopg prepares statements, and caches their parsing, only up to
    4 kB and 50 parameters. The objects get their ids, keep only the values they were given
    (not the defaults) and are not added to the session."""
    values = dict(params or {})
    tables, nulls = [], []
    for i, row in enumerate(rows):
        table, row_values = _column_values(row.obj, skip=row.links, write_back=False)
        tables.append(table)
        nulls.append(frozenset(key for key, value in row_values.items() if value is None))
        values.update({f"r{i}_{key}": value for key, value in row_values.items()
                       if value is not None})
    cache_key = (name, tuple(nulls))
    stmt = _CHAINS.get(cache_key)
    if stmt is None:
        stmt = _CHAINS[cache_key] = _build_chain(rows, tables, nulls, when)
    ids = session.execute(stmt, values).one()
    if ids[-1] is None:
        return None
    for row, new_id in zip(rows, ids, strict=True):
        row.obj.id = new_id
    return tuple(ids)


def _build_chain(rows: list[Linked], tables: list, nulls: list, when):
    from sqlalchemy.dialects.postgresql import insert

    ctes = []
    for i, (row, table) in enumerate(zip(rows, tables, strict=True)):
        columns = [c for c in table.columns if not c.primary_key]
        exprs = [row.links[c.key](ctes) if c.key in row.links
                 else cast(null(), c.type) if c.key in nulls[i]
                 else bindparam(f"r{i}_{c.key}", type_=c.type) for c in columns]
        source = select(*exprs)
        if ctes:
            source = source.select_from(ctes[-1])
        elif when is not None:
            source = source.where(when)
        stmt = insert(table).from_select([c.key for c in columns], source)
        if row.unless_exists:
            stmt = stmt.on_conflict_do_nothing(index_elements=row.unless_exists)
        # The id and what the next row's links read, no more (the 4 kB above).
        returned = [table.c.id, *(table.c[name] for name in row.returns)]
        ctes.append(stmt.returning(*returned).cte(f"row{i}"))
    return select(*[select(cte.c.id).scalar_subquery() for cte in ctes])


def _insert(table, dialect: str, unless_exists: list[str] | None):
    if not unless_exists:
        return table.insert()
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing(index_elements=unless_exists)


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """An enum column stored as its values in a VARCHAR with a named CHECK constraint.

    Native PostgreSQL enum types make adding a state a migration of its own; a string plus a
    check keeps the integrity in the database and stays easy to extend.
    """
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
