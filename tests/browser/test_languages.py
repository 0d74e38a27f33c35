"""Every surface in Vietnamese, in real Chromium, chosen the three ways a viewer's language arrives: the token's
`locale` claim, `?lang=vi`, and a Vietnamese browser (its languages and Accept-Language); English otherwise.

The app here runs with a known secret (not demo mode) so the tests can sign tokens with a `locale` claim.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.core.tokens import issue_token
from tests.browser.conftest import APP_ENV
from tests.browser.pages import expect, hl
from tests.services import SECRET, Gateway, free_port

pytestmark = pytest.mark.browser

HOST_PAGE = "<!doctype html><html><head><title>Host</title></head><body><h1>A host page</h1></body></html>"
# One way per test: how the viewer's language reaches the page (URL suffix, token claim, browser locale).
WAYS = {
    "token claim": {"query": "", "claim": "vi", "locale": "en-US"},
    "?lang=vi": {"query": "?lang=vi", "claim": None, "locale": "en-US"},
    "browser locale": {"query": "", "claim": None, "locale": "vi-VN"},
}


class LanguageApp:
    def __init__(self, node: Gateway, status_url: str) -> None:
        self.node, self.url, self.status_url = node, node.url, status_url

    def token(self, sub: str, role: str = "customer", plan: str = "pro", locale: str | None = None) -> str:
        return issue_token(SECRET, sub, sub.title(), plan, role, locale=locale)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanguageApp]:
    tmp = tmp_path_factory.mktemp("languages-app")
    status_port = free_port()
    node = Gateway(
        f"sqlite+aiosqlite:///{tmp / 'helpline.db'}",
        STATUS_PORT=str(status_port),
        HELPLINE_STATUS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'status.db'}",
        **APP_ENV,
    )
    node.start("up")
    status_url = f"http://127.0.0.1:{status_port}"
    try:
        wait_for(status_url + "/healthz")
        yield LanguageApp(node, status_url)
    finally:
        node.stop()


def wait_for(url: str) -> None:
    for _ in range(150):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(locale: str = "en-US", **options: Any) -> Any:
        context = browser.new_context(locale=locale, **options)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()


def way_token(app: LanguageApp, way: dict[str, Any], sub: str, role: str = "customer") -> str:
    return app.token(sub, role=role, locale=way["claim"])


@pytest.mark.parametrize("way", WAYS, ids=list(WAYS))
def test_the_widget_speaks_vietnamese(app: LanguageApp, new_page: Any, way: str) -> None:
    how = WAYS[way]
    page = new_page(how["locale"])
    # A host page without <html lang>, so only the way under test can choose the language; the widget embedded
    # the documented way, <script src=".../widget.js" data-token="T">.
    page.route(app.url + "/host*", lambda route: route.fulfill(body=HOST_PAGE, content_type="text/html"))
    page.goto(app.url + "/host" + how["query"])
    page.evaluate(
        """([src, token]) => {
          const script = document.createElement("script");
          script.src = src;
          script.dataset.token = token;
          document.body.append(script);
        }""",
        [app.url + "/widget.js", way_token(app, how, "widget-" + way.split()[0])],
    )
    launcher = page.locator(hl("launcher"))
    expect(launcher).to_contain_text("Hỗ trợ")
    expect(launcher).to_have_attribute("aria-label", "Mở trò chuyện hỗ trợ")
    expect(page.locator("helpline-widget")).to_have_attribute("lang", "vi")
    launcher.click()
    expect(page.locator(hl("new-ticket"))).to_have_text("Yêu cầu mới")
    # Only Vietnamese words came down: the English module was never fetched.
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert any("/locales/vi/widget.js" in u for u in loaded) and not any("/locales/en/" in u for u in loaded)
    assert page.errors == []


def test_the_widget_stays_english_for_an_english_viewer(app: LanguageApp, new_page: Any) -> None:
    page = new_page("en-US")
    page.route(app.url + "/host*", lambda route: route.fulfill(body=HOST_PAGE, content_type="text/html"))
    page.goto(app.url + "/host")
    page.add_script_tag(url=app.url + "/widget.js")
    page.wait_for_function("window.Helpline && window.Helpline.version")
    page.evaluate("t => Helpline.boot({token: t})", app.token("widget-en"))
    expect(page.locator(hl("launcher"))).to_contain_text("Help")
    expect(page.locator("helpline-widget")).to_have_attribute("lang", "en")


@pytest.mark.parametrize("way", WAYS, ids=list(WAYS))
def test_the_support_tab_speaks_vietnamese(app: LanguageApp, new_page: Any, way: str) -> None:
    how = WAYS[way]
    page = new_page(how["locale"])
    token = way_token(app, how, "support-" + way.split()[0])
    page.goto(f"{app.url}/support{how['query']}#token={token}")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#title")).to_have_text("Hỗ trợ")
    expect(page.locator("#list-title")).to_have_text("Yêu cầu của bạn")
    expect(page.locator(hl("sign-out"))).to_have_text("Đăng xuất")
    expect(page.locator("nav a").first).to_have_text("Nền tảng")
    expect(page.locator(hl("ticket-list"))).to_contain_text("Chưa có yêu cầu nào.")
    expect(page.locator("#empty-hint")).to_have_text("Chọn một yêu cầu để xem cuộc trò chuyện.")  # not the desk's queue
    expect(page.locator("#your-data")).to_have_attribute("aria-label", "Dữ liệu của bạn")  # what a screen reader says
    assert page.title() == "Hỗ trợ · Helpline"
    assert page.errors == []


@pytest.mark.parametrize("way", WAYS, ids=list(WAYS))
def test_the_agent_desk_and_reports_speak_vietnamese(app: LanguageApp, new_page: Any, way: str) -> None:
    how = WAYS[way]
    page = new_page(how["locale"])
    token = way_token(app, how, "agent-" + way.split()[0], role="agent")
    page.goto(f"{app.url}/dashboard{how['query']}#token={token}")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#queue-title")).to_have_text("Hàng đợi")
    expect(page.locator(f'{hl("filter-status")} option[value=""]')).to_have_text("Mọi trạng thái")
    expect(page.locator(f'{hl("filter-plan")} option[value="free"]')).to_have_text("Miễn phí")
    expect(page.locator(hl("reports-link"))).to_have_text("Báo cáo")
    expect(page.locator(hl("search"))).to_have_attribute("placeholder", "Tìm trong phiếu và hội thoại")  # issue 20
    expect(page.locator(f'{hl("filter-tag")} option[value=""]')).to_have_text("Mọi nhãn")
    page.goto(f"{app.url}/reports{how['query']}#token={token}")
    expect(page.locator("#table-title")).to_have_text("Theo gói")
    expect(page.locator(hl("export-csv"))).to_have_text("Xuất tệp CSV")
    expect(page.locator("#trend-tags")).to_have_text("Số phiếu theo nhãn")
    expect(page.locator(f'{hl("report-days")} option[value="30"]')).to_have_text("30 ngày qua")
    expect(page.locator(f"{hl('report-table')} tbody tr").first).to_be_visible()
    assert page.errors == []


def test_an_error_shown_to_a_person_is_the_catalogue_s_words_for_its_code(app: LanguageApp, new_page: Any) -> None:
    page = new_page("vi-VN")
    customer = app.token("not-an-agent")  # the reports API refuses a customer: 403 forbidden
    page.goto(f"{app.url}/reports#token={customer}")
    expect(page.locator(hl("report-range"))).to_have_text("Bạn không có quyền thực hiện thao tác này.")


@pytest.mark.parametrize("way", WAYS, ids=list(WAYS))
def test_the_help_centre_chrome_speaks_vietnamese(app: LanguageApp, new_page: Any, way: str) -> None:
    how = WAYS[way]
    # A help page is a navigation: a token reaches it only as the platform's Authorization header.
    headers = {"Authorization": "Bearer " + app.token("reader", locale="vi")} if how["claim"] else {}
    page = new_page(how["locale"], extra_http_headers=headers)
    page.goto(f"{app.url}/help{how['query']}")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("h1")).to_have_text("Chúng tôi có thể giúp gì cho bạn?")
    expect(page.locator("header a")).to_have_text("Trung tâm trợ giúp")
    expect(page.locator("h2", has_text="Thanh toán")).to_be_visible()
    page.locator("main a[href*='/help/']").first.click()
    expect(page.locator(hl("article"))).to_be_visible()
    expect(page.locator(".meta").last).to_have_text(
        "Vẫn chưa giải quyết được? Mở khung hỗ trợ và cho chúng tôi biết bạn đang thấy gì."
    )
    expect(page.locator("html")).to_have_attribute("lang", "vi")  # ?lang= is kept by the links


@pytest.mark.parametrize("way", ["?lang=vi", "browser locale"])
def test_the_status_page_speaks_vietnamese_in_the_viewer_s_time_zone(app: LanguageApp, new_page: Any, way: str) -> None:
    how = WAYS[way]  # a public page: no token, so no claim
    page = new_page(how["locale"], timezone_id="Asia/Ho_Chi_Minh")
    page.goto(app.status_url + "/" + how["query"])
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#components h2")).to_have_text("Thành phần")
    expect(page.locator("#incidents")).to_contain_text("Không có sự cố nào đang diễn ra.")
    # status.js wrote the server's UTC time again with Intl, in Vietnamese and in the viewer's zone (UTC+7).
    updated = page.locator("footer time")
    expect(updated).to_contain_text("GMT+7")
    assert "UTC" not in updated.inner_text()


def test_plurals_follow_intl_plural_rules_in_the_browser(app: LanguageApp, new_page: Any) -> None:
    page = new_page("en-US")
    page.goto(app.url + "/healthz")
    texts = page.evaluate(
        """async () => {
          const i18n = await import("/widget/i18n.js");
          await i18n.load("en", ["widget"]);
          const en = [1, 3].map((count) => i18n.t("widget.expectedQueue", { duration: "5 min", count }));
          await i18n.load("vi", ["widget"]);
          const vi = [1, 3].map((count) => i18n.t("widget.expectedQueue", { duration: "5 phút", count }));
          return [...en, ...vi, i18n.strings().minutes(90), i18n.errorText("rate_limited"), i18n.errorText("no_such")];
        }"""
    )
    assert texts == [
        "Expected reply: about 5 min (1 request ahead of you)",
        "Expected reply: about 5 min (3 requests ahead of you)",
        "Thời gian phản hồi dự kiến: khoảng 5 phút (1 yêu cầu trước bạn)",
        "Thời gian phản hồi dự kiến: khoảng 5 phút (3 yêu cầu trước bạn)",
        "1,5 giờ",
        "Bạn thao tác quá nhiều lần. Vui lòng chờ một chút rồi thử lại.",
        "Đã có lỗi. Vui lòng thử lại.",
    ]


def test_the_demo_platform_hands_its_visitor_s_language_to_the_widget(app: LanguageApp, new_page: Any) -> None:
    page = new_page("vi-VN")  # the demo page itself is English (<html lang="en">)
    page.goto(f"{app.url}/?token={app.token('demo-visitor')}")
    expect(page.locator(hl("launcher"))).to_contain_text("Hỗ trợ")
    expect(page.locator("html")).to_have_attribute("lang", "en")
