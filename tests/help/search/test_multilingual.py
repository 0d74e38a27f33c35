"""Articles in English and Vietnamese on a real gateway (SQLite FTS5 and PostgreSQL): the issue's queries find the
answer in the reader's language, with or without diacritics; the language comes from the token's locale, then
?lang=, then Accept-Language; each article links to its translation; the help pages speak the reader's language."""

from __future__ import annotations

import uuid

import httpx
import jwt
import pytest

from support.core.tokens import issue_token
from tests.help.conftest import SECRET, auth


def with_locale(token: str, locale: str) -> str:
    """A development token with a `locale` claim added (issue_token has no such parameter)."""
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False})
    return jwt.encode({**claims, "locale": locale}, SECRET, algorithm="HS256")


async def top(http: httpx.AsyncClient, query: str, lang: str | None = None, **headers: str) -> list[dict[str, str]]:
    params = {"q": query, "limit": "3", **({"lang": lang} if lang else {})}
    response = await http.get("/api/articles", params=params, headers=headers)
    assert response.status_code == 200, response.text
    hits: list[dict[str, str]] = response.json()["articles"]
    return hits


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("quên mật khẩu", "sign-in-problems-and-password-reset-vi"),
        ("quen mat khau", "sign-in-problems-and-password-reset-vi"),
        ("hoàn tiền", "refunds-and-invoices-vi"),
        ("hoan tien", "refunds-and-invoices-vi"),
        ("xóa tài khoản", "delete-account-and-export-data-vi"),
        ("XOA TAI KHOAN", "delete-account-and-export-data-vi"),
        ("đăng nhập", "sign-in-problems-and-password-reset-vi"),
    ],
)
async def test_vietnamese_queries_find_the_vietnamese_article_with_or_without_diacritics(
    http: httpx.AsyncClient, query: str, slug: str
) -> None:
    hits = await top(http, query, "vi")
    assert hits and hits[0]["slug"] == slug, [h["slug"] for h in hits]
    assert all(h["lang"] == "vi" for h in hits)


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("My alerts are late", "alerts-not-firing"),
        ("I want my money back", "refunds-and-invoices"),
        ("remove all my data", "delete-account-and-export-data"),
        ("refnd", "refunds-and-invoices"),  # a typo
        ("How do I reset my passw", "sign-in-problems-and-password-reset"),  # still typing
    ],
)
async def test_the_issues_suggestions_while_typing_come_first(http: httpx.AsyncClient, typed: str, slug: str) -> None:
    """What the widget's intake asks while the subject is typed (limit 3)."""
    hits = await top(http, typed, "en")
    assert hits and hits[0]["slug"] == slug, [h["slug"] for h in hits]


async def test_an_article_and_its_translation_are_one_answer(http: httpx.AsyncClient) -> None:
    english = await top(http, "refund hoàn tiền", "en")
    assert english[0]["slug"] == "refunds-and-invoices"
    assert "refunds-and-invoices-vi" not in [h["slug"] for h in english]  # the group once, in the reader's language
    vietnamese = await top(http, "refund invoice", "vi")
    assert vietnamese[0]["slug"] == "refunds-and-invoices-vi"  # English words, Vietnamese reader: the translation


async def test_the_language_comes_from_the_token_then_lang_then_accept_language(http: httpx.AsyncClient) -> None:
    vi_token = auth(with_locale(issue_token(SECRET, f"lan-{uuid.uuid4().hex[:6]}", "Lan"), "vi"))
    assert (await top(http, "password", None, **{"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}))[0]["lang"] == "vi"
    assert (await top(http, "password", "en", **{"Accept-Language": "vi-VN"}))[0]["lang"] == "en"
    assert (await top(http, "password", "en", **vi_token))[0]["lang"] == "vi"
    assert (await top(http, "password", None, **{"Accept-Language": "fr-FR,en;q=0.8"}))[0]["lang"] == "en"
    assert (await top(http, "password"))[0]["lang"] == "en"


async def test_each_article_names_its_translation_and_its_page_links_to_it(http: httpx.AsyncClient) -> None:
    article = (await http.get("/api/articles/refunds-and-invoices")).json()
    assert article["lang"] == "en"
    assert article["translations"] == [
        {
            "lang": "vi",
            "slug": "refunds-and-invoices-vi",
            "title": "Hoàn tiền, hóa đơn và VAT",
            "url": "/help/refunds-and-invoices-vi",
        }
    ]
    page = await http.get("/help/refunds-and-invoices-vi", params={"lang": "vi"})
    assert page.status_code == 200 and '<html lang="vi">' in page.text
    assert 'lang="vi"><h1>Hoàn tiền, hóa đơn và VAT</h1>' in page.text
    assert 'href="/help/refunds-and-invoices?lang=en" hreflang="en"' in page.text and "Read in English" in page.text
    original = await http.get("/help/refunds-and-invoices")
    assert 'href="/help/refunds-and-invoices-vi?lang=vi" hreflang="vi"' in original.text
    assert "Đọc bằng tiếng Việt" in original.text


async def test_the_help_center_speaks_the_readers_language(http: httpx.AsyncClient) -> None:
    index = await http.get("/help", params={"lang": "vi"})
    assert '<html lang="vi">' in index.text and "Chúng tôi có thể giúp gì cho bạn?" in index.text
    assert "Xác thực hai yếu tố (2FA) và mã dự phòng" in index.text
    assert "Two-factor authentication (2FA) and backup codes" not in index.text  # one version of each article
    assert "<h2>Tài khoản</h2>" in index.text
    results = await http.get("/help", params={"q": "quen mat khau"}, headers={"Accept-Language": "vi"})
    assert "Kết quả cho “quen mat khau”" in results.text
    assert 'href="/help/sign-in-problems-and-password-reset-vi"' in results.text
    listing = (await http.get("/api/articles", params={"lang": "vi", "limit": 50})).json()["articles"]
    assert len(listing) == 22 and all(a["lang"] == "vi" for a in listing)
