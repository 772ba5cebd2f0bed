"""The API's operations as its router declares them (through the OpenAPI document it generates),
with what a test needs to call each one: its path filled with ids, and a minimal valid body built
from the body's schema. Tests that walk these cover every endpoint, including the next one added."""

from __future__ import annotations

import re
from dataclasses import dataclass

from portico.api import ids
from portico.api.api import api

# Every path parameter of the API → the kind of object it names (a new one must be added here,
# or the access tests fail and say so).
PATH_PARAMETERS = {
    "customer_id": "customer",
    "contact_id": "contact",
    "tax_rate_id": "tax_rate",
    "item_id": "item",
    "product_id": "product",
    "plan_id": "plan",
    "addon_id": "addon",
    "coupon_id": "coupon",
    "coupon_code_id": "coupon_code",
    "invoice_id": "invoice",
    "line_number": "invoice_line",
    "credit_note_id": "credit_note",
    "payment_id": "payment",
    "payment_method_id": "payment_method",
    "subscription_id": "subscription",
    "project_id": "project",
    "task_id": "task",
    "staff_member_id": "staff_member",
    "time_entry_id": "time_entry",
    "milestone_id": "milestone",
    "document_id": "document",
    "conversation_id": "conversation",
}
# Body fields that name another object → its kind (a list of them for the many-to-many ones).
BODY_REFERENCES = {
    "product": "product",
    "tax_rate": "tax_rate",
    "plan": "plan",
    "plans": "plan",
    "addon": "addon",
    "addons": "addon",
    "customer": "customer",
    "invoice": "invoice",
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as declared: /api/v1/customers/{customer_id}
    operation_id: str
    body_schema: dict | None
    is_list: bool = False  # answers the list envelope (a GET of a collection, paginated)

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def is_write(self) -> bool:
        return self.method != "GET"

    def url(self, objects: dict[str, object]) -> str:
        path = self.path
        for name in self.parameters:
            path = path.replace(f"{{{name}}}", ids.public_id(objects[PATH_PARAMETERS[name]]))
        return path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def schema() -> dict:
    return api.get_openapi_schema(path_prefix="/api/v1/")


def operations() -> list[Operation]:
    document = schema()
    found = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            answer = spec["responses"].get(200, {}).get("content", {}).get("application/json", {})
            is_list = "has_more" in resolve(document, answer.get("schema", {})).get("properties", {})
            found.append(
                Operation(method.upper(), path, spec["operationId"], resolve(document, body), is_list)
            )
    return found


def resolve(document: dict, node):
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return resolve(document, document["components"]["schemas"][name])
        return {key: resolve(document, value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(document, value) for value in node]
    return node


def example(node: dict):
    """A small value that the schema accepts."""
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        return example(options[0])
    if "enum" in node:
        return node["enum"][0]
    if "const" in node:
        return node["const"]
    kind = node.get("type")
    if kind == "object":
        return {name: example(node["properties"][name]) for name in node.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return max(node.get("minimum", 1), 1)
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if node.get("format") == "date":
        return "2030-01-01"
    if node.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    if node.get("maxLength") == 3 and node.get("minLength") == 3:
        return "USD"
    return "x" * max(node.get("minLength", 1), 1) if node.get("maxLength", 99) >= 5 else "x"


def reference(node: dict, name: str, value: str) -> tuple[object, str]:
    """A value for body field `name` (schema `node`) that names the object `value`, and the field an
    error about it names: the id itself, a list of ids, or a list of objects naming it (such as
    `addons: [{"addon": …, "quantity": 1}]`, whose error names `addons.0.addon`)."""
    if node.get("type") != "array":
        return value, name
    items = node.get("items", {})
    if items.get("type") == "object":
        inner = next(key for key in items.get("properties", {}) if key in BODY_REFERENCES)
        return [{**example(items), inner: value}], f"{name}.0.{inner}"
    return [value], name


def body_of(operation: Operation) -> dict | None:
    return example(operation.body_schema) if operation.body_schema else None
