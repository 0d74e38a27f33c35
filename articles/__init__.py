"""The shipped self-help articles (Markdown files) as package data; support/help/article_files.py reads them with
importlib.resources. No Python lives here."""
