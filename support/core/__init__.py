"""The domain's core: model, policy, errors, clock, settings, tokens and the ports; imports nothing of the project."""
