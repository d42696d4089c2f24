from sqlalchemy import select
from torngas.conf import settings
from torngas.db.dbalchemy import apaginate_or_404

from board.forms import PostForm
from board.models import Post
from board.sidebar import top_posters_html
from board.signals import post_created
from common.handlers import BaseHandler


class Index(BaseHandler):
    async def get(self):
        stmt = select(Post).order_by(Post.id.desc())
        # ?page=abc, ?page=0 or a page past the end: 404, never a 500.
        page = await apaginate_or_404(
            Post.asession, stmt, self.get_argument("page", "1"), settings.POSTS_PER_PAGE
        )
        self.render("board/index.html", page=page, sidebar=await top_posters_html(self))


class NewPost(BaseHandler):
    """Login required: see ROUTE_MODULES in settings/setting.py."""

    def get(self):
        self.render("board/new_post.html", form=PostForm(self))

    async def post(self):
        form = PostForm(self)
        if not form.validate_on_submit():
            self.set_status(400)
            return self.render("board/new_post.html", form=form)  # with the errors
        post = Post(
            author_id=self.current_user["id"],
            title=form.title.data.strip(),
            body=form.body.data.strip(),
        )
        session = Post.asession
        session.add(post)
        await session.commit()
        # Whoever listens (the top-posters sidebar) reacts; asend awaits async receivers.
        await post_created.asend(sender=Post, post=post)
        self.flash("Your post is on the board.", "success")
        self.redirect(self.reverse_url("board.index"))
