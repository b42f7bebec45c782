"""Every business-system role over HTTP (httpx), sync and async, against the demo service's API.

Resilience, in one place: a timeout on every request; retries with full-jitter exponential
backoff on transport errors, timeouts and 500/502/503/504, for idempotent calls only (reads, and
writes, which always carry an ``Idempotency-Key`` so the service applies them at most once); a
circuit breaker that fails fast while the service is down. Every library error is translated at
this boundary: down, timeout, 5xx, 401 or a malformed body become :class:`ConnectorUnavailable`;
error envelopes become the typed errors of :mod:`connectors.base` (see :mod:`connectors.wire`).
Ids are validated before anything is sent, so a malformed or hostile id never reaches the wire.

Example:
    >>> svc = RestBackend("http://127.0.0.1:8766", token="s3cret-token")          # doctest: +SKIP
    >>> svc.get_order(Actor.customer("C001"), "100023").status                     # doctest: +SKIP
    'shipped'
    >>> async with AsyncRestBackend("http://127.0.0.1:8766", token="s3cret-token") as a:  # doctest: +SKIP
    ...     order = await a.get_order(Actor.customer("C001"), "100023")
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from knowledge.kernel.privacy import mask_pii

from . import wire
from .auth import Actor
from .base import (
    AddressChange,
    Cancellation,
    ConnectorError,
    ConnectorUnavailable,
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
    validate_idempotency_key,
    validate_limit,
    order_id_regex,
    validate_order_id,
    validate_product_id,
    validate_return_id,
    validate_return_lines,
    validate_text,
    validate_variant_id,
)
from knowledge.kernel.resilience import CircuitBreaker, backoff_delays

__all__ = ["RestBackend", "AsyncRestBackend", "RETRY_STATUSES"]

log = logging.getLogger("shopassist.connectors.rest")
RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    actor: Actor
    result: Any
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    key: str | None = None
    none_on: type[ConnectorError] | None = None  # this error means "no value" (get_customer)

    @property
    def retryable(self) -> bool:
        return self.method == "GET" or self.key is not None


class _Retryable(Exception):
    """An attempt failed in a way a retry may fix; carries the ConnectorUnavailable to raise last."""

    def __init__(self, error: ConnectorUnavailable) -> None:
        self.error = error


def _seg(value: str) -> str:
    return quote(value, safe="")


class _Api:
    """The calls, written once: in :class:`RestBackend` ``_run`` returns the value, in
    :class:`AsyncRestBackend` an awaitable of it."""

    def __init__(self, base_url: str, token: str, *, timeout_s: float, connect_timeout_s: float, retries: int,
                 backoff_base_s: float, backoff_cap_s: float, breaker: CircuitBreaker | None,
                 rng: Callable[[], float], order_id_pattern: str | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not token:
            raise ValueError("token must not be empty")
        if timeout_s <= 0 or connect_timeout_s <= 0:
            raise ValueError(f"timeouts must be > 0, got {timeout_s} and {connect_timeout_s}")
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        if backoff_base_s < 0 or backoff_cap_s < 0:
            raise ValueError("backoff times must be >= 0")
        order_id_regex(order_id_pattern)  # a bad pattern fails here, not on the first order
        self._order_pattern = order_id_pattern
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                         "User-Agent": "shopassist-connector/1"}
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self._retries = retries
        self._base, self._cap, self._rng = backoff_base_s, backoff_cap_s, rng
        self.breaker = breaker or CircuitBreaker()

    @property
    def order_id_pattern(self) -> str | None:
        """The store's order-id regex this backend checks ids against (None: six digits)."""
        return self._order_pattern

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def _run(self, call: _Call) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- request and answer, shared by sync and async -------------------------------------------
    def _request_args(self, call: _Call) -> dict[str, Any]:
        headers = dict(self._headers)
        headers["X-Actor-Role"] = call.actor.role
        if call.actor.customer_id:
            headers["X-Customer-Id"] = quote(call.actor.customer_id, safe="")
        if call.key:
            headers["Idempotency-Key"] = call.key
        return {"method": call.method, "url": f"{self.base_url}/v1{call.path}", "params": call.params,
                "json": call.body, "headers": headers}

    def _delays(self, call: _Call) -> list[float]:
        return list(backoff_delays(self._retries if call.retryable else 0, base_s=self._base, cap_s=self._cap,
                                   rng=self._rng))

    def _check_breaker(self) -> None:
        if not self.breaker.allow():
            raise ConnectorUnavailable("order service circuit is open (recent failures); not calling it")

    @staticmethod
    def _transport_error(exc: Exception) -> _Retryable:
        if isinstance(exc, httpx.TimeoutException):
            return _Retryable(ConnectorUnavailable(f"order service timed out ({type(exc).__name__})"))
        return _Retryable(ConnectorUnavailable(f"order service unreachable ({type(exc).__name__})"))

    def _answer(self, call: _Call, response: httpx.Response) -> Any:
        """The typed value of a response, or raise the typed error (``_Retryable`` for 5xx)."""
        status = response.status_code
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            body = _MALFORMED
        if status in RETRY_STATUSES:
            raise _Retryable(ConnectorUnavailable(f"order service answered HTTP {status}"))
        if 200 <= status < 300:
            if body is _MALFORMED:
                raise ConnectorUnavailable("order service answered a body that is not JSON")
            try:
                return wire.load(call.result, body)
            except wire.MalformedBody as exc:
                raise ConnectorUnavailable(f"order service answered a malformed body ({exc})") from None
        if body is _MALFORMED:
            raise ConnectorUnavailable(f"order service answered HTTP {status} with a body that is not JSON")
        raise wire.error_from_wire(status, body)

    def _settle(self, call: _Call, outcome: Exception | None) -> None:
        """Tell the breaker: a ConnectorUnavailable is a failure; any other answer means the service is up."""
        if isinstance(outcome, (ConnectorUnavailable, _Retryable)):
            self.breaker.record_failure()
            err = outcome.error if isinstance(outcome, _Retryable) else outcome
            log.warning(mask_pii(f"{call.method} {call.path}: {err}"))
        else:
            self.breaker.record_success()

    # -- orders ---------------------------------------------------------------------------------
    def get_order(self, actor: Actor, order_id: str) -> Order:
        oid = validate_order_id(order_id, self._order_pattern)
        return self._run(_Call("GET", f"/orders/{_seg(oid)}", actor, Order))

    def list_orders(self, actor: Actor, limit: int = 5) -> list[Order]:
        validate_limit(limit)
        return self._run(_Call("GET", "/orders", actor, list[Order], params={"limit": limit}))

    def cancel_order(self, actor: Actor, order_id: str, *, idempotency_key: str) -> Cancellation:
        oid = validate_order_id(order_id, self._order_pattern)
        key = validate_idempotency_key(idempotency_key)
        return self._run(_Call("POST", f"/orders/{_seg(oid)}/cancel", actor, Cancellation, key=key))

    # -- shipping, returns, refunds -------------------------------------------------------------
    def track_shipment(self, actor: Actor, order_id: str) -> Shipment | None:
        oid = validate_order_id(order_id, self._order_pattern)
        return self._run(_Call("GET", f"/orders/{_seg(oid)}/shipment", actor, Shipment | None))

    def check_return(self, actor: Actor, order_id: str) -> ReturnEligibility:
        oid = validate_order_id(order_id, self._order_pattern)
        return self._run(_Call("GET", f"/orders/{_seg(oid)}/return-eligibility", actor, ReturnEligibility))

    def create_return(self, actor: Actor, order_id: str, reason: str, *, idempotency_key: str,
                      items: Any = None) -> ReturnRecord:
        oid = validate_order_id(order_id, self._order_pattern)
        why = validate_text("reason", reason, max_chars=500)
        key = validate_idempotency_key(idempotency_key)
        lines = validate_return_lines(items)
        body: dict[str, Any] = {"reason": why}
        if lines is not None:
            body["items"] = [{"product_id": line.product_id, "quantity": line.quantity} for line in lines]
        return self._run(_Call("POST", f"/orders/{_seg(oid)}/returns", actor, ReturnRecord, body=body, key=key))

    def request_replacement(self, actor: Actor, order_id: str, reason: str, *,
                            idempotency_key: str) -> ReplacementRequest:
        oid = validate_order_id(order_id, self._order_pattern)
        why = validate_text("reason", reason, max_chars=500)
        key = validate_idempotency_key(idempotency_key)
        return self._run(_Call("POST", f"/orders/{_seg(oid)}/replacements", actor, ReplacementRequest,
                               body={"reason": why}, key=key))

    def get_return(self, actor: Actor, return_id: str) -> ReturnRecord:
        rid = validate_return_id(return_id)
        return self._run(_Call("GET", f"/returns/{_seg(rid)}", actor, ReturnRecord))

    def get_refund(self, actor: Actor, order_id: str) -> RefundStatus:
        oid = validate_order_id(order_id, self._order_pattern)
        return self._run(_Call("GET", f"/orders/{_seg(oid)}/refund", actor, RefundStatus))

    # -- inventory and customers ----------------------------------------------------------------
    def get_stock(self, actor: Actor, product_id: str, variant_id: str | None = None) -> list[StockLevel]:
        pid = validate_product_id(product_id)
        params = {"variant": validate_variant_id(variant_id)} if variant_id is not None else None
        return self._run(_Call("GET", f"/inventory/{_seg(pid)}", actor, list[StockLevel], params=params))

    def get_customer(self, actor: Actor) -> Customer | None:
        return self._run(_Call("GET", "/customers/me", actor, Customer, none_on=CustomerNotFound))

    def change_address(
        self, actor: Actor, address: str, *, idempotency_key: str, order_id: str | None = None
    ) -> AddressChange:
        new = validate_text("address", address, max_chars=300)
        oid = validate_order_id(order_id, self._order_pattern) if order_id is not None else None
        key = validate_idempotency_key(idempotency_key)
        return self._run(_Call("PUT", "/customers/me/address", actor, AddressChange,
                               body={"address": new, "order_id": oid}, key=key))

    def write_outcome(self, actor: Actor, idempotency_key: str) -> WriteOutcome | None:
        key = validate_idempotency_key(idempotency_key)
        return self._run(_Call("GET", f"/writes/{_seg(key)}", actor, WriteOutcome | None))


_MALFORMED = object()


class RestBackend(_Api):
    """:class:`connectors.base.BusinessBackend` over the HTTP API of :mod:`connectors.demo_service`.

    Args:
        base_url: the service root, e.g. ``http://127.0.0.1:8766``.
        token: the shared API token (sent as a bearer token).
        timeout_s: read/write/pool timeout per attempt; ``connect_timeout_s``: connect timeout.
        retries: extra attempts for idempotent calls; backoff ``rng() * min(cap, base * 2**n)``.
        breaker: the circuit breaker (default: 5 failures, 30 s).
        client: an ``httpx.Client`` to use (tests, custom transports); closed by :meth:`close`.
        sleep, rng: injectable for tests.
        order_id_pattern: the store's order-id regex (None: six digits), checked before any request.
    """

    def __init__(self, base_url: str, token: str, *, timeout_s: float = 2.0, connect_timeout_s: float = 1.0,
                 retries: int = 2, backoff_base_s: float = 0.1, backoff_cap_s: float = 1.0,
                 breaker: CircuitBreaker | None = None, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng: Callable[[], float] = random.random,
                 order_id_pattern: str | None = None) -> None:
        super().__init__(base_url, token, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s, retries=retries,
                         backoff_base_s=backoff_base_s, backoff_cap_s=backoff_cap_s, breaker=breaker, rng=rng,
                         order_id_pattern=order_id_pattern)
        self._client = client or httpx.Client(timeout=self._timeout, follow_redirects=False)
        self._sleep = sleep

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RestBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, call: _Call) -> Any:
        delays = self._delays(call)
        for attempt in range(len(delays) + 1):
            self._check_breaker()
            outcome: Exception | None = None
            try:
                try:
                    response = self._client.request(**self._request_args(call))
                except httpx.HTTPError as exc:
                    raise self._transport_error(exc) from exc
                except (UnicodeError, json.JSONDecodeError) as exc:
                    raise ConnectorUnavailable(f"cannot send the request ({type(exc).__name__})") from exc
                return self._answer(call, response)
            except (_Retryable, ConnectorError) as exc:
                outcome = exc
                if call.none_on is not None and isinstance(exc, call.none_on):
                    return None
                if not (isinstance(exc, _Retryable) and attempt < len(delays)):
                    raise (exc.error if isinstance(exc, _Retryable) else exc) from None
            finally:
                self._settle(call, outcome)
            self._sleep(delays[attempt])
        raise AssertionError("unreachable")  # pragma: no cover


class AsyncRestBackend(_Api):
    """The same API as :class:`RestBackend` for async code: every method returns an awaitable.

    Args: as :class:`RestBackend`, with an ``httpx.AsyncClient`` and an async ``sleep``.
    """

    def __init__(self, base_url: str, token: str, *, timeout_s: float = 2.0, connect_timeout_s: float = 1.0,
                 retries: int = 2, backoff_base_s: float = 0.1, backoff_cap_s: float = 1.0,
                 breaker: CircuitBreaker | None = None, client: httpx.AsyncClient | None = None,
                 sleep: Callable[[float], Any] = asyncio.sleep, rng: Callable[[], float] = random.random,
                 order_id_pattern: str | None = None) -> None:
        super().__init__(base_url, token, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s, retries=retries,
                         backoff_base_s=backoff_base_s, backoff_cap_s=backoff_cap_s, breaker=breaker, rng=rng,
                         order_id_pattern=order_id_pattern)
        self._client = client or httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        self._sleep = sleep

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> AsyncRestBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _run(self, call: _Call) -> Any:  # type: ignore[override]
        delays = self._delays(call)
        for attempt in range(len(delays) + 1):
            self._check_breaker()
            outcome: Exception | None = None
            try:
                try:
                    response = await self._client.request(**self._request_args(call))
                except httpx.HTTPError as exc:
                    raise self._transport_error(exc) from exc
                except (UnicodeError, json.JSONDecodeError) as exc:
                    raise ConnectorUnavailable(f"cannot send the request ({type(exc).__name__})") from exc
                return self._answer(call, response)
            except (_Retryable, ConnectorError) as exc:
                outcome = exc
                if call.none_on is not None and isinstance(exc, call.none_on):
                    return None
                if not (isinstance(exc, _Retryable) and attempt < len(delays)):
                    raise (exc.error if isinstance(exc, _Retryable) else exc) from None
            finally:
                self._settle(call, outcome)
            await self._sleep(delays[attempt])
        raise AssertionError("unreachable")  # pragma: no cover
