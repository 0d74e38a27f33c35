"""Tickets: open, post, update, read history; the agents' queue updates; the ticket routes of the HTTP API."""
