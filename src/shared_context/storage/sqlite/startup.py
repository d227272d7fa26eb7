"""One process at a time through start-up on a SQLite file (SPEC §15).

Every assistant window may spawn its own ``scs serve --transport stdio`` at the same instant on
a fresh data directory. Creating the file, migrating, generating the JWT secret and the first
pair of API keys must then happen exactly once: each process holds an exclusive file lock
beside the database (``<db>.lock``, ``flock`` on Unix through py-filelock) while it does them;
the others wait, then find the work done. The lock is re-entrant for one store and is held
only during start-up, never while serving.
"""

from __future__ import annotations

from pathlib import Path

from filelock import AsyncFileLock, Timeout

from shared_context.domain.errors import StorageError

#: Start-up under the lock takes well under a second; a minute means a stuck process.
STARTUP_LOCK_TIMEOUT_SECONDS = 60.0


class StartupLock:
    def __init__(self, db_path: Path, timeout: float = STARTUP_LOCK_TIMEOUT_SECONDS) -> None:
        self.path = Path(str(db_path) + ".lock")
        self._timeout = timeout
        self._lock: AsyncFileLock | None = None

    async def __aenter__(self) -> None:
        if self._lock is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = AsyncFileLock(self.path, timeout=self._timeout, mode=0o600)
        try:
            await self._lock.acquire()
        except Timeout as exc:
            raise StorageError(
                f"Another server process has held the start-up lock {self.path} for more than "
                f"{self._timeout:.0f} s; is one stuck? Stop it and start again."
            ) from exc

    async def __aexit__(self, *_exc: object) -> None:
        assert self._lock is not None
        await self._lock.release()
