"""`make bench`: what the gateway/queue/worker split adds to a turn, and how it scales.

Starts the emulator, the gateway and workers as real processes on a throw-away database, then:
1. overhead: time to first text delta through the whole system vs. straight from the emulator
   (the model endpoint a single-process server would call), sequential echo turns;
2. scale-out: concurrent conversations against a model with a realistic first-token delay and
   token rate, with 1 and then 2 workers, each limited to a few concurrent turns so that capacity
   is bounded by worker count;
3. memory: resident set size of the gateway and each worker after the load.

Environment: TEST_DATABASE_URL (admin DSN, default local trust auth), BENCH_REDIS_URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import redis

from services.gateway.auth.tokens import issue_token
from tests.e2e.chatkit_client import threads_create
from tests.e2e.processes import Processes, free_port, wait_healthy, wait_registered
from tests.scratch_database import scratch_database

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
SECRET = "bench-secret-that-is-long-enough-for-hs256"
SEQUENTIAL_TURNS = 100
CONCURRENT_TURNS = 120
CONCURRENCY = 24
TURNS_PER_WORKER = 6
FIRST_TOKEN_DELAY_MS = 300
TOKENS_PER_S = 60


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, values_ms: list[float]) -> str:
    return (
        f"{name:<44} n={len(values_ms):<4} p50={percentile(values_ms, 0.5):7.1f} ms"
        f"  p95={percentile(values_ms, 0.95):7.1f} ms  mean={statistics.fmean(values_ms):7.1f} ms"
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def direct_ttft(base_url: str, text: str) -> float:
    """Time to the first content chunk straight from the model endpoint."""
    body = {
        "model": "gemini-2.5-flash",
        "stream": True,
        "messages": [{"role": "user", "content": text}],
    }
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        started = time.perf_counter()
        headers = {"Authorization": "Bearer x"}
        async with http.stream("POST", "chat/completions", json=body, headers=headers) as r:
            async for line in r.aiter_lines():
                if line.startswith("data: {") and '"content"' in line:
                    return (time.perf_counter() - started) * 1000
    raise RuntimeError("no content chunk")


async def system_turn(http: httpx.AsyncClient, text: str) -> tuple[float, float]:
    """(time to first text delta, time to end of stream) for one threads.create turn."""
    request = threads_create(text)
    started = time.perf_counter()
    first: float | None = None
    async with http.stream("POST", "/chatkit", json=request) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if first is None and line.startswith("data: ") and "text_delta" in line:
                first = (time.perf_counter() - started) * 1000
            if line.startswith("data: ") and json.loads(line[6:])["type"] == "error":
                raise RuntimeError(line)
    total = (time.perf_counter() - started) * 1000
    if first is None:
        raise RuntimeError("no text delta")
    return first, total


async def in_process_ttft(env: dict[str, str], texts: list[str]) -> list[float]:
    """Time to first text delta with chatkit's server in this process: the single-process
    baseline (same server code, store, agent and model endpoint; no gateway, queue or relay)."""
    from chatkit.server import StreamingResult
    from redis.asyncio import Redis

    from services.agent.runtime import open_runtime
    from shared.request_context import RequestContext
    from shared.settings import Settings

    redis_client = Redis.from_url(env["REDIS_URL"])
    runtime = await open_runtime(Settings.from_env(env), redis_client)
    server = runtime.server
    timings: list[float] = []
    try:
        for text in ["warm up"] * 5 + texts:
            request = json.dumps(threads_create(text)).encode()
            started = time.perf_counter()
            result = await server.process(request, RequestContext(user_id="bench-inproc"))
            first: float | None = None
            assert isinstance(result, StreamingResult)
            async for frame in result:
                if first is None and b"text_delta" in frame:
                    first = (time.perf_counter() - started) * 1000
            assert first is not None
            timings.append(first)
    finally:
        await runtime.close()
        await redis_client.aclose()
    return timings[5:]


async def run_sequential(gateway: str, emulator_api: str, env: dict[str, str]) -> None:
    token = issue_token(SECRET, "bench-seq")
    async with httpx.AsyncClient(
        base_url=gateway, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        for _ in range(5):  # warm up connections and code paths
            await system_turn(http, "hello warm up")
            await direct_ttft(emulator_api, "hello warm up")
        direct = [await direct_ttft(emulator_api, f"hello {i}") for i in range(SEQUENTIAL_TURNS)]
        through = [(await system_turn(http, f"hello {i}"))[0] for i in range(SEQUENTIAL_TURNS)]
    single = await in_process_ttft(env, [f"hello {i}" for i in range(SEQUENTIAL_TURNS)])
    print(summary("TTFT of the model endpoint alone", direct))
    print(summary("TTFT single process (chatkit server in-proc)", single))
    print(summary("TTFT through gateway + queue + worker", through))
    overhead = statistics.median(through) - statistics.median(single)
    print(f"{'added by the split vs single process (p50)':<44} {overhead:7.1f} ms")


async def run_concurrent(gateway: str, label: str) -> None:
    semaphore = asyncio.Semaphore(CONCURRENCY)
    ttfts: list[float] = []
    totals: list[float] = []

    async def one(i: int) -> None:
        token = issue_token(SECRET, f"bench-c{i % CONCURRENCY}")
        async with (
            semaphore,
            httpx.AsyncClient(
                base_url=gateway, headers={"Authorization": f"Bearer {token}"}, timeout=120
            ) as http,
        ):
            first, total = await system_turn(http, f"please echo this sentence number {i}")
            ttfts.append(first)
            totals.append(total)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(CONCURRENT_TURNS)))
    elapsed = time.perf_counter() - started
    print(
        f"-- {label}: {CONCURRENT_TURNS} turns, {CONCURRENCY} at a time, "
        f"{elapsed:.1f} s, {CONCURRENT_TURNS / elapsed:.1f} turns/s"
    )
    print(summary("  TTFT", ttfts))
    print(summary("  whole turn", totals))


def main() -> None:
    with scratch_database("taskchat_bench") as database_url, tempfile.TemporaryDirectory() as logs:
        processes = Processes(Path(logs))
        try:
            redis.Redis.from_url(REDIS_URL).flushdb()
            fast_port, slow_port, gw_port = free_port(), free_port(), free_port()
            env = {
                "DATABASE_URL": database_url,
                "REDIS_URL": REDIS_URL,
                "GEMINI_API_KEY": "bench",
                "GEMINI_BASE_URL": f"http://127.0.0.1:{fast_port}/v1beta/openai/",
                "JWT_SECRET": SECRET,
                # One user sends every benchmark turn: lift the per-user limits.
                "DAILY_MESSAGE_QUOTA": "1000000",
                "MAX_CONCURRENT_STREAMS": "1000",
                "GATEWAY_PORT": str(gw_port),
                "WORKER_MAX_TURNS": str(TURNS_PER_WORKER),
                "DATABASE_POOL_MAX": "20",
                "LOG_LEVEL": "WARNING",
            }
            for port, extra in (
                (fast_port, []),
                (
                    slow_port,
                    [
                        "--first-token-delay-ms",
                        str(FIRST_TOKEN_DELAY_MS),
                        "--tokens-per-s",
                        str(TOKENS_PER_S),
                    ],
                ),
            ):
                emulator = processes.start(
                    f"emulator-{port}",
                    "services.gemini_emulator",
                    env,
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    *extra,
                )
                wait_healthy(f"http://127.0.0.1:{port}/healthz", emulator)
            gateway = processes.start("gateway", "services.gateway", env)
            gateway_url = f"http://127.0.0.1:{gw_port}"
            wait_healthy(f"{gateway_url}/healthz", gateway)
            worker = processes.start("worker-fast", "services.agent", env)
            wait_registered(env["REDIS_URL"], worker)
            print("== 1. overhead of the split (emulator without delays)")
            asyncio.run(run_sequential(gateway_url, env["GEMINI_BASE_URL"], env))
            worker.stop()

            slow_env = {**env, "GEMINI_BASE_URL": f"http://127.0.0.1:{slow_port}/v1beta/openai/"}
            print(
                f"== 2. scale-out (model: {FIRST_TOKEN_DELAY_MS} ms to first token, "
                f"{TOKENS_PER_S} tokens/s; {TURNS_PER_WORKER} turns per worker)"
            )
            workers = [processes.start("worker-1", "services.agent", slow_env)]
            wait_registered(env["REDIS_URL"], workers[0])
            asyncio.run(run_concurrent(gateway_url, "1 worker"))
            workers.append(processes.start("worker-2", "services.agent", slow_env))
            wait_registered(env["REDIS_URL"], workers[1])
            asyncio.run(run_concurrent(gateway_url, "2 workers"))
            print("== 3. memory after the load")
            print(f"gateway RSS {rss_mb(gateway.process.pid):.0f} MB")
            for w in workers:
                print(f"{w.name} RSS {rss_mb(w.process.pid):.0f} MB")
        finally:
            processes.stop_all()


if __name__ == "__main__":
    main()
