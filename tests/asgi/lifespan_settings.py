"""Settings for the lifespan test: a project served by ``uvicorn torngas.asgi:application``."""

INSTALLED_APPS = ("tests.asgi.asgiapp",)
MIDDLEWARE_CLASSES = ("tests.asgi.asgiapp.middleware.FileLifecycle",)
DEBUG = True  # no production secrets needed for a test project
