from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from torngas.db.dbalchemy import Model

from accounts.models import User, utcnow


class Post(Model):
    __tablename__ = "agora_posts"
    __table_args__ = (Index("ix_agora_posts_author_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("agora_users.id"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # lazy="joined": the author comes with the post in one query. With the async
    # session an attribute cannot be loaded later on access (that would need IO).
    author: Mapped[User] = relationship(lazy="joined")
