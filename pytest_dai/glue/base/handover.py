"""What an xdist worker leaves for the controller in a folder the controller named: a JSON
file written whole (to a temporary name, then renamed), so the controller never reads half."""

from __future__ import annotations

import json
import os

__all__ = ["leave_json"]


def leave_json(folder: str, name: str, data: object) -> None:
    """Write ``data`` as ``folder/name`` atomically (raises ``OSError`` when it cannot)."""
    target = os.path.join(folder, name)
    with open(target + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(target + ".tmp", target)
