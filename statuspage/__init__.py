"""The status page service: its own process and its own store, up when the gateway is down."""
