"""The web channel (``shopassist serve``, DESIGN §3c): a chat widget, an HTTP/WebSocket API and an
agent console with a dashboard, in one FastAPI app over the engine.

Modules: :mod:`~engine.web.app` (the app), :mod:`~engine.web.channel` (turns and hand-offs),
:mod:`~engine.web.board` / :mod:`~engine.web.redis_board` (shared conversations, transcripts,
live frames), :mod:`~engine.web.stream` (the WebSocket), :mod:`~engine.web.console` and
:mod:`~engine.web.dashboard` (agents), :mod:`~engine.web.tokens` / :mod:`~engine.web.auth` /
:mod:`~engine.web.agents` (who is asking), :mod:`~engine.web.limits` (floods),
:mod:`~engine.web.wire` (what browsers receive), :mod:`~engine.web.server` (uvicorn). FastAPI and
uvicorn come with ``pip install 'shopassist[service]'``.

Example:
    $ shopassist token --customer C001
    $ shopassist serve --port 8000
"""

from engine.web.tokens import BadToken, TokenSigner, load_secret

__all__ = ["BadToken", "TokenSigner", "load_secret", "create_app", "serve"]


def create_app(*args, **kwargs):
    """:func:`engine.web.app.create_app` (imported on use: FastAPI is an extra)."""
    from engine.web.app import create_app as _create

    return _create(*args, **kwargs)


def serve(*args, **kwargs):
    """:func:`engine.web.server.serve`."""
    from engine.web.server import serve as _serve

    return _serve(*args, **kwargs)
