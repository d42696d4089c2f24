from torngas.cache import caches
from torngas.handler import WebHandler


class Counter(WebHandler):
    """Counts in ``caches['default']`` through the async API."""

    async def get(self) -> None:
        store = caches["default"]
        n = int(await store.aget("n", 0)) + 1
        await store.aset("n", n)
        self.write(str(n))
