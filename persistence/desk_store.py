"""The desk's queries (issue 20): tags, full-text search over tickets and threads, saved views, macros, chart facts.

Search is engine-specific: SQLite FTS5 tables (`tickets_fts`, `messages_fts`, fed by triggers) and PostgreSQL GIN
expression indexes over `to_tsvector('helpline_simple', …)` (migrations 0011, 0012: whole words, accents folded
by `unaccent`, as FTS5's `remove_diacritics` does). The words handed in are letters and digits
only (support/workflow/desk.py), so they are quoted into the engine's query syntax and never parsed as operators.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

import msgspec
from sqlalchemy import String, and_, bindparam, delete, func, literal_column, or_, select, text, union
from sqlalchemy.orm import aliased

from persistence import audit, models
from persistence.models_desk import Macro, SavedView, TicketTag
from persistence.models_workflow import CsatRating
from persistence.store import TicketStore, ticket_view
from persistence.team_records import TeamRecords
from support.core import policy
from support.core.clock import as_utc
from support.core.errors import TicketError
from support.core.model import TicketView
from support.core.stores import UNSET
from support.integrations.events import actor_of
from support.workflow import desk_ports as ports
from support.core import tags as tag_rules

CHART_TICKETS_MAX = 200_000
TAG_COUNTS_MAX = 200
# A literal, so the GIN index expression matches the query's; `helpline_simple` is `simple` after `unaccent`
# (migration 0008), so "quen mat khau" and "quên mật khẩu" are the same words, on both sides of the match.
_SIMPLE: Any = literal_column("'helpline_simple'::regconfig")


def _fts5_query(terms: Sequence[str], prefix: bool) -> str:
    quoted = [f'"{w}"' for w in terms]
    if prefix and quoted:
        quoted[-1] += "*"
    return " ".join(quoted)


def _tsquery(terms: Sequence[str], prefix: bool) -> str:
    words = list(terms)
    if prefix and words:
        words[-1] += ":*"
    return " & ".join(words)


class DeskRepository:
    """support/workflow/desk_ports.py `DeskStore` over the ticket store's database."""

    def __init__(self, store: TicketStore) -> None:
        self.store = store
        self.postgres = store.dialect == "postgresql"
        self.views = TeamRecords(store, SavedView, SavedView.name, _view, "a view of that name exists")
        self.macros = TeamRecords(store, Macro, Macro.title, _macro, "a macro of that title exists")

    # -- tags, status and assignee in one transaction ----------------------------------------------------------
    async def change_ticket(
        self, ticket_id: str, change: ports.TicketChange, actor: Any, now: datetime
    ) -> TicketView | None:
        async with self.store.sessions.begin() as session:
            row = await session.get(models.Ticket, ticket_id, with_for_update=self.postgres)
            if row is None:
                return None
            before = ticket_view(row)
            if change.status is not None and change.status != row.status:
                if not policy.can_transition(row.status, change.status):
                    raise TicketError("conflict", f"a {row.status} ticket cannot become {change.status}")
                row.status = change.status
                row.solved_at = (
                    now if change.status == "solved" else (row.solved_at if change.status == "closed" else None)
                )
            if change.assignee is not UNSET:
                row.assignee = change.assignee
            old_tags = list(row.tags or ())
            new_tags = tag_rules.apply_change(old_tags, change.add_tags, change.remove_tags)
            added, removed = sorted(set(new_tags) - set(old_tags)), sorted(set(old_tags) - set(new_tags))
            if added or removed:
                row.tags = new_tags
                tt = TicketTag
                if removed:
                    await session.execute(delete(tt).where(tt.ticket_id == ticket_id, tt.tag.in_(removed)))
                if added:
                    await session.execute(
                        self.store._insert(tt).on_conflict_do_nothing(),
                        [{"ticket_id": ticket_id, "tag": t, "added_by": str(actor.id), "added_at": now} for t in added],
                    )
                audit.record(
                    session,
                    actor_of(actor),
                    "ticket.tag",
                    "ticket",
                    ticket_id,
                    {"added": added, "removed": removed},
                    now,
                )
            after = ticket_view(row)
            if after != before:
                row.updated_at = max(as_utc(row.updated_at), now)
            await session.flush()
            after = ticket_view(row)
            await audit.record_ticket_change(session, self.store.dialect, before, after, actor, now)
            if change.action:
                audit.record(session, actor_of(actor), change.action, "ticket", ticket_id, change.details, now)
            return after

    async def tag_counts(self, active_only: bool) -> list[tuple[str, int]]:
        tt, t = TicketTag, models.Ticket
        query = select(tt.tag, func.count()).group_by(tt.tag)
        if active_only:
            query = query.join(t, t.id == tt.ticket_id).where(t.status.in_(policy.ACTIVE_STATUSES))
        query = query.order_by(func.count().desc(), tt.tag).limit(TAG_COUNTS_MAX)
        async with self.store.reads() as session:
            return [(tag, int(count)) for tag, count in (await session.execute(query)).all()]

    # -- search ------------------------------------------------------------------------------------------------
    async def search(self, query: ports.TicketQuery) -> list[ports.SearchHit]:
        t = models.Ticket
        statement = select(t)
        if query.terms:
            statement = statement.where(self._matches(query))
        if query.customer_id is not None:
            statement = statement.where(t.customer_id == query.customer_id)
        if query.statuses is not None:
            statement = statement.where(t.status.in_(list(query.statuses)))
        if query.plan:
            statement = statement.where(t.plan == query.plan)
        if query.unassigned:
            statement = statement.where(t.assignee.is_(None))
        elif query.assignee:
            statement = statement.where(t.assignee == query.assignee)
        if query.tag:
            statement = statement.where(t.id.in_(select(TicketTag.ticket_id).where(TicketTag.tag == query.tag)))
        if query.breached is not None:
            now = query.now or datetime.now().astimezone()
            breached = and_(
                t.first_response_due.is_not(None),
                or_(
                    and_(t.first_response_at.is_not(None), t.first_response_at > t.first_response_due),
                    and_(t.first_response_at.is_(None), t.first_response_due < now),
                ),
            )
            statement = statement.where(breached if query.breached else ~breached)
        if query.since is not None:
            statement = statement.where(t.created_at >= query.since)
        if query.until is not None:
            statement = statement.where(t.created_at < query.until)
        if query.after is not None:
            at, last_id = query.after
            statement = statement.where(or_(t.created_at < at, and_(t.created_at == at, t.id < last_id)))
        statement = statement.order_by(t.created_at.desc(), t.id.desc()).limit(query.limit)
        async with self.store.reads() as session:
            rows = list(await session.scalars(statement))
            snippets = await self._snippets(session, query, [r.id for r in rows]) if query.terms and rows else {}
        return [ports.SearchHit(ticket_view(r), snippets.get(r.id), as_utc(r.created_at)) for r in rows]

    def _matches(self, query: ports.TicketQuery) -> Any:
        """The ticket's subject or one of its messages (internal ones only for agents) holds every word."""
        t, m = models.Ticket, models.Message
        if self.postgres:
            tsquery = func.to_tsquery(_SIMPLE, _tsquery(query.terms, query.prefix))
            in_messages: Any = select(m.ticket_id).where(func.to_tsvector(_SIMPLE, m.body).op("@@")(tsquery))
            if not query.include_internal:
                in_messages = in_messages.where(m.internal.is_(False))
            # One IN over a UNION, each side on its own GIN index (an OR would scan every ticket's subject).
            other = aliased(models.Ticket)
            subjects: Any = select(other.id).where(func.to_tsvector(_SIMPLE, other.subject).op("@@")(tsquery))
            return t.id.in_(union(subjects, in_messages))
        match = _fts5_query(query.terms, query.prefix)
        in_subjects: Any = (
            text("SELECT ticket_id FROM tickets_fts WHERE tickets_fts MATCH :subject_match")
            .bindparams(subject_match=match)
            .columns(ticket_id=String)
        )
        visible = "" if query.include_internal else " AND m.internal = 0"
        in_fts: Any = (
            text(
                "SELECT m.ticket_id FROM messages_fts JOIN messages m ON m.pk = messages_fts.rowid"
                f" WHERE messages_fts MATCH :body_match{visible}"
            )
            .bindparams(body_match=match)
            .columns(ticket_id=String)
        )
        return or_(t.id.in_(in_subjects), t.id.in_(in_fts))

    async def _snippets(self, session: Any, query: ports.TicketQuery, ticket_ids: list[str]) -> dict[str, str]:
        """Per ticket, its first matching visible message's text around the words (plain text)."""
        m = models.Message
        if self.postgres:
            tsquery = func.to_tsquery(_SIMPLE, _tsquery(query.terms, query.prefix))
            # The first matching message of each ticket (a window, not DISTINCT ON: SQLAlchemy 2.0 and 2.1 alike),
            # and the headline computed for those rows only.
            first: Any = select(
                m.ticket_id,
                m.body,
                func.row_number().over(partition_by=m.ticket_id, order_by=m.seq).label("rank"),
            ).where(m.ticket_id.in_(ticket_ids), func.to_tsvector(_SIMPLE, m.body).op("@@")(tsquery))
            if not query.include_internal:
                first = first.where(m.internal.is_(False))
            ranked = first.subquery()
            headline = func.ts_headline(
                _SIMPLE, ranked.c.body, tsquery, 'StartSel="",StopSel="",MaxWords=30,MinWords=12'
            )
            statement: Any = select(ranked.c.ticket_id, headline).where(ranked.c.rank == 1)
            return {tid: snippet for tid, snippet in (await session.execute(statement)).all()}
        visible = "" if query.include_internal else " AND m.internal = 0"
        statement = text(
            "SELECT m.ticket_id, snippet(messages_fts, 0, '', '', '…', 24) FROM messages_fts"
            " JOIN messages m ON m.pk = messages_fts.rowid"
            f" WHERE messages_fts MATCH :match AND m.ticket_id IN :ids{visible} ORDER BY m.seq DESC"
        ).bindparams(bindparam("ids", expanding=True), match=_fts5_query(query.terms, query.prefix), ids=ticket_ids)
        # Ordered newest first so that the dict keeps each ticket's first (oldest) match.
        return {tid: snippet for tid, snippet in (await session.execute(statement)).all()}

    # -- saved views and macros: team-owned named records (persistence/team_records.py) --------------------------
    async def list_views(self) -> list[ports.SavedView]:
        return await self.views.list()

    async def add_view(self, view: ports.SavedView) -> ports.SavedView:
        fields = {k: getattr(view, k) for k in _VIEW_FIELDS} | {"filters": msgspec.to_builtins(view.filters)}
        return await self.views.add(SavedView(**fields))

    async def edit_view(
        self, view_id: str, name: str | None, filters: ports.ViewFilters | None, now: datetime
    ) -> ports.SavedView | None:
        fields: dict[str, Any] = {} if name is None else {"name": name}
        if filters is not None:
            fields["filters"] = msgspec.to_builtins(filters)
        return await self.views.edit(view_id, fields, now)

    async def delete_view(self, view_id: str) -> bool:
        return await self.views.delete(view_id)

    async def list_macros(self) -> list[ports.Macro]:
        return await self.macros.list()

    async def get_macro(self, macro_id: str) -> ports.Macro | None:
        return await self.macros.get(macro_id)

    async def add_macro(self, macro: ports.Macro) -> ports.Macro:
        return await self.macros.add(Macro(**{k: getattr(macro, k) for k in _MACRO_FIELDS}))

    async def edit_macro(self, macro_id: str, fields: dict[str, Any], now: datetime) -> ports.Macro | None:
        return await self.macros.edit(macro_id, fields, now)

    async def delete_macro(self, macro_id: str) -> bool:
        return await self.macros.delete(macro_id)

    # -- the facts behind the report charts --------------------------------------------------------------------
    async def chart_facts(self, since: datetime) -> tuple[list[ports.ChartTicket], list[ports.ChartRating]]:
        t, r = models.Ticket, CsatRating
        async with self.store.reads() as session:
            rows = (
                await session.execute(
                    select(t.plan, t.created_at, t.first_response_due, t.first_response_at, t.solved_at, t.tags)
                    .where(t.created_at >= since)
                    .order_by(t.created_at.desc())
                    .limit(CHART_TICKETS_MAX)
                )
            ).all()
            ratings = (await session.execute(select(r.plan, r.score, r.created_at).where(r.created_at >= since))).all()
        tickets = [
            ports.ChartTicket(p, as_utc(c), _utc(d), _utc(f), _utc(s), tuple(tags or ()))
            for p, c, d, f, s, tags in rows
        ]
        return tickets, [ports.ChartRating(p, s, as_utc(c)) for p, s, c in ratings]


_VIEW_FIELDS = ("id", "name", "created_by", "created_at", "updated_at")
_MACRO_FIELDS = (
    "id",
    "title",
    "body",
    "status",
    "add_tags",
    "remove_tags",
    "assignee",
    "created_by",
    "created_at",
    "updated_at",
)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _view(row: SavedView) -> ports.SavedView:
    filters = msgspec.convert(row.filters or {}, ports.ViewFilters)
    return ports.SavedView(row.id, row.name, filters, row.created_by, as_utc(row.created_at), as_utc(row.updated_at))


def _macro(row: Macro) -> ports.Macro:
    return ports.Macro(
        row.id,
        row.title,
        row.body,
        row.status,
        list(row.add_tags or ()),
        list(row.remove_tags or ()),
        row.assignee,
        row.created_by,
        as_utc(row.created_at),
        as_utc(row.updated_at),
    )


__all__ = ["DeskRepository"]
