"""Password hashing with argon2 (argon2-cffi), off the event loop.

Hashing is deliberately slow (tens of milliseconds of CPU): done inline it would
stall every other request of the process, so it runs in torngas's thread pool.
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from torngas.concurrent import run_in_threadpool

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters

# Verified against when the user does not exist, so "no such user" takes as long
# as "wrong password" (the response time does not reveal which user names exist).
_DUMMY_HASH = _hasher.hash("agora-dummy-password")


async def hash_password(password: str) -> str:
    return await run_in_threadpool(_hasher.hash, password)


async def check_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await run_in_threadpool(verify)
