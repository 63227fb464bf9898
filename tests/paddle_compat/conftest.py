"""Shared by the Paddle-compatibility suite: the numbers recorded from PaddlePaddle 3.3.1.

Every case in this folder is written against Paddle's API with only ``import lasandbox
as paddle`` (see README.md here for where each comes from); the cases do not use this
conftest except through the ``paddle_numbers`` fixture, so the same files also run on
real Paddle (``tools/check_compat_on_paddle.py``).
"""

import json
from pathlib import Path

import numpy as np
import pytest

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "paddle_compat.json"


def _decode(entry):
    return np.asarray(entry["data"], dtype=np.float64).reshape(entry["shape"]).astype(entry["dtype"])


@pytest.fixture(scope="session")
def paddle_numbers():
    """``{probe: {key: array}}`` recorded by tools/record_paddle_compat.py."""
    recorded = json.loads(FIXTURE.read_text())["probes"]
    return {name: {k: _decode(v) for k, v in entries.items()} for name, entries in recorded.items()}
