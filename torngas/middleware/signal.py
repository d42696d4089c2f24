"""``SignalMiddleware``: sends the request lifecycle signals of :mod:`torngas.signal`.

================= ==================== ===========================================
hook              signal               sender; arguments
================= ==================== ===========================================
process_call      ``call_started``     the request class; ``request``
process_request   ``handler_started``  the handler class; ``handler``
process_render    ``handler_render``   the handler class; ``handler``,
                                       ``template_name``, ``kwargs``
process_response  ``handler_response`` the handler class; ``handler``, ``chunk``
process_endcall   ``call_finished``    the handler class; ``handler``
================= ==================== ===========================================

Signals are sent with ``send_robust``: a receiver that raises is logged and the
request goes on. A signal nobody listens to costs one attribute check.
Receivers filter by sender as usual: ``handler_started.connect(fn, sender=MyHandler)``.
"""

from __future__ import annotations

from typing import Any

from torngas.signal import (
    call_finished,
    call_started,
    handler_render,
    handler_response,
    handler_started,
)

__all__ = ["SignalMiddleware"]


class SignalMiddleware:
    def process_call(self, request: Any, clear: Any) -> None:
        if call_started.receivers:
            call_started.send_robust(type(request), request=request)

    def process_request(self, handler: Any, clear: Any) -> None:
        if handler_started.receivers:
            handler_started.send_robust(type(handler), handler=handler)

    def process_render(self, handler: Any, clear: Any, template_name: str, **kwargs: Any) -> None:
        if handler_render.receivers:
            handler_render.send_robust(
                type(handler), handler=handler, template_name=template_name, kwargs=kwargs
            )

    def process_response(self, handler: Any, clear: Any, chunk: list[bytes]) -> None:
        if handler_response.receivers:
            handler_response.send_robust(type(handler), handler=handler, chunk=chunk)

    def process_endcall(self, handler: Any, clear: Any) -> None:
        if call_finished.receivers:
            call_finished.send_robust(type(handler), handler=handler)
