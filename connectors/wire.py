"""The JSON wire format shared by the SQL idempotency store, the demo HTTP service and the REST client.

Models are the frozen dataclasses of :mod:`connectors.base`, (de)serialised with pydantic's
``TypeAdapter`` (so the OpenAPI spec, the server and the client agree by construction). Errors
travel as one envelope, mapped here and only here::

    HTTP  code                   error
    404   order_not_found        OrderNotFound          {"id": order id}
    404   return_not_found       ReturnNotFound         {"id": return id}
    404   product_not_found      ProductNotFound        {"id": product id}
    404   customer_not_found     CustomerNotFound
    422   invalid_order_id       InvalidOrderId         {"id": the rejected value, bounded}
    422   invalid_field          InvalidField           {"field": name}
    409   action_refused         ActionRefused          {"action", "reason"}
    409   idempotency_conflict   IdempotencyConflict    {"id": key}
    503   unavailable            ConnectorUnavailable
    401   unauthorized           (client: ConnectorUnavailable, the service rejected our token)

Example:
    >>> status, body = error_to_wire(OrderNotFound("100023"))
    >>> status, body["error"]["code"]
    (404, 'order_not_found')
    >>> type(error_from_wire(status, body)).__name__
    'OrderNotFound'
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from .base import (
    ActionRefused,
    ConnectorError,
    ConnectorUnavailable,
    CustomerNotFound,
    IdempotencyConflict,
    InvalidField,
    InvalidOrderId,
    OrderNotFound,
    ProductNotFound,
    ReturnNotFound,
)

__all__ = ["dump", "dump_json", "load", "error_to_wire", "error_from_wire", "MalformedBody"]

T = TypeVar("T")


class MalformedBody(ValueError):
    """A body that does not parse as the expected model."""


@lru_cache(maxsize=None)
def _adapter(tp: Any) -> TypeAdapter:
    return TypeAdapter(tp)


def dump(obj: Any, tp: Any = None) -> Any:
    """``obj`` as JSON-ready Python data (dates as ISO strings)."""
    return _adapter(tp if tp is not None else type(obj)).dump_python(obj, mode="json")


def dump_json(obj: Any, tp: Any = None) -> str:
    return _adapter(tp if tp is not None else type(obj)).dump_json(obj).decode()


def load(tp: type[T] | Any, data: Any) -> T:
    """Validate JSON text or parsed data as ``tp``; raises :class:`MalformedBody`."""
    try:
        if isinstance(data, (str, bytes, bytearray)):
            return _adapter(tp).validate_json(data)
        return _adapter(tp).validate_python(data)
    except ValidationError as exc:
        raise MalformedBody(f"not a valid {getattr(tp, '__name__', tp)}: {exc.error_count()} errors") from exc


def error_to_wire(exc: ConnectorError) -> tuple[int, dict[str, Any]]:
    """HTTP status and envelope for a connector error."""
    err: dict[str, Any]
    if isinstance(exc, OrderNotFound):
        status, err = 404, {"code": "order_not_found", "id": exc.order_id}
    elif isinstance(exc, ReturnNotFound):
        status, err = 404, {"code": "return_not_found", "id": exc.return_id}
    elif isinstance(exc, ProductNotFound):
        status, err = 404, {"code": "product_not_found", "id": exc.product_id}
    elif isinstance(exc, CustomerNotFound):
        status, err = 404, {"code": "customer_not_found"}
    elif isinstance(exc, InvalidOrderId):
        status, err = 422, {"code": "invalid_order_id", "id": str(exc.order_id)[:40]}
    elif isinstance(exc, InvalidField):
        status, err = 422, {"code": "invalid_field", "field": exc.field}
    elif isinstance(exc, ActionRefused):
        status, err = 409, {"code": "action_refused", "action": exc.action, "reason": exc.reason}
    elif isinstance(exc, IdempotencyConflict):
        status, err = 409, {"code": "idempotency_conflict", "id": exc.key[:40]}
    else:
        status, err = 503, {"code": "unavailable"}
    err["message"] = str(exc) if status != 503 else "the order system is unavailable"
    return status, {"error": err}


def error_from_wire(status: int, body: Any) -> ConnectorError:
    """The connector error for an HTTP error answer; anything unexpected is ConnectorUnavailable."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict) or not isinstance(err.get("code"), str):
        return ConnectorUnavailable(f"order service answered HTTP {status} without an error envelope")
    code = err["code"]
    ident = str(err.get("id", ""))[:128]
    if status == 404 and code == "order_not_found":
        return OrderNotFound(ident)
    if status == 404 and code == "return_not_found":
        return ReturnNotFound(ident)
    if status == 404 and code == "product_not_found":
        return ProductNotFound(ident)
    if status == 404 and code == "customer_not_found":
        return CustomerNotFound()
    if status == 422 and code == "invalid_order_id":
        return InvalidOrderId(ident)
    if status == 422 and code == "invalid_field":
        return InvalidField(str(err.get("field", "?"))[:40], str(err.get("message", "invalid"))[:200])
    if status == 409 and code == "action_refused":
        return ActionRefused(str(err.get("action", "?"))[:40], str(err.get("reason", "?"))[:40])
    if status == 409 and code == "idempotency_conflict":
        return IdempotencyConflict(ident)
    if status == 401:
        return ConnectorUnavailable("order service rejected our credentials")
    return ConnectorUnavailable(f"order service answered HTTP {status} ({code[:40]})")
