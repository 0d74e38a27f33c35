"""The Redis bus: the bus itself, its connections (wire, fan-out), its key layout, its Lua scripts, the stream lag."""
