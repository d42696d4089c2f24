"""The board's own signal, and who listens to it.

Sending a signal instead of calling the cache directly keeps the handler ignorant
of who cares that a post was created (the sidebar today; a notifier tomorrow).
"""

from torngas.cache import cache
from torngas.dispatch import Signal, receiver

#: Sent after a post was committed. Arguments: ``post`` (a board.models.Post).
post_created = Signal(name="post_created")

TOP_POSTERS_KEY = "board:top-posters"


@receiver(post_created, dispatch_uid="board.invalidate_top_posters")
async def invalidate_top_posters(sender, post, **kwargs):
    """A new post changes the counts: drop the cached sidebar (rebuilt on next view)."""
    await cache.adelete(TOP_POSTERS_KEY)
