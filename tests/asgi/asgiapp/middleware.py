"""Records the start-up and shutdown hooks (what the ASGI lifespan must run)."""

LIFE: list[str] = []


class Lifecycle:
    def process_init(self, application):
        LIFE.append("init")

    async def process_shutdown(self, application):
        LIFE.append("shutdown")


class FileLifecycle:
    """Appends to ``$TORNGAS_LIFE_FILE`` (a server in another process)."""

    def _note(self, what):
        import os

        with open(os.environ["TORNGAS_LIFE_FILE"], "a") as f:
            f.write(f"{what} {os.getpid()}\n")

    def process_init(self, application):
        self._note("init")

    def process_shutdown(self, application):
        self._note("shutdown")
