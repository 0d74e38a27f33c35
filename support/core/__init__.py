"""The domain's core: model, policy, errors, clock, settings, tokens and the ports; it imports nothing of the project."""
