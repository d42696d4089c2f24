"""``WebSocketHandler``: Tornado's WebSocket handler with the torngas request hooks.

Before the upgrade, ``prepare()`` runs the middleware ``process_request`` hooks
(so ``SessionMiddleware`` gives the handler ``self.session``, and an auth
middleware or HTTP module can refuse the connection with a status code), then
``on_prepare()``. After the upgrade there is no response to finish, so
``process_render``/``process_response`` do not apply; ``process_endcall`` runs
when the connection closes.

``self.torngas_settings`` is the torngas settings object (``self.settings`` stays
Tornado's application settings).
"""

from __future__ import annotations

import tornado.websocket

from torngas.conf import settings as _settings
from torngas.handler import HandlerHooksMixin

__all__ = ["WebSocketHandler"]


class WebSocketHandler(HandlerHooksMixin, tornado.websocket.WebSocketHandler):
    torngas_settings = _settings

    def on_connection_close(self) -> None:
        super().on_connection_close()
        if not getattr(self, "_torngas_closed", False):
            self._torngas_closed = True
            self.on_finish()
