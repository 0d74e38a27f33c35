"""Helpline's gateway: the WebSocket and HTTP front of live ticket threads."""
