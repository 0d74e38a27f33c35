"""Help: self-help articles and search, help pages, attachments, support channels and callbacks."""
