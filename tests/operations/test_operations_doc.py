"""docs/operations.md's settings table is the settings objects' own: every variable, its default, what it accepts.

On a mismatch the assertion shows the table to paste between the markers.
"""

from __future__ import annotations

from typing import Any

from statuspage import settings as status_settings
from support.core import settings as gateway_settings
from support.core.environment import masked
from tests.services import ROOT

BEGIN, END = "<!-- settings table: checked by tests/operations/test_operations_doc.py -->", "<!-- end of settings -->"


def settings_table() -> str:
    rows = ["| variable | default | accepts | meaning | read by |", "| --- | --- | --- | --- | --- |"]
    seen: dict[str, int] = {}
    for reader, variables, defaults in (
        ("gateway, worker, up", gateway_settings.VARIABLES, gateway_settings.Settings()),
        ("statuspage", status_settings.VARIABLES, status_settings.StatusSettings()),
    ):
        for var in variables:
            if var.name in seen:  # one variable, both settings objects (HELPLINE_SECRET, HOST, ...)
                row = rows[seen[var.name]]
                rows[seen[var.name]] = row[: row.rindex("|", 0, -1)] + f"| {row.split('|')[-2].strip()}, {reader} |"
                continue
            value: Any = getattr(defaults, var.field, None)
            if var.key is not None:
                value = value[var.key]
            if var.field == "gateway_port":
                value = status_settings.GATEWAY_PORT
            default = f"`{masked(var, value)}`" if masked(var, value) and not var.secret else "unset"
            seen[var.name] = len(rows)
            rows.append(f"| `{var.name}` | {default} | {var.accepts} | {var.meaning} | {reader} |")
    return "\n".join(rows)


def test_the_settings_table_lists_every_variable_as_the_settings_objects_declare_it() -> None:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"docs/operations.md needs the table between {BEGIN} and {END}"
    documented = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()
    expected = settings_table()
    assert documented == expected, "docs/operations.md settings table is out of date; it should read:\n" + expected


def test_every_field_of_the_gateway_settings_has_its_variable() -> None:
    import dataclasses

    fields = {f.name for f in dataclasses.fields(gateway_settings.Settings)}
    declared = {var.field for var in gateway_settings.VARIABLES}
    assert fields - declared == {"demo"}  # set by `helpline up` itself, not by the environment
