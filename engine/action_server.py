"""The Rasa custom action server (``shopassist actions``): rasa-sdk's Sanic app over
:mod:`engine.rasa_actions`, with the project's request body limits.

rasa-sdk's own ``run`` builds its app in each Sanic worker from a factory, so the limits are added
in a factory of ours (:func:`create_action_app`) that every worker calls: Sanic's
``REQUEST_MAX_SIZE`` and a request middleware that bounds what a deflated body inflates to, both
before rasa-sdk's ``/webhook`` handler reads or inflates anything (:func:`engine.http_limits.limit_sanic`).
Everything else — the argument defaults, logging, CORS, plugins, tracing, workers — is rasa-sdk's.

Example:
    >>> run_action_server(5055, limit=BodyLimit.from_settings(load_settings().http))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from functools import partial
from typing import Any

from engine.http_limits import BodyLimit, limit_sanic

__all__ = ["ACTIONS_MODULE", "create_action_app", "run_action_server"]

ACTIONS_MODULE = "engine.rasa_actions"
#: the content codings rasa-sdk's webhook reads (it inflates ``deflate`` itself)
ACTION_ENCODINGS = frozenset({"deflate"})


def create_action_app(executor: Any, *, limit: BodyLimit, **options: Any) -> Any:
    """rasa-sdk's app for ``executor`` (``options``: those of ``create_app_for_serve``), limited."""
    from rasa_sdk.endpoint import create_app_for_serve

    limit = BodyLimit(max_bytes=limit.max_bytes, max_inflated_bytes=limit.max_inflated_bytes,
                      encodings=ACTION_ENCODINGS)
    return limit_sanic(create_app_for_serve(executor, **options), limit)


def run_action_server(port: int, *, limit: BodyLimit, host: str | None = None) -> None:
    """Serve :mod:`engine.rasa_actions` on ``port`` until interrupted, as rasa-sdk's ``run`` does."""
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_argument_parser
    from rasa_sdk.executor import ActionExecutor
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    args = create_argument_parser().parse_args(["--actions", ACTIONS_MODULE, "--port", str(port)])
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel,
                                 args.logging_config_file)
    utils.update_sanic_log_level()
    executor = ActionExecutor()
    executor.register_package(ACTIONS_MODULE)
    loader = AppLoader(factory=partial(create_action_app, executor, limit=limit, cors_origins=args.cors,
                                       auto_reload=args.auto_reload, endpoints=args.endpoints))
    app = loader.load()
    app.prepare(host=host or os.environ.get("SANIC_HOST", "0.0.0.0"), port=port,
                workers=utils.number_of_sanic_workers())
    Sanic.serve(primary=app, app_loader=loader)
