"""Windowed lists of people, companies, deals and tasks — for 50,000 rows and more.

A view asks for ``count`` once and then for windows of rows as the user scrolls
(``window(offset, limit)``): SQLite sorts and filters, Python never holds the whole list.
Columns include the rep's custom fields; sorting on any sortable column happens in SQL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from relbook.domain.clock import from_millis
from relbook.services.base import Service
from relbook.services.fields import FieldDef, custom_value_sql
from relbook.services.filtering import Compiled, FilterContext, compile_filter

LIST_KINDS = ("person", "company", "deal", "task")
DEEP_OFFSET = 2000
_LEFT_JOIN = re.compile(r"\s+LEFT JOIN \w+ (\w+) ON .+?(?=\s+(?:LEFT )?JOIN |$)")


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str
    sql: str
    value_type: str  # text, moment, date, money, number, percent, tags, bool, days
    sortable: bool = True
    visible: bool = True  # shown by default
    sort_exprs: tuple[str, ...] = ()  # when sorting differs from the value (names by key)
    currency_sql: str = ""  # money: the currency column

    @property
    def align_right(self) -> bool:
        return self.value_type in ("money", "number", "percent", "days")


@dataclass(frozen=True)
class ListRow:
    id: str
    values: tuple[Any, ...]  # in column order; moments are datetimes, money (minor, currency)


_TAGS = (
    "(SELECT group_concat(tg.name, ', ') FROM entity_tag et JOIN tag tg ON tg.id = et.tag_id "
    "WHERE et.entity_id = {a}.id)"
)

# A deleted company, person or deal shows as none (its name is neither shown, sorted nor
# filtered on); a deal's stage and pipeline are where it is, deleted or not (deleting them
# moves their live deals away).
BASE: dict[str, str] = {
    "person": "person p LEFT JOIN company c ON c.id = p.company_id AND c.deleted_at IS NULL",
    "company": "company c",
    "deal": (
        "deal d JOIN stage s ON s.id = d.stage_id JOIN pipeline pl ON pl.id = d.pipeline_id "
        "LEFT JOIN company c ON c.id = d.company_id AND c.deleted_at IS NULL"
    ),
    "task": (
        "task t LEFT JOIN person p ON p.id = t.person_id AND p.deleted_at IS NULL "
        "LEFT JOIN company c ON c.id = t.company_id AND c.deleted_at IS NULL "
        "LEFT JOIN deal d ON d.id = t.deal_id AND d.deleted_at IS NULL"
    ),
}
ALIVE = {"person": "p", "company": "c", "deal": "d", "task": "t"}


def _needed_joins(kind: str, where: str) -> str:
    """``BASE[kind]`` without the LEFT JOINs ``where`` does not use: a LEFT JOIN on a key
    never changes a count, and SQLite does not drop it (50 ms for 50,000 people)."""
    base = BASE[kind]
    for join in _LEFT_JOIN.finditer(BASE[kind]):
        if not re.search(rf"\b{join.group(1)}\.", where):
            base = base.replace(join.group(0), "")
    return base


COLUMNS: dict[str, tuple[ColumnSpec, ...]] = {
    "person": (
        ColumnSpec("name", "Name", "p.display_name", "text", sort_exprs=("p.name_key",)),
        ColumnSpec("company", "Company", "c.name", "text"),
        ColumnSpec("title", "Title", "p.title", "text"),
        ColumnSpec(
            "email",
            "E-mail",
            "(SELECT address FROM person_email WHERE person_id = p.id ORDER BY position LIMIT 1)",
            "text",
        ),
        ColumnSpec(
            "phone",
            "Phone",
            "(SELECT number FROM person_phone WHERE person_id = p.id ORDER BY position LIMIT 1)",
            "text",
            visible=False,
        ),
        ColumnSpec("last_touch", "Last touch", "p.last_touch_at", "moment"),
        ColumnSpec("touches", "Touches", "p.touch_count", "number"),
        ColumnSpec("strength", "Strength", "p.strength", "number"),
        ColumnSpec("rhythm", "Rhythm (days)", "p.rhythm_days", "number", visible=False),
        ColumnSpec("tags", "Tags", _TAGS.format(a="p"), "tags", sortable=False),
        ColumnSpec("created", "Added", "p.created_at", "moment", visible=False),
    ),
    "company": (
        ColumnSpec("name", "Name", "c.name", "text", sort_exprs=("c.name_key",)),
        ColumnSpec(
            "domain",
            "Domain",
            "(SELECT domain FROM company_domain WHERE company_id = c.id ORDER BY position LIMIT 1)",
            "text",
        ),
        ColumnSpec("industry", "Industry", "c.industry", "text"),
        ColumnSpec("people", "People", "c.people_count", "number"),
        ColumnSpec("value", "Value", "c.current_value_minor", "money", currency_sql="c.currency"),
        ColumnSpec(
            "potential", "Potential", "c.potential_value_minor", "money", currency_sql="c.currency"
        ),
        ColumnSpec("last_touch", "Last touch", "c.last_touch_at", "moment"),
        ColumnSpec("strength", "Strength", "c.strength", "number", visible=False),
        ColumnSpec("employees", "Employees", "c.employees", "number", visible=False),
        ColumnSpec("tags", "Tags", _TAGS.format(a="c"), "tags", sortable=False),
        ColumnSpec("created", "Added", "c.created_at", "moment", visible=False),
    ),
    "deal": (
        ColumnSpec("title", "Deal", "d.title", "text"),
        ColumnSpec("company", "Company", "c.name", "text"),
        ColumnSpec("stage", "Stage", "s.name", "text", sort_exprs=("pl.position", "s.position")),
        ColumnSpec("status", "Status", "d.status", "text"),
        ColumnSpec("amount", "Amount", "d.amount_minor", "money", currency_sql="d.currency"),
        ColumnSpec("probability", "Prob.", "coalesce(d.probability, s.probability)", "percent"),
        ColumnSpec(
            "weighted",
            "Weighted",
            "(d.amount_minor * coalesce(d.probability, s.probability) / 100)",
            "money",
            currency_sql="d.currency",
        ),
        ColumnSpec("close", "Expected close", "d.expected_close", "date"),
        ColumnSpec(
            "days_in_stage",
            "Days in stage",
            "((:now - d.stage_entered_at) / 86400000)",
            "days",
        ),
        ColumnSpec("pipeline", "Pipeline", "pl.name", "text", visible=False),
        ColumnSpec("tags", "Tags", _TAGS.format(a="d"), "tags", sortable=False),
        ColumnSpec("created", "Added", "d.created_at", "moment", visible=False),
    ),
    "task": (
        ColumnSpec("title", "Task", "t.title", "text"),
        ColumnSpec("due", "Due", "t.due_at", "moment"),
        ColumnSpec("person", "Person", "p.display_name", "text"),
        ColumnSpec("company", "Company", "c.name", "text"),
        ColumnSpec("deal", "Deal", "d.title", "text", visible=False),
        ColumnSpec("priority", "High", "t.priority", "bool"),
        ColumnSpec("done", "Done", "t.done_at", "moment"),
    ),
}

DEFAULT_SORT: dict[str, list[tuple[str, bool]]] = {
    "person": [("name", True)],
    "company": [("name", True)],
    "deal": [("close", True)],
    "task": [("due", True)],
}


def _custom_column(definition: FieldDef, alias: str, book_currency: str) -> ColumnSpec:
    expr = custom_value_sql(f"{alias}.custom", definition.key)
    if definition.field_type == "person_ref":
        # The name, not the id (none when the person was deleted).
        expr = f"(SELECT display_name FROM person WHERE id = {expr} AND deleted_at IS NULL)"
    value_type = {
        "number": "number",
        "money": "money",
        "date": "date",
        "multi_choice": "tags",
    }.get(definition.field_type, "text")
    return ColumnSpec(
        f"custom.{definition.key}",
        definition.label,
        expr,
        value_type,
        visible=False,
        currency_sql=f"'{definition.currency or book_currency}'" if value_type == "money" else "",
    )


class ListService(Service):
    def columns(self, kind: str) -> list[ColumnSpec]:
        columns = list(COLUMNS[kind])
        if kind in ("person", "company", "deal"):
            columns += [
                _custom_column(d, ALIVE[kind], self.services.settings.currency)
                for d in self.services.fields.definitions(kind)
            ]
        return columns

    def _compile(self, kind: str, filter_text: str) -> Compiled:
        settings = self.services.settings
        custom = self.services.fields.by_key(kind) if kind != "task" else {}
        ctx = FilterContext(
            now=self.clock.now(),
            currency=settings.currency,
            going_cold_factor=float(settings.get("going_cold_factor")),
            custom=custom,
        )
        return compile_filter(kind, filter_text, ctx)

    def _where(self, kind: str, compiled: Compiled) -> str:
        return f"{ALIVE[kind]}.deleted_at IS NULL AND {compiled.sql()}"

    def count(self, kind: str, filter_text: str = "") -> int:
        compiled = self._compile(kind, filter_text)
        where = self._where(kind, compiled)
        row = self.db.execute(
            f"SELECT count(*) FROM {_needed_joins(kind, where)} WHERE {where}", compiled.params
        ).fetchone()
        return int(row[0])

    def ids(self, kind: str, filter_text: str = "") -> list[str]:
        compiled = self._compile(kind, filter_text)
        return [
            r[0]
            for r in self.db.execute(
                f"SELECT {ALIVE[kind]}.id FROM {BASE[kind]} WHERE {self._where(kind, compiled)}",
                compiled.params,
            )
        ]

    def window(
        self,
        kind: str,
        filter_text: str = "",
        sort: list[tuple[str, bool]] | None = None,
        offset: int = 0,
        limit: int = 200,
        columns: list[ColumnSpec] | None = None,
    ) -> list[ListRow]:
        """Rows ``offset .. offset+limit`` of the filtered, sorted list.

        ``sort`` is [(column key, ascending)]; the row id breaks ties so windows never
        overlap or skip rows.
        """
        columns = self.columns(kind) if columns is None else columns
        by_key = {c.key: c for c in columns}
        compiled = self._compile(kind, filter_text)
        alias = ALIVE[kind]
        order: list[tuple[str, bool]] = []  # (expression, ascending)
        for key, ascending in sort or DEFAULT_SORT[kind]:
            column = by_key.get(key)
            if column is None or not column.sortable:
                continue
            parts = column.sort_exprs or (column.sql,)
            # Empty values last, whichever the direction.
            order.append((f"({parts[0]}) IS NULL", True))
            order += [(part, ascending) for part in parts]
        order.append((f"{alias}.id", True))
        now = str(int(self.clock.now().timestamp() * 1000))
        where = self._where(kind, compiled)
        # Deep in a long list, the same window counted from the end is a small top-k
        # sort instead of keeping every row before it (the last page of 50,000 people).
        reverse = False
        if offset >= DEEP_OFFSET:
            total = self.count(kind, filter_text)
            if offset > total // 2:
                reverse = True
                limit = max(0, min(limit, total - offset))
                offset = max(0, total - offset - limit)

        def direction(ascending: bool) -> str:
            return "ASC" if ascending != reverse else "DESC"

        # 1. Which rows, by the sort keys alone (no column is computed for skipped rows):
        # the table in its own order (+deleted_at: not through the index of live names,
        # whose random row lookups cost 4× at 50,000 people), only the joins needed.
        ordering = ", ".join(f"{e} {direction(a)}" for e, a in order)
        keyed = (
            f"SELECT {alias}.rowid, {alias}.id FROM {_needed_joins(kind, where + ordering)} "
            f"WHERE +{where} ORDER BY {ordering} LIMIT ? OFFSET ?"
        ).replace(":now", now)
        chosen = self.db.execute(keyed, (*compiled.params, limit, offset)).fetchall()
        if reverse:
            chosen.reverse()
        if not columns or not chosen:
            return [ListRow(entity_id, ()) for _rowid, entity_id in chosen]
        # 2. Their columns (tags, first e-mail, custom fields) for these rows only.
        select = [f"{alias}.rowid"]
        for column in columns:
            select.append(column.sql)
            if column.currency_sql:
                select.append(column.currency_sql)
        sql = (
            f"SELECT {', '.join(select)} FROM {BASE[kind]} "
            f"WHERE {alias}.rowid IN (SELECT value FROM json_each(?))"
        ).replace(":now", now)
        found = {raw[0]: raw for raw in self.db.execute(sql, (json.dumps([r[0] for r in chosen]),))}
        rows = []
        for rowid, entity_id in chosen:
            raw = found.get(rowid)
            if raw is None:
                continue
            values: list[Any] = []
            index = 1
            for column in columns:
                value = raw[index]
                index += 1
                if column.currency_sql:
                    value = None if value is None else (value, raw[index])
                    index += 1
                elif column.value_type == "moment" and value is not None:
                    value = from_millis(value)
                elif column.value_type == "tags" and column.key.startswith("custom.") and value:
                    value = ", ".join(json.loads(value)) if value.startswith("[") else value
                values.append(value)
            rows.append(ListRow(entity_id, tuple(values)))
        return rows

    def position_of(
        self,
        kind: str,
        entity_id: str,
        filter_text: str = "",
        sort: list[tuple[str, bool]] | None = None,
    ) -> int | None:
        """The row index of ``entity_id`` in the list (to keep the selection after a refresh)."""
        ids = [r.id for r in self.window(kind, filter_text, sort, 0, 1_000_000, columns=[])]
        try:
            return ids.index(entity_id)
        except ValueError:
            return None
