"""Command line: ``python -m pytest_dai.simulator [--host H] [--port P] [--scenario FILE]``.

Starts the simulator, prints its URL, token URL, client id and client secret (one per line),
serves until SIGINT or SIGTERM, then stops and exits 0. A bad scenario file prints one line to
stderr and exits 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import TYPE_CHECKING

from pytest_dai.simulator.faults import DIALECTS
from pytest_dai.simulator.scenario import ScenarioError
from pytest_dai.simulator.server import DAISimulator

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType


def port(text: str) -> int:
    """A TCP port number, 0 to 65535 (argparse turns the ValueError into a usage error)."""
    number = int(text)
    if not 0 <= number <= 65535:
        raise ValueError(text)
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_dai.simulator",
        description="Run the pytest-dai DAI server simulator on its own.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=port, default=8000, help="port (8000; 0 picks a free one)")
    parser.add_argument("--scenario", metavar="FILE", help="scenario JSON file (default: packaged)")
    parser.add_argument("--dialect", choices=sorted(DIALECTS), help="answer in this dialect preset")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dai-simulator`` and ``python -m pytest_dai.simulator``."""
    args = _parser().parse_args(argv)
    try:
        sim = DAISimulator(args.scenario, host=args.host, port=args.port, dialect=args.dialect)
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
