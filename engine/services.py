"""Builds the business-system connectors (the engine's side: it reads the engine's settings) from the ``connectors`` section of the settings.

``kind: sql`` (:class:`engine.settings.SqlConnectors`) opens :class:`connectors.sql.SqlBackend` on
``url`` (the demo store's SQLite when ``url`` is null); ``kind: rest``
(:class:`engine.settings.RestConnectors`) opens :class:`connectors.rest.RestBackend` on ``base_url``
with ``token``. One backend plays every role; :class:`Services` names the roles, so the engine can
depend on just the one it needs.

Example:
    >>> from engine.settings import load_settings
    >>> services = build_services(load_settings(), "sqlite:///store.db")          # doctest: +SKIP
    >>> services.orders.get_order(Actor.customer("C001"), "100023")                 # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectors.base import (
    BusinessBackend,
    CustomerService,
    InventoryService,
    OrderCanceller,
    OrderService,
    RefundService,
    ReturnService,
    ShippingService,
)

from engine.settings import ConnectorSettings, RestConnectors

if TYPE_CHECKING:
    from engine.settings import Settings  # noqa: F401

__all__ = ["Services", "build_services", "build_backend", "run_demo_service"]


@dataclass(frozen=True)
class Services:
    """The connectors by role (usually one backend behind every field)."""

    backend: BusinessBackend

    @property
    def orders(self) -> OrderService:
        return self.backend

    @property
    def cancellations(self) -> OrderCanceller:
        return self.backend

    @property
    def shipping(self) -> ShippingService:
        return self.backend

    @property
    def returns(self) -> ReturnService:
        return self.backend

    @property
    def refunds(self) -> RefundService:
        return self.backend

    @property
    def inventory(self) -> InventoryService:
        return self.backend

    @property
    def customers(self) -> CustomerService:
        return self.backend

    def close(self) -> None:
        self.backend.close()


def build_backend(cfg: ConnectorSettings, demo_db_url: str | None, *, return_window_days: int = 30,
                  order_id_pattern: str | None = None) -> BusinessBackend:
    """One backend for the ``connectors`` settings section (see module docstring); order ids are
    checked against ``order_id_pattern`` (the store's; None: six digits)."""
    if isinstance(cfg, RestConnectors):
        from connectors.rest import RestBackend
        from knowledge.kernel.resilience import CircuitBreaker

        return RestBackend(
            cfg.base_url,
            cfg.token.get_secret_value(),
            timeout_s=cfg.timeout_s,
            connect_timeout_s=cfg.connect_timeout_s,
            retries=cfg.retries,
            backoff_base_s=cfg.backoff_base_s,
            backoff_cap_s=cfg.backoff_cap_s,
            breaker=CircuitBreaker(cfg.breaker_failures, cfg.breaker_reset_s),
            order_id_pattern=order_id_pattern,
        )
    from connectors.sql import SqlBackend

    url = cfg.url or demo_db_url
    if not url:
        raise ValueError("connectors.url is not set and there is no demo store to fall back on")
    backend = SqlBackend(url, timeout_s=cfg.timeout_s, return_window_days=return_window_days,
                         order_id_pattern=order_id_pattern)
    if cfg.migrate:
        backend.migrate()
    return backend


def build_services(settings: Settings, demo_db_url: str | None, *, return_window_days: int | None = None,
                   order_id_pattern: str | None = None) -> Services:
    """:class:`Services` for ``settings.connectors``; ``demo_db_url`` is the SQL fallback; a store
    kit's return window and order-id form win over ``dialogue.return_window_days`` and six digits."""
    window = return_window_days if return_window_days is not None else settings.dialogue.return_window_days
    return Services(build_backend(settings.connectors, demo_db_url, return_window_days=window,
                                  order_id_pattern=order_id_pattern))


def run_demo_service(settings: Any, *, host: str = "127.0.0.1", port: int = 8766, token: str | None = None) -> None:
    """``shopassist demo serve``: the service over ``connectors.url`` (kind sql) or the demo store.

    The token comes from ``token``, else ``connectors.token`` (``SHOPASSIST_CONNECTORS__TOKEN``),
    else a random one that is printed once so the caller can be configured with it.
    """
    import secrets
    from pathlib import Path

    from connectors.demo_service import create_app, serve
    from connectors.sql import SqlBackend
    from knowledge.demo import ensure_demo_store
    from knowledge.kernel.http_limits import BodyLimit

    cfg = settings.connectors
    if cfg.kind == "sql" and cfg.url:
        url = cfg.url
    else:
        root = Path(settings.store.root) if settings.store.root else settings.resolved_data_dir / "demo-store"
        url = ensure_demo_store(root, seed=settings.store.seed).db_url
    backend = SqlBackend(url, timeout_s=cfg.timeout_s, return_window_days=settings.dialogue.return_window_days)
    if getattr(cfg, "migrate", False):  # sql's own field
        backend.migrate()
    shown = ""
    if token is None and cfg.token is not None:  # both kinds have a token
        token = cfg.token.get_secret_value()
    if not token:
        token = secrets.token_urlsafe(24)
        shown = f"\n  API token (generated): {token}\n  use it with SHOPASSIST_CONNECTORS__TOKEN={token}"
    print(f"shopassist demo order service on http://{host}:{port} over {backend!r}\n"
          f"  OpenAPI: http://{host}:{port}/openapi.json  docs: http://{host}:{port}/docs{shown}", flush=True)
    serve(create_app(backend, api_token=token, body_limit=BodyLimit.from_settings(settings.http)), host=host, port=port)
