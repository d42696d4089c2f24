"""Django on gunicorn: ``gunicorn -w 1 bench.apps.django_app.wsgi:application``.

A project as ``startproject`` lays it out: the default middleware stack (less
auth and messages, which need apps this project has not got), the Jinja2
template backend, the cache session engine on Django's own RedisCache, and the
ORM on SQLite with persistent connections (``CONN_MAX_AGE``).
"""
