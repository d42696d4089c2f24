"""``FlashMessageMixIn``: one-time messages carried to the next page (Flask's flash).

    class LoginHandler(FlashMessageMixIn, WebHandler):
        def post(self):
            ...
            self.flash("Welcome back, %s" % username, "success")
            self.redirect("/")

    {# base.html (Tornado template) #}
    {% set messages = handler.get_flashed_messages() %}
    {% if messages %}
    <div id="flashed">
      {% for category, msg in messages %}
      <span class="flash-{{ category }}">{{ msg }}</span>
      {% end %}
    </div>
    {% end %}

Messages live in the session (``SessionMiddleware`` is required), so they survive
a redirect, also to another process sharing the session store. They are removed
when a request reads them; like every session change, that removal is saved only
for a response below 400 (an error page shows them but leaves them for the next
page). Escape them when rendering (Tornado's ``{{ }}`` does).
"""

from __future__ import annotations

from typing import Any

__all__ = ["FlashMessageMixIn", "FLASH_SESSION_KEY"]

#: The session key holding pending messages (a list of [category, message]).
FLASH_SESSION_KEY = "_flashes"


class FlashMessageMixIn:
    """Adds :meth:`flash` and :meth:`get_flashed_messages` to a handler."""

    def _flash_session(self) -> Any:
        session = getattr(self, "session", None)
        if session is None:
            raise RuntimeError(
                "FlashMessageMixIn needs a session: add "
                "'torngas.middleware.session.SessionMiddleware' to MIDDLEWARE_CLASSES"
            )
        return session

    def flash(self, message: str, category: str = "message") -> None:
        """Keep ``message`` for the next page that calls :meth:`get_flashed_messages`.

        ``message`` and ``category`` must be JSON data (usually ``str``). Sends
        ``torngas.signal.message_flashed``.
        """
        session = self._flash_session()
        pending = list(session.get(FLASH_SESSION_KEY) or ())
        pending.append([category, message])
        session[FLASH_SESSION_KEY] = pending
        from torngas.signal import message_flashed

        message_flashed.send_robust(
            sender=type(self), handler=self, message=message, category=category
        )

    def get_flashed_messages(self, category_filter: Any = ()) -> list[tuple[str, Any]]:
        """The pending messages as ``(category, message)`` pairs, oldest first.

        The first call in a request takes them out of the session; later calls in
        the same request return the same list. ``category_filter`` (a category or
        a collection of them) keeps only those categories.
        """
        taken: list[tuple[str, Any]] | None = self.__dict__.get("_torngas_flashes")
        if taken is None:
            session = self._flash_session()
            raw = session.pop(FLASH_SESSION_KEY, None) or ()
            taken = [(str(item[0]), item[1]) for item in raw if len(item) == 2]
            self.__dict__["_torngas_flashes"] = taken
        if category_filter:
            wanted = {category_filter} if isinstance(category_filter, str) else set(category_filter)
            return [m for m in taken if m[0] in wanted]
        return list(taken)
