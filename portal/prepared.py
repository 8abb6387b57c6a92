"""Queries of a fixed shape whose SQL Django compiles once per process.

Compiling a query (``SQLCompiler.as_sql``) costs more CPU than PostgreSQL takes to run
it when the select is wide: about 1.5 ms for an appeal with two agencies joined, against
0.2 ms to send the same SQL and read the row. A citizen's status page makes four such
queries, so on its hot path a query is built once with a stand-in value for each
parameter, compiled, and then run with the real values; rows become model instances
(with their select_related rows) as Django's own ModelIterable makes them, through the
same compiler's converters.

Only plain equality parameters are replaced: each stand-in must appear exactly once
among the compiled parameters, or preparing fails loudly. tests/portal/test_prepared.py
checks every prepared query of the portal against the ORM's own result, so a Django
upgrade that changes the compiler's internals fails there, not on a citizen's page.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import get_related_populators
from django.utils import translation


class _Compiled:
    def __init__(self, queryset: QuerySet, stand_ins: dict[str, Any]):
        self.db = queryset.db
        compiler = queryset.query.get_compiler(using=self.db)
        sql, params = compiler.as_sql()
        self.sql = sql
        self.params = list(params)
        self.slots = {}
        for name, stand_in in stand_ins.items():
            adapt = _adapter(stand_in, compiler.connection)
            marker = adapt(stand_in)
            found = [n for n, value in enumerate(self.params) if value == marker]
            if len(found) != 1:
                raise ValueError(
                    f"prepared query: the stand-in for {name!r} appears "
                    f"{len(found)} times among the parameters, not once"
                )
            self.slots[name] = (found[0], adapt)
        columns = [column[0] for column in compiler.select[: compiler.col_count]]
        if compiler.has_composite_fields(columns) or compiler.annotation_col_map:
            raise ValueError("prepared query: composite keys or annotations")
        # What SQLCompiler.results_iter works out for every query, worked out once.
        self.compiler = compiler
        self.converters = compiler.get_converters(columns)
        klass_info = compiler.klass_info
        self.model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.span = slice(start, end)
        self.init_list = [column.target.attname for column in columns[start:end]]
        self.populators = get_related_populators(klass_info, compiler.select, self.db)

    def run(self, values: dict[str, Any]) -> list:
        params = list(self.params)
        for name, (slot, adapt) in self.slots.items():
            params[slot] = adapt(values[name])
        with self.compiler.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        objects = []
        for row in rows:
            obj = self.model.from_db(self.db, self.init_list, row[self.span])
            for populator in self.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects


def _same(value: Any) -> Any:
    return value


def _hex(value: uuid.UUID) -> str:
    return value.hex


def _adapter(stand_in: Any, connection) -> Callable[[Any], Any]:
    """How a value of the stand-in's type reaches the compiled parameters: as it is,
    or as Django's UUIDField adapts it where the database has no uuid type (SQLite:
    its hex)."""
    if (
        isinstance(stand_in, uuid.UUID)
        and not connection.features.has_native_uuid_field
    ):
        return _hex
    return _same


class PreparedQuery:
    """``build(**params)`` returns the queryset; calling the prepared query with the
    same keyword arguments returns the list of model instances it would yield.

    ``stand_ins`` gives, for each parameter, a value of its type that the real values
    never take (it marks the parameter's place in the compiled SQL). The real values
    go to the database as they are, not through the field's conversions (but for a
    UUID, adapted as UUIDField adapts it), so each must be of its stand-in's type.
    The rows are fetched at once (small results), and an instance does not carry the
    object it was reached from (an event read by its appeal's id has no cached
    ``event.appeal``)."""

    def __init__(self, build: Callable[..., QuerySet], **stand_ins: Any):
        self.build = build
        self.stand_ins = stand_ins
        self.model = None
        # Per thread, as Django's connections are: the compiler keeps its connection.
        self._local = threading.local()

    def __call__(self, **values: Any) -> list:
        if values.keys() != self.stand_ins.keys():
            raise TypeError(f"prepared query takes {sorted(self.stand_ins)}")
        for name, value in values.items():
            if not isinstance(value, type(self.stand_ins[name])):
                raise TypeError(
                    f"prepared query: {name!r} must be "
                    f"{type(self.stand_ins[name]).__name__}, not {type(value).__name__}"
                )
        return self._compile().run(values)

    def _compile(self) -> _Compiled:
        if self.model is None:
            self.model = self.build(**self.stand_ins).model
        alias = router.db_for_read(self.model)
        # The SQL differs between backends, and modeltranslation names a translated
        # field's column after the active language.
        connection = connections[alias]
        key = (alias, id(connection), connection.vendor, translation.get_language())
        compiled = getattr(self._local, "compiled", None)
        if compiled is None:
            compiled = self._local.compiled = {}
        found = compiled.get(key)
        if found is None:
            queryset = self.build(**self.stand_ins).using(alias)
            found = compiled[key] = _Compiled(queryset, self.stand_ins)
        return found
