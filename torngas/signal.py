"""The framework's signals.

Connect receivers with :meth:`~torngas.dispatch.Signal.connect` or
:func:`~torngas.dispatch.receiver`. Every receiver gets ``signal`` and ``sender``
plus the keyword arguments listed for each signal, and must accept ``**kwargs``.
torngas always sends these with ``send_robust`` (or ``asend_robust``): an
exception in a receiver is logged on ``torngas.dispatch`` and never breaks the
request. All of them cache receivers per sender (``use_caching=True``), so sending
costs almost nothing when nobody listens.

Request lifecycle signals (sent by ``torngas.middleware.signal.SignalMiddleware``,
one per middleware hook; add that middleware to ``MIDDLEWARE_CLASSES`` to get
them):

=================== ==================== ================================================
signal              hook                 sender / arguments
=================== ==================== ================================================
call_started        ``process_call``     request class; ``request``
handler_started     ``process_request``  handler class; ``handler``
handler_render      ``process_render``   handler class; ``handler``, ``template_name``,
                                         ``kwargs`` (the template namespace)
handler_response    ``process_response`` handler class; ``handler``, ``chunk``
call_finished       ``process_endcall``  handler class; ``handler``
=================== ==================== ================================================

Other signals (Flask's names, where the moment is the same):

* ``before_render_template`` / ``template_rendered`` — around rendering a
  template in ``WebHandler.render_string``: sender the handler class;
  ``handler``, ``template_name``, ``context`` (the template namespace).
* ``got_request_exception`` — an exception escaped a handler method, before the
  error page is written: sender the handler class; ``handler``, ``exception``.
* ``message_flashed`` — a flash message was stored: sender the handler class;
  ``handler``, ``message``, ``category``.
* ``request_finished`` — after the response was sent (``on_finish``): sender the
  handler class; ``handler``. Clean-up hangs here (``torngas.cache`` closes its
  connections), as in Django.
* ``setting_changed`` — ``torngas.conf.override_settings`` changed a setting:
  sender the settings class; ``setting`` (name), ``value`` (the value now in
  effect), ``enter`` (True entering the override, False leaving it). Objects
  built lazily from settings reset themselves here.
"""

from __future__ import annotations

from torngas.dispatch import Signal

__all__ = [
    "before_render_template",
    "call_finished",
    "call_started",
    "got_request_exception",
    "handler_render",
    "handler_response",
    "handler_started",
    "message_flashed",
    "request_finished",
    "setting_changed",
    "template_rendered",
]

call_started = Signal(use_caching=True, name="call_started")
handler_started = Signal(use_caching=True, name="handler_started")
handler_render = Signal(use_caching=True, name="handler_render")
handler_response = Signal(use_caching=True, name="handler_response")
call_finished = Signal(use_caching=True, name="call_finished")

before_render_template = Signal(use_caching=True, name="before_render_template")
template_rendered = Signal(use_caching=True, name="template_rendered")
got_request_exception = Signal(use_caching=True, name="got_request_exception")
message_flashed = Signal(use_caching=True, name="message_flashed")
request_finished = Signal(use_caching=True, name="request_finished")
setting_changed = Signal(use_caching=True, name="setting_changed")
