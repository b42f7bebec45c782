"""A real HTTP order service for the demo and the tests: FastAPI over :class:`connectors.sql.SqlBackend`.

The service trusts one caller (the engine) that authenticates with a shared API token
(``Authorization: Bearer <token>``) and states on whose behalf it acts in two headers:
``X-Actor-Role`` (``customer`` | ``agent`` | ``anonymous``) and ``X-Customer-Id``. Writes need an
``Idempotency-Key`` header. Models are the dataclasses of :mod:`connectors.base`; errors use the
envelope of :mod:`connectors.wire`. The OpenAPI spec is served at ``/openapi.json`` (docs at
``/docs``). Started by ``shopassist demo serve``. Request bodies are limited before the token is
checked and before anything reads them (:class:`engine.http_limits.BodyLimitMiddleware`: 413 for
too large, 415 for a ``Content-Encoding``, which the service never inflates).

Example:
    >>> app = create_app(SqlBackend("sqlite:///store.db"), api_token="s3cret")   # doctest: +SKIP
    >>> serve(app, host="127.0.0.1", port=8766)                                  # doctest: +SKIP

    $ curl -H 'Authorization: Bearer s3cret' -H 'X-Actor-Role: customer' -H 'X-Customer-Id: C001' \\
        http://127.0.0.1:8766/v1/orders/100023
"""

from __future__ import annotations

import hmac
import logging
from typing import Any
from urllib.parse import unquote

try:
    from fastapi import Depends, FastAPI, Header, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, Field
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("the demo order service needs FastAPI: pip install 'shopassist[service]'") from exc

from knowledge.kernel.http_limits import BodyLimit, BodyLimitMiddleware
from knowledge.kernel.privacy import mask_pii

from . import wire
from .auth import Actor
from .base import (
    AddressChange,
    BusinessBackend,
    Cancellation,
    ConnectorError,
    Customer,
    CustomerNotFound,
    Order,
    RefundStatus,
    ReplacementRequest,
    ReturnEligibility,
    ReturnRecord,
    Shipment,
    StockLevel,
    WriteOutcome,
)

__all__ = ["create_app", "serve", "ServerThread", "ReturnRequest", "ReturnItemRequest", "ReplacementBody",
           "AddressRequest"]

log = logging.getLogger("shopassist.connectors.demo_service")
API_PREFIX = "/v1"


class ReturnItemRequest(BaseModel):
    """One line of a return request: units of one product of the order."""

    product_id: str = Field(..., max_length=32, description="a product id of one of the order's lines")
    quantity: int = Field(1, ge=1, le=9999, description="units of that line to send back")


class ReturnRequest(BaseModel):
    """Body of ``POST /v1/orders/{order_id}/returns``."""

    reason: str = Field(..., description="why the customer returns the items (free text, ≤ 500 characters)")
    items: list[ReturnItemRequest] | None = Field(
        None, max_length=100,
        description="the lines and units to send back; null or absent: every line that may still be returned")


class ReplacementBody(BaseModel):
    """Body of ``POST /v1/orders/{order_id}/replacements``."""

    reason: str = Field(..., description="what is wrong with the item (free text, ≤ 500 characters)")


class AddressRequest(BaseModel):
    """Body of ``PUT /v1/customers/me/address``."""

    address: str = Field(..., description="the new address (free text, ≤ 300 characters)")
    order_id: str | None = Field(None, description="change this processing order's shipping address only")


class ErrorBody(BaseModel):
    code: str
    message: str
    id: str | None = None
    field: str | None = None
    action: str | None = None
    reason: str | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorEnvelope} for s in (401, 404, 409, 422, 503)
}


def _error(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(status_code=status, content=body)


def create_app(backend: BusinessBackend, *, api_token: str, title: str = "shopassist demo order service",
               body_limit: BodyLimit | None = None) -> FastAPI:
    """The FastAPI application over ``backend``.

    Args:
        backend: what answers (usually :class:`connectors.sql.SqlBackend` on the demo store).
        api_token: the shared secret the trusted caller sends as a bearer token.
        body_limit: request body limits, applied before authentication (default: :class:`BodyLimit`).
    """
    if not api_token or len(api_token) < 8:
        raise ValueError("api_token must be at least 8 characters")
    app = FastAPI(title=title, version="1", description=__doc__.split("\n\n")[0])
    app.add_middleware(BodyLimitMiddleware, limit=body_limit or BodyLimit())
    app.state.backend = backend
    expected = api_token.encode()

    @app.exception_handler(ConnectorError)
    async def _connector_error(_request: Request, exc: ConnectorError) -> JSONResponse:
        status, body = wire.error_to_wire(exc)
        if status >= 500:
            log.warning(mask_pii(f"backend unavailable: {exc}"))
        return _error(status, body)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        name = str(first.get("loc", ["?"])[-1])[:40]
        return _error(422, {"error": {"code": "invalid_field", "field": name, "message": f"{name}: invalid"}})

    def actor(
        request: Request,
        authorization: str = Header("", description="Bearer <shared API token>"),
        x_actor_role: str = Header("anonymous", description="customer | agent | anonymous"),
        x_customer_id: str | None = Header(None, description="the acting customer (role customer)"),
    ) -> Actor:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected):
            raise _Unauthorized()
        if x_actor_role == "customer" and x_customer_id:
            return Actor.customer(unquote(x_customer_id))
        if x_actor_role == "agent":
            return Actor.agent()
        return Actor.anonymous()

    @app.exception_handler(_Unauthorized)
    async def _unauthorized(_request: Request, _exc: _Unauthorized) -> JSONResponse:
        return _error(401, {"error": {"code": "unauthorized", "message": "missing or wrong API token"}})

    def svc(request: Request) -> BusinessBackend:
        return request.app.state.backend

    key_header = Header(..., alias="Idempotency-Key", description="8-128 characters; a retry reuses it")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(f"{API_PREFIX}/orders", response_model=list[Order], responses=_ERRORS, summary="The actor's recent orders")
    def list_orders(limit: int = Query(5, ge=1, le=100), who: Actor = Depends(actor), b=Depends(svc)):
        return wire.dump(b.list_orders(who, limit=limit), list[Order])

    @app.get(f"{API_PREFIX}/orders/{{order_id}}", response_model=Order, responses=_ERRORS, summary="One order")
    def get_order(order_id: str, who: Actor = Depends(actor), b=Depends(svc)):
        return wire.dump(b.get_order(who, order_id), Order)

    @app.post(f"{API_PREFIX}/orders/{{order_id}}/cancel", response_model=Cancellation, responses=_ERRORS,
              summary="Cancel a processing order (idempotent)")
    def cancel_order(order_id: str, key: str = key_header, who: Actor = Depends(actor), b=Depends(svc)):
        return wire.dump(b.cancel_order(who, order_id, idempotency_key=key), Cancellation)

    @app.get(f"{API_PREFIX}/orders/{{order_id}}/shipment", response_model=Shipment | None, responses=_ERRORS,
             summary="Tracking (null before the order ships)")
    def track_shipment(order_id: str, who: Actor = Depends(actor), b=Depends(svc)):
        return wire.dump(b.track_shipment(who, order_id), Shipment | None)

    @app.get(f"{API_PREFIX}/orders/{{order_id}}/return-eligibility", response_model=ReturnEligibility,
             responses=_ERRORS, summary="Whether the order may be returned today")
    def check_return(order_id: str, who: Actor = Depends(actor), b=Depends(svc)):
        return wire.dump(b.check_return(who, order_id), ReturnEligibility)

    @app.post(f"{API_PREFIX}/orders/{{order_id}}/returns", response_model=ReturnRecord, responses=_ERRORS,
              summary="Open a return of some or all of the order's items (idempotent; the key covers the items)")
    def create_return(order_id: str, body: ReturnRequest, key: str = key_header, who: Actor = Depends(actor),
                      b=Depends(svc)):
        items = None if body.items is None else [(i.product_id, i.quantity) for i in body.items]
        return wire.dump(b.create_return(who, order_id, body.reason, idempotency_key=key, items=items), ReturnRecord)

    @app.post(f"{API_PREFIX}/orders/{{order_id}}/replacements", response_model=ReplacementRequest, responses=_ERRORS,
              summary="Request a new unit of a damaged or defective item (idempotent)")
    def request_replacement(order_id: str, body: ReplacementBody, key: str = key_header, who: Actor = Depends(actor),
                            b=Depends(svc)):
        return wire.dump(b.request_replacement(who, order_id, body.reason, idempotency_key=key), ReplacementRequest)

    @app.get(f"{API_PREFIX}/orders/{{order_id}}/refund", response_model=RefundStatus, responses=_ERRORS,
             summary="Where the order's refund stands")
    def get_refund(order_id: str, who: Actor = Depends(actor), b=Depends(svc)):
        return wire.dump(b.get_refund(who, order_id), RefundStatus)

    @app.get(f"{API_PREFIX}/returns/{{return_id}}", response_model=ReturnRecord, responses=_ERRORS,
             summary="One return")
    def get_return(return_id: str, who: Actor = Depends(actor), b=Depends(svc)):
        return wire.dump(b.get_return(who, return_id), ReturnRecord)

    @app.get(f"{API_PREFIX}/inventory/{{product_id}}", response_model=list[StockLevel], responses=_ERRORS,
             summary="Stock per variant")
    def get_stock(product_id: str, variant: str | None = Query(None, max_length=64), who: Actor = Depends(actor),
                  b=Depends(svc)):
        return wire.dump(b.get_stock(who, product_id, variant), list[StockLevel])

    @app.get(f"{API_PREFIX}/customers/me", response_model=Customer, responses=_ERRORS,
             summary="The acting customer's profile")
    def get_customer(who: Actor = Depends(actor), b=Depends(svc)):
        me = b.get_customer(who)
        if me is None:
            raise CustomerNotFound()
        return wire.dump(me, Customer)

    @app.put(f"{API_PREFIX}/customers/me/address", response_model=AddressChange, responses=_ERRORS,
             summary="Change the profile address, or one processing order's (idempotent)")
    def change_address(body: AddressRequest, key: str = key_header, who: Actor = Depends(actor), b=Depends(svc)):
        return wire.dump(b.change_address(who, body.address, idempotency_key=key, order_id=body.order_id),
                         AddressChange)

    @app.get(f"{API_PREFIX}/writes/{{key}}", response_model=WriteOutcome | None, responses=_ERRORS,
             summary="What the actor's write with this idempotency key did (null: none happened)")
    def write_outcome(key: str, who: Actor = Depends(actor), b=Depends(svc)):
        return wire.dump(b.write_outcome(who, key), WriteOutcome | None)

    return app


class _Unauthorized(Exception):
    pass


def serve(app: FastAPI, *, host: str = "127.0.0.1", port: int = 8766, log_level: str = "warning") -> None:
    """Run ``app`` with uvicorn until interrupted (blocking)."""
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("the demo order service needs uvicorn: pip install 'shopassist[service]'") from exc
    uvicorn.run(app, host=host, port=port, log_level=log_level)


class ServerThread:
    """Runs an ASGI app with uvicorn in a background thread on a loopback port (tests, benchmarks).

    Example:
        >>> with ServerThread(app) as server:                       # doctest: +SKIP
        ...     RestBackend(server.url, token="s3cret-token").get_order(...)
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        import socket

        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "ServerThread":
        import threading
        import time

        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"demo-service:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the demo service did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
