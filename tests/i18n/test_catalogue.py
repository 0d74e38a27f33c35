"""The shared message catalogue (locales/en.json, locales/vi.json): both languages say the same things.

Same keys, same placeholders, the plural forms each language's CLDR rules need, surfaces from the known list, and a
real Vietnamese text (with diacritics) wherever the English one has words.
"""

from __future__ import annotations

import re

import pytest
from babel import Locale

from support.core.i18n import LANGUAGES, PLACEHOLDER, SURFACES, Message, catalogue

LEGACY_SURFACES = ("widget", "desk", "support")  # widget/i18n.js strings() strips these prefixes
VIETNAMESE_LETTERS = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)


def placeholders(message: Message) -> set[str]:
    texts = message.values() if isinstance(message, dict) else [message]
    return {name for text in texts for name in PLACEHOLDER.findall(text)}


def test_english_and_vietnamese_have_the_same_keys() -> None:
    english, vietnamese = catalogue("en"), catalogue("vi")
    assert sorted(set(english) - set(vietnamese)) == [], "missing in vi.json"
    assert sorted(set(vietnamese) - set(english)) == [], "missing in en.json"


@pytest.mark.parametrize("key", sorted(catalogue("en")))
def test_a_message_has_the_same_placeholders_in_both_languages(key: str) -> None:
    assert placeholders(catalogue("vi")[key]) == placeholders(catalogue("en")[key])


@pytest.mark.parametrize("language", LANGUAGES)
def test_plurals_have_every_form_their_language_needs(language: str) -> None:
    # Vietnamese has one form for every count: "other" alone (newer CLDR, as in Babel 2.19, gives it a "one" that
    # older ICU in browsers lacks; both fall back to "other"). English needs "one" and "other".
    allowed = set(Locale.parse(language).plural_form.tags) | {"other"}
    needed = {"one", "other"} if language == "en" else {"other"}
    for key, message in catalogue(language).items():
        if isinstance(message, dict):
            assert needed <= set(message) <= allowed, f"{language} {key}: forms {sorted(message)}"
            assert "count" in placeholders(message) or key.endswith(("minutes", "hours")), key


def test_plural_in_one_language_is_plural_in_the_other() -> None:
    for key, message in catalogue("en").items():
        assert isinstance(catalogue("vi")[key], dict) == isinstance(message, dict), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_keys_are_grouped_by_a_known_surface(language: str) -> None:
    for key in catalogue(language):
        assert key.split(".")[0] in SURFACES and key.count(".") >= 1, key


def test_the_browser_view_has_no_two_keys_with_the_same_short_name() -> None:
    seen: dict[str, str] = {}
    for key in catalogue("en"):
        surface, _, rest = key.partition(".")
        if surface in LEGACY_SURFACES:
            assert rest not in seen, f"{key} and {seen.get(rest)} are both t.{rest} in strings()"
            seen[rest] = key
    # Nor is a short name both a message and a group (t.status = "…" and t.status.open).
    groups = {rest.rsplit(".", 1)[0] for rest in seen if "." in rest}
    assert not groups & set(seen), groups & set(seen)


def test_vietnamese_is_a_translation_not_a_copy() -> None:
    english, vietnamese = catalogue("en"), catalogue("vi")
    words = [
        k
        for k, v in english.items()
        if re.search(r"[a-z]{3,}", PLACEHOLDER.sub("", str(v))) and k not in NAMES_NOT_WORDS
    ]
    copied = [k for k in words if vietnamese[k] == english[k]]
    assert copied == [], copied
    accented = sum(bool(VIETNAMESE_LETTERS.search(str(vietnamese[k]))) for k in words)
    assert accented >= 0.9 * len(words), f"only {accented} of {len(words)} Vietnamese messages have diacritics"


# Proper names and brand words that read the same in both languages.
NAMES_NOT_WORDS = {
    "widget.system",
    "desk.plans.premium",
    "desk.plans.pro",
    "desk.plans.pro_plus",
    "demo.plans.premium",
    "desk.csat",
    "status.api",
}
