"""A list of values bound as one JSON parameter, for statements run again and again with
lists of hundreds (the outbox worker's leases, marks and recipients).

``column IN (:v1, :v2, ...)`` is a new statement for every length: SQLAlchemy renders a
placeholder (and on PostgreSQL a cast) per value, psycopg parses that text anew (too long
for its cache), and PostgreSQL plans it anew. Measured on a lease of 200 rows
(bench_dispatch): about 25 µs of this process's CPU per row. Bound as one JSON array the
statement text never changes, so each of those happens once, and SQLite's limit on
variables is never met. On PostgreSQL the list is ``column = ANY(ARRAY(…))``: an index
condition, whatever length the planner guesses for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import ColumnElement, String, bindparam, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB


def json_list(values: Iterable[Any]) -> str:
    """The value to bind for :func:`in_json_list`."""
    return orjson.dumps(list(values)).decode()


def in_json_list(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """``column IN`` the JSON array bound as ``name`` (:func:`json_list`), for ``dialect``
    ("postgresql" or "sqlite")."""
    bound = bindparam(name, type_=String)
    result: ColumnElement[bool]
    if dialect == "postgresql":
        values = func.jsonb_array_elements_text(sql_cast(bound, JSONB)).column_valued("value")
        listed = select(sql_cast(values, column.type)).scalar_subquery()
        # = ANY(ARRAY(…)), not IN (…): the list is an index condition whatever the planner
        # guesses of its length (it guesses 100 rows for any JSON array; with IN it hashed
        # a lease's 500 recipients against every person of the org: bench_dispatch)
        result = column == func.any(func.array(listed))
    else:
        result = column.in_(select(func.json_each(bound).table_valued("value").c.value))
    return result
