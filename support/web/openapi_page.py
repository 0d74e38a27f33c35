"""The API reference page (/api/docs): self-contained HTML plus a plain script that renders /api/openapi.json.

No CDN and no framework: the machine may have no internet. Text from the document is set with textContent only.
"""

HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Helpline HTTP API</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 16px 32px; }
header a { color: #9cc3ff; }
main { max-width: 1040px; margin: 0 auto; padding: 16px 32px 64px; }
nav { margin: 8px 0 16px; }
nav a { margin-right: 12px; }
h2 { margin-top: 32px; border-bottom: 1px solid #d5d9e0; }
details.op { background: #fff; border: 1px solid #d5d9e0; border-radius: 6px; margin: 8px 0; }
details.op > summary { cursor: pointer; padding: 8px 12px; list-style: none; display: flex; gap: 12px; }
details.op > div { padding: 0 16px 12px; }
.method { font: bold 12px monospace; padding: 2px 8px; border-radius: 4px; color: #fff; min-width: 52px;
          text-align: center; background: #56606e; }
.GET { background: #2f7d32; } .POST { background: #1565c0; } .PATCH { background: #b26a00; }
.PUT { background: #6a1b9a; } .DELETE { background: #c62828; }
.path { font-family: monospace; font-weight: 600; }
.auth { margin-left: auto; color: #56606e; font-size: 13px; }
table { border-collapse: collapse; margin: 4px 0 8px; }
td, th { border: 1px solid #e0e3e8; padding: 4px 8px; text-align: left; vertical-align: top; font-size: 14px; }
code, .schema { font-family: ui-monospace, monospace; font-size: 13px; }
.schema ul { margin: 0; padding-left: 18px; }
.type { color: #6a1b9a; } .req { color: #c62828; } .muted { color: #56606e; }
</style>
</head>
<body>
<header><strong>Helpline HTTP API</strong> &middot; reference generated from
<a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1)</header>
<main>
<p id="intro" class="muted">Loading the API description&hellip;</p>
<nav id="nav" data-hl="api-nav"></nav>
<div id="ops" data-hl="api-operations"></div>
</main>
<script type="module" src="/api/docs.js"></script>
</body>
</html>
"""

SCRIPT = r"""// Renders the OpenAPI document: operations by tag, their parameters, bodies and responses, and the webhooks.
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
};

let doc = null;
const resolve = (schema) => {
  if (schema && schema.$ref) return [schema.$ref.split("/").pop(), doc.components.schemas[schema.$ref.split("/").pop()]];
  return [null, schema];
};

function typeLabel(schema) {
  const [name, s] = resolve(schema);
  if (name) return name;
  if (!s) return "any";
  if (s.anyOf) return s.anyOf.map(typeLabel).join(" | ");
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === "array") return typeLabel(s.items || {}) + "[]";
  if (s.type === "object" && s.additionalProperties) return "{string: " + typeLabel(s.additionalProperties) + "}";
  return s.type || "any";
}

function constraints(s) {
  const out = [];
  for (const key of ["minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "pattern"]) {
    if (s && s[key] !== undefined) out.push(key + " " + s[key]);
  }
  return out.length ? " (" + out.join(", ") + ")" : "";
}

function schemaTree(schema, seen = new Set()) {
  const [name, s] = resolve(schema);
  const box = el("div", { class: "schema" });
  if (!s) return box;
  const objects = s.anyOf ? s.anyOf.map((x) => resolve(x)).filter(([, r]) => r && r.properties) : [[name, s]];
  for (const [objName, obj] of objects) {
    if (!obj.properties) { box.append(el("span", { class: "type" }, typeLabel(schema), constraints(s))); continue; }
    if (objName && seen.has(objName)) { box.append(el("span", { class: "type" }, objName)); continue; }
    const inner = new Set(seen); if (objName) inner.add(objName);
    const list = el("ul");
    const required = new Set(obj.required || []);
    for (const [prop, propSchema] of Object.entries(obj.properties)) {
      const [, p] = resolve(propSchema);
      const item = el("li", {}, el("code", {}, prop), " ", el("span", { class: "type" }, typeLabel(propSchema)),
        constraints(p), required.has(prop) ? el("span", { class: "req" }, " required") : "");
      const [childName, child] = resolve(propSchema);
      const nested = child && (child.properties || (child.type === "array" && resolve(child.items || {})[1]?.properties));
      if (nested && !(childName && inner.has(childName))) {
        item.append(schemaTree(child.type === "array" ? child.items : propSchema, inner));
      }
      list.append(item);
    }
    if (objName) box.append(el("span", { class: "type" }, objName));
    box.append(list);
  }
  return box;
}

function operation(method, path, op) {
  const auth = (op.security && op.security.length) ? "bearer token" : "public";
  const body = el("div", {}, el("p", {}, op.description || ""));
  if (op.parameters && op.parameters.length) {
    const table = el("table", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"), el("th", {}, "type"),
      el("th", {}, "about")));
    for (const p of op.parameters) {
      table.append(el("tr", {}, el("td", {}, el("code", {}, p.name), p.required ? el("span", { class: "req" }, " *") : ""),
        el("td", {}, p.in), el("td", {}, typeLabel(p.schema) + constraints(resolve(p.schema)[1])),
        el("td", {}, p.description || "")));
    }
    body.append(el("h4", {}, "Parameters"), table);
  }
  if (op.requestBody) {
    for (const [media, content] of Object.entries(op.requestBody.content)) {
      body.append(el("h4", {}, "Request body ", el("code", {}, media)), schemaTree(content.schema));
    }
  }
  body.append(el("h4", {}, "Responses"));
  for (const [status, response] of Object.entries(op.responses)) {
    body.append(el("p", {}, el("strong", {}, status), " ", response.description || ""));
    for (const [media, content] of Object.entries(response.content || {})) {
      body.append(el("div", { class: "muted" }, media), schemaTree(content.schema));
    }
  }
  const summary = el("summary", {}, el("span", { class: "method " + method.toUpperCase() }, method.toUpperCase()),
    el("span", { class: "path" }, path), el("span", {}, op.summary || ""), el("span", { class: "auth" }, auth));
  return el("details", { class: "op", "data-hl": "api-operation", id: op.operationId || "" }, summary, body);
}

async function main() {
  doc = await (await fetch("/api/openapi.json")).json();
  document.getElementById("intro").textContent = doc.info.description;
  const groups = new Map();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = (op.tags && op.tags[0]) || "other";
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(operation(method, path, op));
    }
  }
  const ops = document.getElementById("ops");
  const nav = document.getElementById("nav");
  for (const [tag, items] of groups) {
    nav.append(el("a", { href: "#tag-" + tag }, tag));
    ops.append(el("h2", { id: "tag-" + tag }, tag), ...items);
  }
  if (doc.webhooks) {
    nav.append(el("a", { href: "#tag-webhooks" }, "webhooks"));
    ops.append(el("h2", { id: "tag-webhooks" }, "webhooks (sent by Helpline to your endpoints)"));
    for (const [name, item] of Object.entries(doc.webhooks)) ops.append(operation("post", name, item.post));
  }
}

main().catch((err) => { document.getElementById("intro").textContent = "Could not load the API description: " + err; });
"""
