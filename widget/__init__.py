"""The browser code as package data: embed/ (the widget), desk/ (agent dashboard, reports), pages/ (Support tab,
demo) and the modules they share. No Python lives here; helpline/browser_files.py reads it with importlib.resources."""
