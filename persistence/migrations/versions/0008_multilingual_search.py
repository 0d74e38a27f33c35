"""issue-19 search that finds the answer: Vietnamese with or without diacritics, English stemmed, on both engines.

SQLite: the FTS5 table again, now `porter unicode61 remove_diacritics 2`. PostgreSQL: the `unaccent` extension and
two text search configurations through it, `helpline_en` (english stemming) and `helpline_simple` (whole words),
and the stored `search` column over both. Where `unaccent` is not installed on the server the configurations fold
Vietnamese letters with translate() instead (the same result for Vietnamese; a warning says so).

Rows of help_articles are emptied both ways: they follow the articles folder and are rebuilt by the next sync.

Revision ID: 0008
Revises: 0007
"""
import logging
import unicodedata

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
OLD_PG_SEARCH = ("setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
                 "setweight(to_tsvector('english', coalesce(tags, '')), 'B') || "
                 "setweight(to_tsvector('english', coalesce(body, '')), 'C')")
CONFIGS = {"helpline_en": ("english", "english_stem"), "helpline_simple": ("simple", "simple")}


def _vietnamese_letters() -> tuple[str, str]:
    """Every Vietnamese letter with a mark and its base letter, for translate() when unaccent is missing."""
    marked = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    marked += marked.upper()
    base = "".join("d" if c in "đĐ" else unicodedata.normalize("NFD", c)[0] for c in marked)
    return marked, base


def _pg_search(fold: str) -> str:
    parts = []
    for column, weight in (("title", "A"), ("tags", "B"), ("body", "C")):
        value = fold.format(f"coalesce({column}, '')")
        parts += [f"setweight(to_tsvector('{config}', {value}), '{weight}')" for config in CONFIGS]
    return " || ".join(parts)


def upgrade() -> None:
    bind = op.get_bind()
    op.execute("DELETE FROM help_articles")
    if bind.dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS help_articles_fts")
        op.execute("CREATE VIRTUAL TABLE help_articles_fts USING fts5("
                   "slug UNINDEXED, title, tags, body, tokenize = 'porter unicode61 remove_diacritics 2')")
        return
    available = bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'").first()
    if available:
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        fold = "{}"
    else:
        log.warning("the unaccent extension is not installed on this PostgreSQL server: folding Vietnamese "
                    "letters with translate() instead (install postgresql-contrib for unaccent)")
        marked, base = _vietnamese_letters()
        fold = f"translate({{}}, '{marked}', '{base}')"
    for name, (parent, dictionary) in CONFIGS.items():
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {parent})")
        chain = f"unaccent, {dictionary}" if available else dictionary
        op.execute(f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR hword, hword_part, word WITH {chain}")
    op.execute("DROP INDEX IF EXISTS ix_help_articles_search")
    op.execute("ALTER TABLE help_articles DROP COLUMN search")
    op.execute(f"ALTER TABLE help_articles ADD COLUMN search tsvector GENERATED ALWAYS AS ({_pg_search(fold)}) STORED")
    op.execute("CREATE INDEX ix_help_articles_search ON help_articles USING gin (search)")


def downgrade() -> None:
    op.execute("DELETE FROM help_articles")
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS help_articles_fts")
        op.execute("CREATE VIRTUAL TABLE help_articles_fts USING fts5("
                   "slug UNINDEXED, title, tags, body, tokenize = 'porter unicode61')")
        return
    op.execute("DROP INDEX IF EXISTS ix_help_articles_search")
    op.execute("ALTER TABLE help_articles DROP COLUMN search")
    for name in CONFIGS:
        op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}")
    # The unaccent extension stays: other objects of the database may use it, and it changes nothing by itself.
    op.execute(f"ALTER TABLE help_articles ADD COLUMN search tsvector GENERATED ALWAYS AS ({OLD_PG_SEARCH}) STORED")
    op.execute("CREATE INDEX ix_help_articles_search ON help_articles USING gin (search)")
