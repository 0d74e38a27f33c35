"""The pure parts of help content: front matter, rendering, query words, snippets, file types, names, channels."""

from __future__ import annotations

import pytest

from support.help.article_files import DEFAULT_DIR, ArticleError, load_folder, plain_text, render, split_front_matter
from pathlib import Path

from support.core.settings import Settings
from support.help.articles import HelpCenter
from support.help.memory_index import MemoryArticleIndex
from support.help.search_text import Vocabulary, fold, search_terms, snippet, stem
from support.help.attachments import UnsupportedType, clean_filename, sniff
from support.help.channels import channels_for, valid_phone
from support.core.errors import TicketError


def test_front_matter_gives_title_category_and_tags() -> None:
    meta, body = split_front_matter(
        '---\ntitle: "RSI: how it works"\ncategory: indicators\ntags: [rsi, momentum]\n---\nBody *text*\n'
    )
    assert meta == {"title": "RSI: how it works", "category": "indicators", "tags": "[rsi, momentum]"}
    assert body.strip() == "Body *text*"
    with pytest.raises(ArticleError):
        split_front_matter("---\ntitle: never closed\n")


def test_the_shipped_articles_all_load_with_titles_and_categories() -> None:
    articles = load_folder(DEFAULT_DIR)
    assert len(articles) >= 20
    assert all(a.title and a.category and a.tags and a.text for a in articles.values())


def test_raw_html_in_markdown_is_text_and_scripts_links_are_refused() -> None:
    html = render("<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) [ok](/help/plans-compared)")
    assert "<img" not in html and "&lt;img" in html
    assert 'href="javascript:' not in html and '<a href="/help/plans-compared">ok</a>' in html
    assert plain_text("Line one\nline **two**") == "Line one line two"


def test_query_words_are_letters_and_digits_only() -> None:
    assert search_terms('"NEAR(alert* OR the 2FA') == (["near", "alert", "2fa"], True)
    assert search_terms("refund ") == (["refund"], False)
    assert search_terms("the of") == ([], False)


def test_snippet_marks_the_matched_words_and_escapes_the_rest() -> None:
    plain, safe = snippet("a <b> alerts & more", frozenset({stem("alert")}))
    assert plain == "a <b> alerts & more"
    assert safe == "a &lt;b&gt; <mark>alerts</mark> &amp; more"


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n....", "a.png", "image/png"),
        (b"\xff\xd8\xff\xe0....", "a.jpg", "image/jpeg"),
        (b"GIF89a....", "a.gif", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a.webp", "image/webp"),
        (b"\x89PNG\r\n\x1a\n....", "named-wrong.txt", "image/png"),
        ("plain text ✓\n".encode(), "console.LOG", "text/plain"),
    ],
)
def test_types_are_proven_by_the_bytes(data: bytes, name: str, kind: str) -> None:
    assert sniff(data, name) == kind


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<svg/>", "a.svg"),
        (b"plain text", "a.png"),
        (b"%PDF-1.7", "a.pdf"),
        (b"\xff\xfe\x00bad", "a.log"),
        (b"latin-1 caf\xe9", "a.txt"),
    ],
)
def test_anything_else_is_refused_with_a_415(data: bytes, name: str) -> None:
    with pytest.raises(UnsupportedType) as refused:
        sniff(data, name)
    assert refused.value.code == "bad_request" and refused.value.http_status == 415


def test_file_names_lose_folders_and_control_characters() -> None:
    assert clean_filename("../../etc/passwd.log") == "passwd.log"
    assert clean_filename("C:\\Users\\me\\chart.png") == "chart.png"
    assert clean_filename('x"\r\n.png') == "x.png"
    assert clean_filename("..") == "attachment" and clean_filename(None) == "attachment"


def test_channels_by_plan() -> None:
    assert [c.kind for c in channels_for("pro_plus", "1", "h")] == ["chat"]
    assert [c.kind for c in channels_for("premium", "1", "h")] == ["chat", "phone", "callback"]
    assert valid_phone(" +1  (555) 010-0200 ") == "+1 (555) 010-0200"
    for bad in ("12345", "+1 555 abc 0100", "1" * 25):
        with pytest.raises(TicketError):
            valid_phone(bad)


def test_folding_takes_the_marks_off_vietnamese_and_d_with_stroke() -> None:
    assert fold("Quên MẬT KHẨU, đăng nhập Đà Nẵng") == "quen mat khau, dang nhap da nang"
    assert search_terms("Tôi muốn xóa tài khoản của tôi") == (["xoa", "tai", "khoan"], True)


def test_typos_are_corrected_from_the_articles_words_and_short_words_are_left_alone() -> None:
    vocabulary = Vocabulary.of(["Refund or refunds and invoices", "Reset the password", "the app"])
    assert "refund" in vocabulary.alternatives("refnd ")[0]
    assert "password" in vocabulary.alternatives("pasword ")[0]
    assert vocabulary.alternatives("apo ") == [["apo"]]  # under 4 letters: too many neighbours to guess
    assert vocabulary.alternatives("refunds ") == [["refunds"]]  # a word of the articles is not "corrected"
    assert vocabulary.alternatives("reset the passw") == [["reset"], ["passw", "password"]]


async def test_an_article_without_a_translation_still_answers_after_those_in_the_readers_language(
    tmp_path: Path,
) -> None:
    (tmp_path / "refunds.md").write_text("---\ntitle: Refunds\ntags: [refund]\n---\nMoney back within 14 days.\n")
    (tmp_path / "refunds-vi.md").write_text(
        "---\ntitle: Hoàn tiền\nlang: vi\ntranslation_of: refunds\ntags: [hoàn tiền]\n---\nHoàn tiền trong 14 ngày.\n"
    )
    (tmp_path / "refund-faq.md").write_text("---\ntitle: Refund FAQ\ntags: [refund]\n---\nRefund refund refund.\n")
    center = HelpCenter(Settings(articles_dir=str(tmp_path)), MemoryArticleIndex(), events=None)  # type: ignore[arg-type]
    await center.reload()
    hits = await center.search("refund", "vi", 5)
    assert [(h.slug, h.lang) for h in hits] == [("refunds-vi", "vi"), ("refund-faq", "en")]
    assert [(h.slug, h.lang) for h in await center.search("refund", "en", 5)][0][1] == "en"
    assert [a.slug for a in center.translations(center.get("refunds"))] == ["refunds-vi"]
