"""Records the start-up and shutdown hooks (what the ASGI lifespan must run)."""

LIFE: list[str] = []


class Lifecycle:
    def process_init(self, application):
        LIFE.append("init")

    async def process_shutdown(self, application):
        LIFE.append("shutdown")
