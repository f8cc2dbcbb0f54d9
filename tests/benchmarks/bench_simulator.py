"""Benchmark of the DAI simulator: 32 concurrent pollers of ``GET /ai/runs`` for ~5 s.

Not collected by pytest (the name does not start with ``test_``). Run it with::

    python tests/benchmarks/bench_simulator.py [--seconds 5] [--pollers 32]

It prints requests per second, the error count and the p50/p99 latency.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import requests

from pytest_dai.simulator import DAISimulator

EXECUTIONS = "/execution_service/api/v1/executions"


def start(session: requests.Session, url: str, model_id: str) -> str:
    """Start a run of ``model_id`` (no agent); its execution id."""
    response = session.post(
        url + EXECUTIONS,
        json={"execution_type": "executing", "model_id": model_id, "agent": None},
        timeout=10,
    )
    if response.status_code not in (200, 201):
        raise SystemExit(f"starting a run: HTTP {response.status_code}: {response.text[:200]}")
    return str(response.json()["id"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--pollers", type=int, default=32)
    args = parser.parse_args()

    with DAISimulator() as sim:
        session = requests.Session()
        token = session.post(
            sim.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": sim.client_id,
                "client_secret": sim.client_secret,
            },
            timeout=10,
        ).json()["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        # A revision-2 server lists models by number and names their uuid ``modeluuid``: a
        # start names the model by that uuid.
        listing = session.get(sim.url + "/ai/models", timeout=10).json()
        models = [str(m.get("modeluuid", m["id"])) for m in listing]
        execution_ids = [start(session, sim.url, models[i % len(models)]) for i in range(8)]

        latencies: list[list[float]] = [[] for _ in range(args.pollers)]
        errors = [0] * args.pollers
        start_line = threading.Barrier(args.pollers + 1)
        stop_at = [0.0]

        def poll(index: int) -> None:
            own = requests.Session()
            own.headers["Authorization"] = f"Bearer {token}"
            execution_id = execution_ids[index % len(execution_ids)]
            start_line.wait()
            while time.monotonic() < stop_at[0]:
                began = time.perf_counter()
                try:
                    response = own.get(
                        sim.url + "/ai/runs", params={"execution_id": execution_id}, timeout=10
                    )
                    if response.status_code != 200:
                        errors[index] += 1
                    response.json()
                except (requests.RequestException, ValueError):
                    errors[index] += 1
                latencies[index].append(time.perf_counter() - began)

        threads = [threading.Thread(target=poll, args=(i,)) for i in range(args.pollers)]
        for thread in threads:
            thread.start()
        began = time.monotonic()
        stop_at[0] = began + args.seconds
        start_line.wait()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began

    every = sorted(latency for per_thread in latencies for latency in per_thread)
    count = len(every)
    p99 = every[min(count - 1, int(count * 0.99))] if count else 0.0
    print(f"pollers: {args.pollers}, seconds: {elapsed:.1f}")
    print(f"requests: {count}, requests/second: {count / elapsed:.0f}")
    print(f"errors: {sum(errors)}")
    print(f"latency p50: {statistics.median(every) * 1000:.1f} ms, p99: {p99 * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
