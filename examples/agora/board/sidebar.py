"""The "top posters" sidebar: an HTML fragment rendered once and kept in the cache.

Every process sharing the cache (Redis in production) serves the same fragment;
``board.signals.invalidate_top_posters`` deletes it when a post is created.
"""

from sqlalchemy import func, select
from torngas.cache import cache
from torngas.conf import settings

from accounts.models import User
from board.models import Post
from board.signals import TOP_POSTERS_KEY


async def top_posters_html(handler, limit: int = 5) -> str:
    html = await cache.aget(TOP_POSTERS_KEY)
    if html is None:
        stmt = (
            select(User.username, func.count(Post.id).label("posts"))
            .join(Post, Post.author_id == User.id)
            .group_by(User.id, User.username)
            .order_by(func.count(Post.id).desc(), User.username)
            .limit(limit)
        )
        posters = (await Post.asession.execute(stmt)).all()
        html = handler.render_string("board/_top_posters.html", posters=posters).decode()
        await cache.aset(TOP_POSTERS_KEY, html, timeout=settings.TOP_POSTERS_TIMEOUT)
    return html
