"""JSON Schemas of what the status page's API answers, for its OpenAPI document (statuspage/openapi.py).

Written from the handlers' own output (api.incident_json, api.status_body, desk.audit_log, v2): schemathesis checks
every success answer against them (`response_schema_conformance`), so a field dropped or retyped fails a test.
The Statuspage v2 reads are documented by their top-level shape only: their inner objects follow Atlassian's format.
"""

from __future__ import annotations

from typing import Any, get_args

from statuspage import bodies

REF = "#/components/schemas/{}"


def ref(name: str) -> dict[str, Any]:
    return {"$ref": REF.format(name)}


def obj(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with these properties, all required but `optional`."""
    return {"type": "object", "required": [k for k in properties if k not in optional], "properties": properties}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


TEXT: dict[str, Any] = {"type": "string"}
WHEN: dict[str, Any] = {"type": "string", "format": "date-time"}
MAYBE_WHEN: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
COMPONENT_STATUS: dict[str, Any] = {"enum": list(get_args(bodies.ComponentStatus))}
V2_PAGE = obj({"id": TEXT, "name": TEXT, "url": TEXT, "time_zone": TEXT, "updated_at": MAYBE_WHEN})
V2_STATUS = obj({"indicator": TEXT, "description": TEXT})
V2_LIST: dict[str, Any] = array({"type": "object"})

SCHEMAS: dict[str, dict[str, Any]] = {
    "Incident": obj(
        {
            "id": TEXT,
            "name": TEXT,
            "status": TEXT,
            "impact": TEXT,
            "components": array(TEXT),
            "updates": array(obj({"id": TEXT, "status": TEXT, "body": TEXT, "created_at": WHEN})),
            "created_at": WHEN,
            "updated_at": WHEN,
            "resolved_at": MAYBE_WHEN,
            "shortlink": TEXT,
            "scheduled_for": MAYBE_WHEN,  # maintenances only
            "scheduled_until": MAYBE_WHEN,
        },
        optional=("scheduled_for", "scheduled_until"),
    ),
    "Status": obj(
        {
            "overall": {"enum": ["operational", "degraded", "partial_outage", "major_outage"]},  # rules.overall
            "indicator": TEXT,
            "description": TEXT,
            "components": array(obj({"id": TEXT, "name": TEXT, "status": COMPONENT_STATUS})),
            "incidents": array(ref("Incident")),
            "maintenances": array(ref("Incident")),
            "updated_at": MAYBE_WHEN,
            "page_url": TEXT,
        }
    ),
    "Incidents": obj({"incidents": array(ref("Incident"))}),
    "OneIncident": obj({"incident": ref("Incident")}),
    "Maintenances": obj({"maintenances": array(ref("Incident"))}),
    "Uptime": obj(
        {
            "components": array(
                obj(
                    {
                        "id": TEXT,
                        "name": TEXT,
                        "uptime_percent": {"type": ["number", "null"]},
                        "days": array(obj({"date": TEXT, "status": TEXT, "uptime": {"type": ["number", "null"]}})),
                    }
                )
            )
        }
    ),
    "ComponentSet": obj({"id": TEXT, "status": COMPONENT_STATUS}),
    "Audit": obj(
        {
            "entries": array(
                obj(
                    {
                        "at": WHEN,
                        "actor": obj({"id": TEXT, "name": TEXT}),
                        "action": TEXT,
                        "target": TEXT,
                        "detail": {"type": "object"},
                    }
                )
            )
        }
    ),
    "Components": obj({"components": array(obj({"id": TEXT, "name": TEXT}))}),
    "V2Summary": obj(
        {
            "page": V2_PAGE,
            "components": V2_LIST,
            "incidents": V2_LIST,
            "scheduled_maintenances": V2_LIST,
            "status": V2_STATUS,
        }
    ),
    "V2Status": obj({"page": V2_PAGE, "status": V2_STATUS}),
    "V2Components": obj({"page": V2_PAGE, "components": V2_LIST}),
    "V2Incidents": obj({"page": V2_PAGE, "incidents": V2_LIST}),
    "V2Maintenances": obj({"page": V2_PAGE, "scheduled_maintenances": V2_LIST}),
    "Health": obj({"status": {"const": "ok"}}),
}

# The success answer of each documented operation, by (method, path).
RESPONSES: dict[tuple[str, str], str] = {
    ("GET", "/api/status"): "Status",
    ("GET", "/api/incidents"): "Incidents",
    ("GET", "/api/incidents/{id}"): "OneIncident",
    ("GET", "/api/maintenances"): "Maintenances",
    ("GET", "/api/uptime"): "Uptime",
    ("POST", "/api/incidents"): "Incident",
    ("POST", "/api/incidents/{id}/updates"): "Incident",
    ("POST", "/api/maintenances"): "Incident",
    ("POST", "/api/maintenances/{id}/updates"): "Incident",
    ("PATCH", "/api/components/{id}"): "ComponentSet",
    ("GET", "/api/audit"): "Audit",
    ("GET", "/api/components"): "Components",
    ("GET", "/api/v2/summary.json"): "V2Summary",
    ("GET", "/api/v2/status.json"): "V2Status",
    ("GET", "/api/v2/components.json"): "V2Components",
    ("GET", "/api/v2/incidents.json"): "V2Incidents",
    ("GET", "/api/v2/incidents/unresolved.json"): "V2Incidents",
    ("GET", "/api/v2/scheduled-maintenances.json"): "V2Maintenances",
    ("GET", "/healthz"): "Health",
}
