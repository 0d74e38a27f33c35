"""The status page's tables (SQLAlchemy declarative rows) and the small helpers every writer of them uses: ids,
the current UTC time, the audit row.

Shares no table, engine or module with the gateway's persistence; Alembic's migrations (statuspage/migrations)
are checked against `Base.metadata`.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite keeps no zone, so the zone is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class ComponentRow(Base):
    __tablename__ = "status_components"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComponentEventRow(Base):
    """Every change of a component's recorded status: the source of the uptime bars."""

    __tablename__ = "status_component_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    component_id: Mapped[str] = mapped_column(ForeignKey("status_components.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class IncidentRow(Base):
    __tablename__ = "status_incidents"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # "incident" | "maintenance"
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(32))
    impact: Mapped[str] = mapped_column(String(16))
    components: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    monitoring_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scheduled_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UpdateRow(Base):
    __tablename__ = "status_incident_updates"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("status_incidents.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the incident: the timeline's order
    status: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """One admin change: who, when, what (statuspage/audit.py reads them; written with the change it records)."""

    __tablename__ = "status_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class SubscriberRow(Base):
    """Someone who asked for status updates, by e-mail or webhook; unconfirmed until they follow the link."""

    __tablename__ = "status_subscribers"
    __table_args__ = (Index("ix_status_subscribers_kind_target", "kind", "target", unique=True),)
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "email" | "webhook"
    target: Mapped[str] = mapped_column(String(2048))  # the address or the URL
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")  # their e-mails' language


class DeliveryRow(Base):
    """One e-mail or webhook still to send (statuspage/delivery.py): kept until sent, given up, or its subscriber
    gone; `claimed_until` is a worker's lease, so a node that stops mid-send leaves it to be sent again."""

    __tablename__ = "status_deliveries"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # the event's id (X-Helpline-Delivery)
    subscriber_id: Mapped[str] = mapped_column(String(16), index=True)
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempt: Mapped[int] = mapped_column(Integer)  # the next try's number, from 1
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class Actor:
    """Who made a change, for the audit log."""

    id: str
    name: str


def audit_row(actor: Actor | None, action: str, target_id: str, detail: dict[str, Any], now: datetime) -> AuditRow:
    who = actor or Actor("system", "system")
    return AuditRow(at=now, actor_id=who.id, actor_name=who.name, action=action, target_id=target_id, detail=detail)
