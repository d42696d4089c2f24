"""Models shared by the db tests (one registry per process, so defined once)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Text

from torngas.db.dbalchemy import Model


class BaseModel(Model):
    __abstract__ = True
    __connection_name__ = "default"

    id = Column(Integer, primary_key=True, autoincrement=True)


class User(BaseModel):
    __tablename__ = "tg_users"

    name = Column(String(64), nullable=False)
    bio = Column(Text, nullable=True)


class Note(Model):
    """A model on a second connection name."""

    __tablename__ = "tg_notes"
    __connection_name__ = "other"

    id = Column(Integer, primary_key=True, autoincrement=True)
    body = Column(String(200), nullable=False)
