"""Incident-aware intake: the status page's active incidents, matching drafts to them, ticket links."""
