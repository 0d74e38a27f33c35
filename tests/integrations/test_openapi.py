"""The OpenAPI document: valid OpenAPI 3.1, one operation for every route the app serves and no other, served at
/api/openapi.json with a readable reference page at /api/docs."""

from __future__ import annotations

import httpx
from openapi_spec_validator import validate

from helpline.app import create_app
from support.web.openapi import build_document, declared_operations, route_operations
from support.core.settings import Settings
from tests.services import Gateway


def app_routes():  # type: ignore[no-untyped-def]
    return create_app(Settings(secret="openapi-test")).routes


def test_document_is_valid_openapi_3_1() -> None:
    document = build_document(app_routes())
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_described_and_nothing_else() -> None:
    routes = app_routes()
    served = route_operations(routes)
    described = {(op.method.upper(), op.path) for op in declared_operations(routes)}
    assert sorted(served - described) == [], "routes without an Operation in their module's openapi_ops"
    assert sorted(described - served) == [], "Operations for routes the app does not serve"


def test_every_write_documents_its_rate_limit_and_no_read_does() -> None:
    document = build_document(app_routes())
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            limited = operation["responses"].get("429")
            if method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
                assert limited and "Retry-After" in limited["headers"], f"{method} {path}"
            else:
                assert limited is None, f"{method} {path}"
    validate(document)


def test_bodies_come_from_the_handlers_msgspec_types() -> None:
    document = build_document(app_routes())
    create = document["paths"]["/api/tickets"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/NewTicketBody"}
    body = document["components"]["schemas"]["NewTicketBody"]
    assert set(body["required"]) == {"subject", "body"} and body["properties"]["subject"]["maxLength"] == 300
    erase = document["paths"]["/api/admin/users/{id}/erase"]["post"]
    assert erase["x-helpline-access"] == "admin" and erase["security"] == [{"bearer": []}]
    assert set(document["webhooks"]) == {"ticket.created", "ticket.updated", "message.created", "incident.linked"}


async def test_document_and_reference_page_are_served(http: httpx.AsyncClient, gateway: Gateway) -> None:
    served = await http.get("/api/openapi.json")
    assert served.status_code == 200 and served.json()["paths"].keys() == build_document(app_routes())["paths"].keys()
    page = await http.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/api/docs.js">' in page.text and "http" not in page.text.split("<body>")[1]
    script = await http.get("/api/docs.js")
    assert script.status_code == 200 and 'fetch("/api/openapi.json")' in script.text


async def test_a_method_a_path_does_not_answer_is_refused_with_every_method_it_does(http: httpx.AsyncClient) -> None:
    response = await http.delete("/api/tickets")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == "method_not_allowed"
