"""Command line: ``dai-simulator [--host H] [--port P] [--scenario FILE] [--verbose]``
(also ``python -m pytest_dai.simulator``).

Starts the simulator, prints its URL, token URL, client id and client secret (one per line),
then ``export`` lines to paste into a shell so that pytest uses it, serves until SIGINT or
SIGTERM, then stops and exits 0. With ``--verbose`` every request is printed as it is answered
(time, method, path and query, status; never a body). A bad scenario file prints one line to
stderr and exits 2.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from pytest_dai.simulator.dialects import DIALECTS
from pytest_dai.simulator.server import DAISimulator
from pytest_dai.simulator.specs import ScenarioError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType

    from pytest_dai.simulator.server import RequestRecord


def port(text: str) -> int:
    """A TCP port number, 0 to 65535 (argparse turns the ValueError into a usage error)."""
    number = int(text)
    if not 0 <= number <= 65535:
        raise ValueError(text)
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dai-simulator",
        description="Run the pytest-dai DAI server simulator on its own.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=port, default=8000, help="port (8000; 0 picks a free one)")
    parser.add_argument("--scenario", metavar="FILE", help="scenario JSON file (default: packaged)")
    parser.add_argument("--dialect", choices=sorted(DIALECTS), help="answer in this dialect preset")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print every request as it is answered"
    )
    return parser


def exports(sim: DAISimulator) -> list[str]:
    """Shell lines that point pytest-dai at ``sim`` (values quoted for a POSIX shell)."""
    values = {
        "DAI_URL": sim.url,
        "DAI_REALM": sim.realm,
        "DAI_CLIENT_ID": sim.client_id,
        "DAI_CLIENT_SECRET": sim.client_secret,
    }
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]


def request_line(record: RequestRecord) -> str:
    """One request as ``--verbose`` prints it: time, method, path and query, status."""
    clock = time.strftime("%H:%M:%S", time.localtime(record.time))
    millis = int(record.time * 1000) % 1000
    query = f"?{urlencode(record.query)}" if record.query else ""
    status = record.status or "dropped"
    return f"{clock}.{millis:03d} {record.method} {record.path}{query} {status}"


def _print_request(record: RequestRecord) -> None:
    sys.stdout.write(request_line(record) + "\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dai-simulator`` and ``python -m pytest_dai.simulator``."""
    args = _parser().parse_args(argv)
    try:
        sim = DAISimulator(
            args.scenario,
            host=args.host,
            port=args.port,
            dialect=args.dialect,
            on_request=_print_request if args.verbose else None,
        )
    except ScenarioError as exc:
        print(f"dai-simulator: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            sim.start()
        except OSError as exc:
            print(
                f"dai-simulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
            )
            return 1
        print(f"DAI simulator listening on {sim.url}")
        print(f"token URL: {sim.token_url}")
        print(f"client id: {sim.client_id}")
        print(f"client secret: {sim.client_secret}")
        print("\nTo run your tests against it, paste into your shell:")
        print("\n".join(exports(sim)))
        sys.stdout.flush()
        while not stop.wait(1.0):
            pass
    finally:
        sim.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
