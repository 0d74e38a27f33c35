"""The components file: the packaged default and the errors a bad file gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from statuspage import config


def test_packaged_file_lists_the_platform_services_with_support_chat_probed() -> None:
    page = config.load(None)
    ids = [c.id for c in page.components]
    assert {"charts", "data-feeds", "alerts", "trading", "sign-in", "support-chat"} <= set(ids)
    assert [c.id for c in page.components if c.probe == "gateway"] == ["support-chat"]
    assert [c.position for c in page.components] == list(range(1, len(ids) + 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[page]\nname='x'\n", "at least one"),
        ("[[components]]\nid='Bad Id'\nname='x'\n", "id must match"),
        ("[[components]]\nid='a'\nname='A'\n[[components]]\nid='a'\nname='B'\n", "appears twice"),
        ("[[components]]\nid='a'\nname='A'\nprobe='ping'\n", "probe must be"),
        ("[[components]\n", "components.toml"),
    ],
)
def test_bad_components_file_is_refused_with_a_reason(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "components.toml"
    file.write_text(text)
    with pytest.raises(config.ConfigError, match=message):
        config.load(str(file))


def test_the_status_service_imports_nothing_of_the_gateway_but_the_token_check_environment_reader_i18n_and_buckets() -> (
    None
):
    import ast
    import subprocess
    import sys

    code = (
        "import sys, statuspage.app; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('realtime', 'persistence', 'support', 'helpline')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    shared = {
        "support",
        "support.core",
        "support.core.tokens",
        "support.core.jwt_decoder",  # part of the token check: its PyJWT decoder, importing nothing of ours
        "support.core.environment",
        "support.core.i18n",
        "support.core.token_buckets",
    }
    assert set(ast.literal_eval(out)) <= shared
