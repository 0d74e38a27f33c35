"""Every migration comes and goes: a revision's tables and columns appear on upgrade and leave on downgrade, and at
head the schema is what the models say (`alembic check` finds nothing to do) — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import UniqueConstraint

from persistence.metadata import include_name, metadata
from persistence.migrate import alembic_config
from persistence.models import Base
from tests.services import postgres_database, sqlite_url

# revision: (the tables it creates, {table: columns it adds to an existing table})
ADDS: dict[str, tuple[set[str], dict[str, set[str]]]] = {
    "0001": ({"tickets", "messages", "read_cursors"}, {}),
    "0002": ({"ticket_incidents"}, {}),
    "0003": (
        {"agent_states", "assignment_cursors", "canned_replies", "csat_ratings"},
        {"tickets": {"reviewed_at", "reviewed_by"}},
    ),
    "0004": ({"help_articles", "article_events", "attachments", "callbacks"}, {}),
    "0005": ({"outbox_events", "webhook_endpoints", "webhook_deliveries", "audit_log"}, {}),
    "0006": (set(), {}),  # keys only: see test_idempotency_keys_widen_per_author_and_keep_every_row
    "0007": ({"contacts", "reply_mail"}, {}),  # and ix_tickets_updated_at
    "0008": (set(), {}),  # search indexes only: see test_search_indexes_fold_diacritics_and_stem_and_come_down_again
    "0009": (set(), {"agent_states": {"capacity"}}),
    "0010": (set(), {"tickets": {"follow_up_of"}}),
    "0011": ({"ticket_tags", "saved_views", "macros"}, {"tickets": {"tags"}}),
    "0012": (set(), {}),  # the desk search indexes over helpline_simple: see tests/workflow/test_desk_http.py
}
REVISIONS = sorted(ADDS)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        yield from postgres_database()


def schema(url: str) -> dict[str, set[str]]:
    """Every table and its columns."""

    async def read() -> dict[str, set[str]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:

                def look(sync_conn) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
                    found = inspect(sync_conn)
                    return {t: {c["name"] for c in found.get_columns(t)} for t in found.get_table_names()}

                return await conn.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def unique_keys(url: str) -> dict[str, set[tuple[str, ...]]]:
    """Every table's unique constraints, as their column tuples."""

    async def read() -> dict[str, set[tuple[str, ...]]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:

                def look(sync_conn) -> dict[str, set[tuple[str, ...]]]:  # type: ignore[no-untyped-def]
                    found = inspect(sync_conn)
                    return {
                        t: {tuple(u["column_names"]) for u in found.get_unique_constraints(t)}
                        for t in found.get_table_names()
                    }

                return await conn.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def differences(url: str) -> list[object]:
    """What autogenerate would write, with the hooks persistence/migrations/env.py uses: empty when they agree."""

    async def read() -> list[object]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:

                def compare(sync_conn) -> list[object]:  # type: ignore[no-untyped-def]
                    context = MigrationContext.configure(sync_conn, opts={"include_name": include_name})
                    return list(compare_metadata(context, metadata))

                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def run_sql(url: str, statement: str, rows: list[dict[str, object]] | None = None) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement), rows) if rows else await conn.execute(text(statement))
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def present(found: dict[str, set[str]], revision: str) -> bool:
    tables, columns = ADDS[revision]
    return tables <= set(found) and all(cols <= found.get(t, set()) for t, cols in columns.items())


def absent(found: dict[str, set[str]], revision: str) -> bool:
    tables, columns = ADDS[revision]
    return not tables & set(found) and all(not cols & found.get(t, set()) for t, cols in columns.items())


@pytest.mark.parametrize("revision", REVISIONS)
def test_each_revision_comes_and_goes(empty_database: str, revision: str) -> None:
    config = alembic_config(empty_database)
    previous = REVISIONS[REVISIONS.index(revision) - 1] if revision != REVISIONS[0] else "base"
    command.upgrade(config, revision)
    assert present(schema(empty_database), revision)
    command.downgrade(config, previous)
    assert absent(schema(empty_database), revision)
    command.upgrade(config, revision)
    assert present(schema(empty_database), revision)


def test_head_holds_every_model_column_and_goes_back_to_nothing(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    found = schema(empty_database)
    keys = unique_keys(empty_database)
    for table in Base.metadata.sorted_tables:
        assert {c.name for c in table.columns} <= found.get(table.name, set()), table.name
        modelled = {tuple(c.name for c in u.columns) for u in table.constraints if isinstance(u, UniqueConstraint)}
        assert modelled == keys.get(table.name, set()), table.name
    command.downgrade(config, "base")
    assert set(schema(empty_database)) <= {"alembic_version"}


def test_every_revision_is_exercised_up_and_down() -> None:
    """A new revision must say what it adds here, so the up/down/up test runs it on both engines."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    assert {s.revision for s in scripts.walk_revisions()} == set(ADDS)


def test_migrated_schema_is_what_the_models_say(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    assert differences(empty_database) == []
    command.check(config)  # `alembic check` itself, through the environment operators run


MESSAGE = (
    "INSERT INTO messages (ticket_id, seq, client_id, author_id, author_name, author_role, body, internal,"
    " created_at) VALUES (:ticket, :seq, :client_id, :author, 'N', :role, :body, :internal, :at)"
)


def message(seq: int, author: str, role: str, body: str, internal: bool = False) -> dict[str, object]:
    return {
        "ticket": "t1",
        "seq": seq,
        "client_id": "same",
        "author": author,
        "role": role,
        "body": body,
        "internal": internal,
        "at": datetime(2025, 1, 1, tzinfo=timezone.utc),
    }


def test_idempotency_keys_widen_per_author_and_keep_every_row(empty_database: str) -> None:
    """0006: a client_id is unique per (ticket, author), no longer per ticket; rows survive up, down and up."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0005")
    assert ("ticket_id", "client_id") in unique_keys(empty_database)["messages"]
    run_sql(empty_database, MESSAGE, [message(1, "cara", "customer", "is it down?")])
    command.upgrade(config, "0006")
    keys = unique_keys(empty_database)
    assert ("ticket_id", "author_id", "client_id") in keys["messages"]
    assert ("ticket_id", "client_id") not in keys["messages"]
    assert ("ticket_id", "uploader_id", "client_id") in keys["attachments"]
    run_sql(empty_database, MESSAGE, [message(2, "alex", "agent", "known outage", internal=True)])
    with pytest.raises(IntegrityError):  # the same author's client_id again is still refused
        run_sql(empty_database, MESSAGE, [message(3, "cara", "customer", "again")])
    command.downgrade(config, "0005")
    rows = run_sql(empty_database, "SELECT seq, author_id, client_id, body FROM messages ORDER BY seq")
    assert rows == [(1, "cara", "same", "is it down?"), (2, "alex", "before-0006:2", "known outage")]
    command.upgrade(config, "head")
    assert len(run_sql(empty_database, "SELECT seq FROM messages")) == 2


def fts_definition(url: str) -> str:
    return str(run_sql(url, "SELECT sql FROM sqlite_master WHERE name = 'help_articles_fts'")[0][0])


def test_search_indexes_fold_diacritics_and_stem_and_come_down_again(empty_database: str) -> None:
    """0008: FTS5 with remove_diacritics on SQLite; on PostgreSQL unaccent and two configurations through it."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0008")
    if empty_database.startswith("sqlite"):
        assert "remove_diacritics 2" in fts_definition(empty_database)
        command.downgrade(config, "0007")
        assert "remove_diacritics" not in fts_definition(empty_database)
        command.upgrade(config, "0008")
        assert "remove_diacritics 2" in fts_definition(empty_database)
        return
    assert run_sql(empty_database, "SELECT extname FROM pg_extension WHERE extname = 'unaccent'") == [("unaccent",)]
    folded = run_sql(empty_database, "SELECT to_tsvector('helpline_simple', 'Quên mật khẩu đăng nhập')::text")
    assert folded == [("'dang':4 'khau':3 'mat':2 'nhap':5 'quen':1",)]
    stemmed = run_sql(empty_database, "SELECT to_tsvector('helpline_en', 'Refunds été alerts')::text")
    assert stemmed == [("'alert':3 'ete':2 'refund':1",)]
    run_sql(
        empty_database,
        "INSERT INTO help_articles (slug, title, category, tags, body, digest, updated_at) "
        "VALUES ('x', 'Hoàn tiền', 'billing', 'refunds', 'Đổi mật khẩu', 'd', now())",
    )
    found = run_sql(
        empty_database,
        "SELECT slug FROM help_articles WHERE search @@ to_tsquery('helpline_simple', "
        "'hoan & tien & doi') AND search @@ to_tsquery('helpline_en', 'refund')",
    )
    assert found == [("x",)]
    command.downgrade(config, "0007")
    assert run_sql(empty_database, "SELECT cfgname FROM pg_ts_config WHERE cfgname LIKE 'helpline_%'") == []
    assert run_sql(empty_database, "SELECT count(*) FROM help_articles") == [(0,)]  # rows follow the folder again
    command.upgrade(config, "0008")


def test_tickets_written_before_0011_are_found_by_search_after_it(empty_database: str) -> None:
    """0011's full-text indexes cover the rows already there (FTS5 rebuilt, GIN built), and its triggers the new."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0010")
    at = datetime(2024, 5, 1, tzinfo=timezone.utc)
    run_sql(
        empty_database,
        "INSERT INTO tickets (id, customer_id, customer_name, subject, category, status, plan, priority, created_at,"
        " updated_at, last_seq) VALUES ('t-old', 'cara', 'Cara', 'Frozen watchlist', 'bug', 'open', 'pro', 3, :at,"
        " :at, 1)",
        [{"at": at}],
    )
    run_sql(
        empty_database,
        "INSERT INTO messages (ticket_id, seq, client_id, author_id, author_name, author_role, body, internal,"
        " created_at) VALUES ('t-old', 1, 'c1', 'cara', 'Cara', 'customer', 'prices stopped refreshing', false, :at)",
        [{"at": at}],
    )
    command.upgrade(config, "head")

    async def found(words: str) -> list[str]:
        from persistence.desk_store import DeskRepository
        from persistence.store import TicketStore
        from support.workflow.desk_ports import TicketQuery

        store = TicketStore(empty_database)
        try:
            hits = await DeskRepository(store).search(
                TicketQuery(terms=words.split(), prefix=False, include_internal=True, customer_id=None, statuses=None)
            )
            return [h.ticket.id for h in hits]
        finally:
            await store.close()

    assert asyncio.run(found("refreshing")) == ["t-old"]
    assert asyncio.run(found("watchlist")) == ["t-old"]
    assert asyncio.run(found("nothing")) == []
