"""The message catalogues, one JSON file per language (en.json, vi.json): data only, read by support.core.i18n."""
