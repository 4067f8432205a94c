"""Compiles the filter language (``domain.filters``) to SQL for lists and saved views.

Field reference (also in the README, "Filters"):

people     name: title: company: email: phone: tag: last-touch touches strength rhythm
           cadence created updated is:going-cold is:snoozed has:email|phone|company|deal
companies  name: domain: industry: tag: value potential employees people last-touch
           touches strength created updated has:domain|deal|people
deals      title: company: stage: pipeline: status: competitor: person: tag: amount
           probability weighted close days-in-stage last-touch created updated
           is:open|won|lost|stale
tasks      title: person: company: deal: due done priority is:open|done|overdue|snoozed
plus every custom field of the kind by its key (typed comparisons).

Ages (``last-touch>30d`` = more than 30 days ago; ``created<7d`` = within 7 days) and
dates (``close<2026-06-30``, ``due<=today``) compare moments; ``amount>10k`` compares money
in the book's currency units. Bare words and "phrases" search the kind's text index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from relbook.domain.clock import to_millis
from relbook.domain.errors import FilterSyntaxError
from relbook.domain.filters import (
    Clause,
    ParsedFilter,
    parse_amount,
    parse_date,
    parse_duration,
    parse_filter,
)
from relbook.domain.kinds import FieldType
from relbook.domain.money import to_minor
from relbook.domain.search_query import build_query
from relbook.services.fields import FieldDef, custom_value_sql
from relbook.services.tags import tag_key

# table alias of the main row per kind
ALIAS = {"person": "p", "company": "c", "deal": "d", "task": "t"}
FTS = {"person": "fts_person", "company": "fts_company", "deal": "fts_deal"}


@dataclass
class Compiled:
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def sql(self) -> str:
        return " AND ".join(self.where) if self.where else "1"


@dataclass(frozen=True)
class FilterContext:
    now: datetime
    currency: str
    going_cold_factor: float
    custom: dict[str, FieldDef]


Handler = Callable[[Clause, str, FilterContext, Compiled], str]


def _fail(clause: Clause, source: str, message: str) -> FilterSyntaxError:
    return FilterSyntaxError(message, clause.position, source)


def _bad_value(clause: Clause, source: str, message: str) -> FilterSyntaxError:
    """An error about the value: the pointer goes under the value, not the field."""
    return FilterSyntaxError(message, clause.value_position or clause.position, source)


def _text(expr: str) -> Handler:
    def handle(clause: Clause, source: str, ctx: FilterContext, out: Compiled) -> str:
        if clause.op not in (":", "=", "!="):
            raise _fail(clause, source, f"'{clause.field}' is text; use ':' or '='")
        parts = []
        for value in clause.values:
            if clause.op == ":":
                parts.append(f"{expr} LIKE ? ESCAPE '\\'")
                out.params.append("%" + _like(value) + "%")
            else:
                parts.append(f"lower({expr}) = lower(?)")
                out.params.append(value)
        sql = "(" + " OR ".join(parts) + ")"
        return f"NOT coalesce({sql}, 0)" if clause.op == "!=" else sql

    return handle


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _exists_text(template: str) -> Handler:
    """``template`` is an EXISTS subquery with one {cond} on column ``x``."""

    def handle(clause: Clause, source: str, ctx: FilterContext, out: Compiled) -> str:
        if clause.op not in (":", "=", "!="):
            raise _fail(clause, source, f"'{clause.field}' is text; use ':' or '='")
        parts = []
        for value in clause.values:
            if clause.op == ":":
                parts.append("x LIKE ? ESCAPE '\\'")
                out.params.append("%" + _like(value) + "%")
            else:
                parts.append("lower(x) = lower(?)")
                out.params.append(value)
        sql = template.format(cond="(" + " OR ".join(parts) + ")")
        return f"NOT {sql}" if clause.op == "!=" else sql

    return handle


def _compare(clause: Clause, source: str, expr: str, value: Any, out: Compiled) -> str:
    op = {":": "=", "=": "="}.get(clause.op, clause.op)
    out.params.append(value)
    return f"({expr} {op} ?)"


def _number(expr: str, *, money: bool = False) -> Handler:
    def handle(clause: Clause, source: str, ctx: FilterContext, out: Compiled) -> str:
        if len(clause.values) != 1:
            raise _fail(clause, source, f"'{clause.field}' compares with one number")
        number = parse_amount(clause.values[0])
        if number is None:
            raise _bad_value(clause, source, f"'{clause.values[0]}' is not a number")
        value: Any = to_minor(number, ctx.currency) if money else number
        return _compare(clause, source, expr, value, out)

    return handle


def _moment(expr: str, *, future: bool = False) -> Handler:
    """A moment column (integer ms). Durations are ages (past) or horizons (future)."""

    def handle(clause: Clause, source: str, ctx: FilterContext, out: Compiled) -> str:
        if len(clause.values) != 1 or clause.op in (":", "!="):
            if clause.op == ":" and clause.values[0] in ("never", "none"):
                return f"({expr} IS NULL)"
            if clause.op == ":" and len(clause.values) == 1:
                clause = Clause(
                    clause.field,
                    "=",
                    clause.values,
                    clause.negated,
                    clause.position,
                    clause.value_position,
                )
            else:
                raise _fail(clause, source, f"compare '{clause.field}' with >, <, >=, <= or =")
        raw = clause.values[0]
        duration = parse_duration(raw)
        if duration is not None:
            if future:
                bound = ctx.now + duration
                return (
                    _compare(clause, source, expr, to_millis(bound), out)
                    if clause.op != "="
                    else _day(expr, bound, out)
                )
            bound = ctx.now - duration
            # age > 30d  <=>  moment < now - 30d (or never happened)
            flipped = {">": "<", ">=": "<=", "<": ">", "<=": ">="}.get(clause.op, "=")
            if clause.op in (">", ">="):
                out.params.append(to_millis(bound))
                return f"({expr} IS NULL OR {expr} {flipped} ?)"
            if clause.op == "=":
                return _day(expr, bound, out)
            out.params.append(to_millis(bound))
            return f"({expr} {flipped} ?)"
        day = parse_date(raw, ctx.now.date())
        if day is None:
            raise _bad_value(
                clause, source, f"'{raw}' is neither a date (YYYY-MM-DD) nor an age (30d)"
            )
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if clause.op == "=":
            return _day(expr, start, out)
        edge = start + timedelta(days=1) if clause.op in (">", "<=") else start
        op = {">": ">=", "<=": "<"}.get(clause.op, clause.op)
        out.params.append(to_millis(edge))
        return f"({expr} {op} ?)"

    return handle


def _day(expr: str, moment: datetime, out: Compiled) -> str:
    start = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    out.params += [to_millis(start), to_millis(start + timedelta(days=1))]
    return f"({expr} >= ? AND {expr} < ?)"


def _iso_date(expr: str) -> Handler:
    """A date column stored as ISO text (expected close, custom dates)."""

    def handle(clause: Clause, source: str, ctx: FilterContext, out: Compiled) -> str:
        if len(clause.values) != 1:
            raise _fail(clause, source, f"'{clause.field}' compares with one date")
        raw = clause.values[0]
        duration = parse_duration(raw)
        day = (
            (ctx.now + duration).date() if duration is not None else parse_date(raw, ctx.now.date())
        )
        if day is None:
            raise _bad_value(clause, source, f"'{raw}' is not a date (YYYY-MM-DD, today, 30d)")
        op = {":": "=", "!=": "!="}.get(clause.op, clause.op)
        out.params.append(day.isoformat())
        return f"({expr} {op} ?)"

    return handle


def _tag(entity_alias: str) -> Handler:
    def handle(clause: Clause, source: str, ctx: FilterContext, out: Compiled) -> str:
        if clause.op not in (":", "=", "!="):
            raise _fail(clause, source, "use tag:name")
        keys = [tag_key(v) for v in clause.values]
        out.params += keys
        marks = ",".join("?" * len(keys))
        sql = (
            f"EXISTS (SELECT 1 FROM entity_tag et JOIN tag tg ON tg.id = et.tag_id "
            f"WHERE et.entity_id = {entity_alias}.id AND tg.name_key IN ({marks}))"
        )
        return f"NOT {sql}" if clause.op == "!=" else sql

    return handle


def _flags(options: dict[str, str]) -> Handler:
    def handle(clause: Clause, source: str, ctx: FilterContext, out: Compiled) -> str:
        if clause.op != ":":
            raise _fail(clause, source, f"use {clause.field}:{'|'.join(options)}")
        parts = []
        for value in clause.values:
            sql = options.get(value.lower())
            if sql is None:
                raise _bad_value(
                    clause, source, f"'{clause.field}:{value}' — choose {', '.join(options)}"
                )
            parts.append(sql.format(now=to_millis(ctx.now), factor=ctx.going_cold_factor))
        return "(" + " OR ".join(parts) + ")"

    return handle


def _choice(expr: str, allowed: tuple[str, ...]) -> Handler:
    def handle(clause: Clause, source: str, ctx: FilterContext, out: Compiled) -> str:
        values = [v.lower() for v in clause.values]
        bad = [v for v in values if v not in allowed]
        if bad:
            raise _bad_value(clause, source, f"'{bad[0]}' — choose {', '.join(allowed)}")
        out.params += values
        sql = f"({expr} IN ({','.join('?' * len(values))}))"
        return f"NOT {sql}" if clause.op == "!=" else sql

    return handle


_DAY_MS = 86_400_000

PERSON: dict[str, Handler] = {
    "name": _text("p.display_name"),
    "title": _text("p.title"),
    "company": _text("c.name"),
    "email": _exists_text(
        "EXISTS (SELECT 1 FROM (SELECT address AS x, person_id FROM person_email) "
        "WHERE person_id = p.id AND {cond})"
    ),
    "phone": _exists_text(
        "EXISTS (SELECT 1 FROM (SELECT number AS x, person_id FROM person_phone) WHERE person_id = p.id AND {cond})"
    ),
    "tag": _tag("p"),
    "last-touch": _moment("p.last_touch_at"),
    "touches": _number("p.touch_count"),
    "strength": _number("p.strength"),
    "rhythm": _number("p.rhythm_days"),
    "cadence": _number("p.cadence_days"),
    "created": _moment("p.created_at"),
    "updated": _moment("p.updated_at"),
    "is": _flags(
        {
            "going-cold": "(p.rhythm_days IS NOT NULL AND p.last_touch_at < {now} - "
            "p.rhythm_days * {factor} * " + str(_DAY_MS) + ")",
            "snoozed": "(p.snoozed_until > {now})",
        }
    ),
    "has": _flags(
        {
            "email": "EXISTS (SELECT 1 FROM person_email WHERE person_id = p.id)",
            "phone": "EXISTS (SELECT 1 FROM person_phone WHERE person_id = p.id)",
            "company": "(c.id IS NOT NULL)",  # a live one (the list joins it)
            "deal": "EXISTS (SELECT 1 FROM deal_person dp JOIN deal dd ON dd.id = dp.deal_id "
            "WHERE dp.person_id = p.id AND dd.deleted_at IS NULL)",
        }
    ),
}

COMPANY: dict[str, Handler] = {
    "name": _text("c.name"),
    "domain": _exists_text(
        "EXISTS (SELECT 1 FROM (SELECT domain AS x, company_id FROM company_domain) "
        "WHERE company_id = c.id AND {cond})"
    ),
    "industry": _text("c.industry"),
    "tag": _tag("c"),
    "value": _number("c.current_value_minor", money=True),
    "potential": _number("c.potential_value_minor", money=True),
    "employees": _number("c.employees"),
    "people": _number("c.people_count"),
    "last-touch": _moment("c.last_touch_at"),
    "touches": _number("c.touch_count"),
    "strength": _number("c.strength"),
    "created": _moment("c.created_at"),
    "updated": _moment("c.updated_at"),
    "has": _flags(
        {
            "domain": "EXISTS (SELECT 1 FROM company_domain WHERE company_id = c.id)",
            "deal": "EXISTS (SELECT 1 FROM deal dd WHERE dd.company_id = c.id AND dd.deleted_at IS NULL)",
            "people": "(c.people_count > 0)",
        }
    ),
}

DEAL: dict[str, Handler] = {
    "title": _text("d.title"),
    "name": _text("d.title"),
    "company": _text("c.name"),
    "stage": _text("s.name"),
    "pipeline": _text("pl.name"),
    "status": _choice("d.status", ("open", "won", "lost")),
    "competitor": _exists_text(
        "EXISTS (SELECT 1 FROM (SELECT value AS x FROM json_each(d.competitors)) WHERE {cond})"
    ),
    "person": _exists_text(
        "EXISTS (SELECT 1 FROM (SELECT pp.display_name AS x, dp.deal_id FROM deal_person dp "
        "JOIN person pp ON pp.id = dp.person_id AND pp.deleted_at IS NULL) "
        "WHERE deal_id = d.id AND {cond})"
    ),
    "tag": _tag("d"),
    "amount": _number("d.amount_minor", money=True),
    "probability": _number("coalesce(d.probability, s.probability)"),
    "weighted": _number(
        "(d.amount_minor * coalesce(d.probability, s.probability) / 100)", money=True
    ),
    "close": _iso_date("d.expected_close"),
    "days-in-stage": _number(f"(({{now}} - d.stage_entered_at) / {_DAY_MS})"),
    "last-touch": _moment(
        "(SELECT max(occurred_at) FROM interaction_link WHERE entity_id = d.id AND excluded = 0)"
    ),
    "created": _moment("d.created_at"),
    "updated": _moment("d.updated_at"),
    "is": _flags(
        {
            "open": "(d.status = 'open')",
            "won": "(d.status = 'won')",
            "lost": "(d.status = 'lost')",
            "stale": "(d.status = 'open' AND s.stale_after_days IS NOT NULL AND "
            f"d.stage_entered_at < {{now}} - s.stale_after_days * {_DAY_MS})",
        }
    ),
}

TASK: dict[str, Handler] = {
    "title": _text("t.title"),
    "person": _text("p.display_name"),
    "company": _text("c.name"),
    "deal": _text("d.title"),
    "due": _moment("t.due_at", future=True),
    "done": _moment("t.done_at"),
    "priority": _choice(
        "(CASE t.priority WHEN 1 THEN 'high' ELSE 'normal' END)", ("high", "normal")
    ),
    "is": _flags(
        {
            "open": "(t.done_at IS NULL)",
            "done": "(t.done_at IS NOT NULL)",
            "overdue": "(t.done_at IS NULL AND t.due_at < {now})",
            "snoozed": "(t.snoozed_until > {now})",
        }
    ),
}

HANDLERS: dict[str, dict[str, Handler]] = {
    "person": PERSON,
    "company": COMPANY,
    "deal": DEAL,
    "task": TASK,
}


def _custom(definition: FieldDef, alias: str) -> Handler:
    expr = custom_value_sql(f"{alias}.custom", definition.key)
    kind = definition.field_type
    if kind in (FieldType.NUMBER,):
        return _number(expr)
    if kind == FieldType.MONEY:
        return _number(expr, money=True)
    if kind == FieldType.DATE:
        return _iso_date(expr)
    if kind == FieldType.PERSON_REF:
        # champion:zoe matches the referenced person's name, not the stored id.
        return _exists_text(
            f"EXISTS (SELECT 1 FROM (SELECT display_name AS x, id FROM person "
            f"WHERE deleted_at IS NULL) WHERE id = {expr} AND {{cond}})"
        )
    if kind == FieldType.MULTI_CHOICE:
        return _exists_text(
            f"EXISTS (SELECT 1 FROM (SELECT value AS x FROM json_each({expr})) WHERE {{cond}})"
        )
    return _text(expr)


def compile_filter(kind: str, text: str, ctx: FilterContext) -> Compiled:
    parsed: ParsedFilter = parse_filter(text)
    out = Compiled()
    handlers = dict(HANDLERS[kind])
    alias = ALIAS[kind]
    for key, definition in ctx.custom.items():
        handlers.setdefault(key, _custom(definition, alias))
    for clause in parsed.clauses:
        handler = handlers.get(clause.field)
        if handler is None:
            known = ", ".join(sorted(handlers))
            raise FilterSyntaxError(
                f"'{clause.field}' is not a field of {kind} lists (known: {known})",
                clause.position,
                text,
            )
        sql = handler(clause, text, ctx, out).replace("{now}", str(to_millis(ctx.now)))
        out.where.append(f"NOT ({sql})" if clause.negated else sql)
    if parsed.text_terms:
        words = " ".join(f'"{t}"' if " " in t else t for t in parsed.text_terms)
        if kind in FTS:
            query = build_query(words)
            if query is not None:
                out.where.append(
                    f"{alias}.rowid IN (SELECT rowid FROM {FTS[kind]} WHERE {FTS[kind]} MATCH ?)"
                )
                out.params.append(query.fts)
        else:
            for term in parsed.text_terms:
                out.where.append(f"{alias}.title LIKE ? ESCAPE '\\'")
                out.params.append("%" + _like(term) + "%")
    return out
