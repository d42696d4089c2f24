"""Cache backends: one module per backend, as in Django (see torngas.cache)."""
