"""The status page's OpenAPI document says what the handlers accept and answer (schemathesis runs every check on it
in tests/integrations/test_schemathesis.py; these pin the parts built from the app)."""

from __future__ import annotations

from typing import Any

from statuspage.openapi import OPERATIONS, document


def body_schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return doc["components"]["schemas"][name]["properties"]


def test_component_lists_name_only_the_ids_of_the_apps_components_file() -> None:
    doc = document({"support-chat", "api"})
    assert body_schema(doc, "NewIncident")["components"]["items"]["enum"] == ["api", "support-chat"]
    update = body_schema(doc, "NewUpdate")["components"]["anyOf"]
    assert [o["items"]["enum"] for o in update if o.get("type") == "array"] == [["api", "support-chat"]]
    assert body_schema(document(set()), "NewMaintenance")["components"]["items"] == {"not": {}}  # only []


def test_dates_names_and_every_success_answer_are_described() -> None:
    doc = document({"api"})
    maintenance = body_schema(doc, "NewMaintenance")
    assert maintenance["scheduled_for"]["pattern"] and maintenance["scheduled_until"]["format"] == "date-time"
    assert "\\S" in maintenance["name"]["pattern"] or "[^\\s" in maintenance["name"]["pattern"]
    schemas = doc["components"]["schemas"]
    for method, path, _, _, status, _ in OPERATIONS:
        answer = doc["paths"][path][method.lower()]["responses"][str(status)]["content"]["application/json"]
        name = answer["schema"]["$ref"].rsplit("/", 1)[1]
        assert schemas[name]["type"] == "object", (method, path)
