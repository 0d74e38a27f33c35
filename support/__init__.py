"""Helpline's domain: what it knows about tickets, people and help. No sockets, no SQL (docs/architecture.md)."""
