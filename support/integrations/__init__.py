"""Integrations: the admin API of webhook endpoints, the audit log, a user's data export and erasure."""
