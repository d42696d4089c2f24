from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column
from torngas.db.dbalchemy import Model


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(Model):
    __tablename__ = "agora_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    # An argon2 hash ("$argon2id$v=19$..."), never the password (see accounts/passwords.py).
    password_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
