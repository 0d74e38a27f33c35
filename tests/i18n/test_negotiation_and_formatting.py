"""support.core.i18n: which language a viewer gets, and messages, plurals, numbers and dates in it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from support.core.i18n import accept_language, format_datetime, message, negotiate, plural_category, supported


def test_the_token_claim_wins_over_the_query_and_the_header() -> None:
    assert negotiate(claim="vi", query="en", accept="en-US,en;q=0.9") == "vi"
    assert negotiate(claim="en-GB", query="vi", accept="vi") == "en"


def test_the_query_wins_over_the_header_when_the_token_says_nothing() -> None:
    assert negotiate(claim=None, query="vi", accept="en-US") == "vi"
    assert negotiate(claim="", query="en", accept="vi-VN") == "en"


def test_a_language_we_do_not_have_falls_through_to_the_next_source() -> None:
    assert negotiate(claim="fr", query="de", accept="ja, vi;q=0.5") == "vi"
    assert negotiate(claim="fr", query=None, accept="de-DE") == "en"


def test_accept_language_is_read_by_quality_not_by_position() -> None:
    assert accept_language("en;q=0.3, vi-VN, fr;q=0.8") == ["vi-VN", "fr", "en"]
    assert negotiate(accept="en;q=0.3, vi-VN;q=0.9") == "vi"
    assert negotiate(accept="vi;q=0, en;q=0.1") == "en"  # q=0 is "not this one"
    assert accept_language("vi;q=abc, en") == ["en"]  # a broken weight is not a wish
    assert negotiate() == "en"


@pytest.mark.parametrize(
    "tag, language", [("vi", "vi"), ("vi-VN", "vi"), ("VI_vn", "vi"), ("en-AU", "en"), ("x", None)]
)
def test_tags_map_to_our_languages(tag: str, language: str | None) -> None:
    assert supported(tag) == language


def test_placeholders_are_filled_and_numbers_written_the_language_s_way() -> None:
    assert message("en", "widget.typing", {"name": "Lan"}) == "Lan is typing…"
    assert message("vi", "widget.typing", {"name": "Lan"}) == "Lan đang nhập…"
    assert message("vi", "widget.hours", {"count": 1.5}) == "1,5 giờ"
    assert message("en", "widget.hours", {"count": 1.5}) == "1.5 h"


def test_english_plurals_pick_one_or_other_and_vietnamese_has_one_form() -> None:
    assert plural_category("en", 1) == "one" and plural_category("en", 2) == "other"
    ahead = {"duration": "5 min"}
    assert message("en", "widget.expectedQueue", {**ahead, "count": 1}).endswith("(1 request ahead of you)")
    assert message("en", "widget.expectedQueue", {**ahead, "count": 3}).endswith("(3 requests ahead of you)")
    assert message("vi", "widget.expectedQueue", {"duration": "5 phút", "count": 1}).endswith("(1 yêu cầu trước bạn)")
    assert message("vi", "widget.expectedQueue", {"duration": "5 phút", "count": 7}).endswith("(7 yêu cầu trước bạn)")


def test_a_missing_key_is_an_error_not_a_silent_blank() -> None:
    with pytest.raises(KeyError):
        message("en", "widget.no-such-key")
    with pytest.raises(ValueError):
        message("fr", "widget.send")


def test_dates_are_in_the_viewer_s_language_and_time_zone() -> None:
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)
    # Hanoi is UTC+7: already the 2nd of March there, in Vietnamese words.
    assert format_datetime(moment, "vi", "Asia/Ho_Chi_Minh") == "06:30:00 2 thg 3, 2026"
    assert format_datetime(moment, "en", "America/New_York") == "Mar 1, 2026, 6:30:00\u202fPM"
    assert format_datetime(moment, "en", "No/Such_Zone", width="short") == "3/1/26, 11:30\u202fPM"  # unknown: UTC
    assert format_datetime(datetime(2026, 3, 1, 23, 30), "en", None, width="short") == "3/1/26, 11:30\u202fPM"
