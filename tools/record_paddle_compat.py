"""Record the numbers of the Paddle-compatibility suite from real PaddlePaddle 3.3.1.

Run by hand in an environment that has Paddle (lasandbox's tests never import it)::

    /work/paddle-venv/bin/python tools/record_paddle_compat.py       # or any venv with paddlepaddle==3.3.1

It runs every probe of ``tests/paddle_compat/probes.py`` (small programs written
against Paddle's API: learning-rate schedules, losses, activations, embedding,
layer norm, one_hot, gradient clipping) on Paddle's dygraph mode on CPU and writes
``tests/fixtures/paddle_compat.json`` (``--out`` picks another path); then the cases of
``tests/paddle_compat/departures.py`` (where lasandbox departs from Paddle on purpose) into
``tests/fixtures/paddle_departures.json``. Format:
``{"meta": {...}, "probes": {probe: {key: {"dtype", "shape", "data"}}}}`` with
``data`` the flattened values (float32 values are exact in JSON's float64 text).
Recording is deterministic: the inputs come from fixed numpy generators.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import platform
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PROBES_PATH = ROOT / "tests" / "paddle_compat" / "probes.py"
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "paddle_compat.json"
# The cases of lasandbox's deliberate departures from Paddle (README, "Paddle compatibility"), recorded beside.
DEPARTURES_PATH = ROOT / "tests" / "paddle_compat" / "departures.py"
DEPARTURES_OUT = ROOT / "tests" / "fixtures" / "paddle_departures.json"


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_probes():
    return load_module(PROBES_PATH, "compat_probes")


def encode(value):
    array = np.asarray(value)
    return {"dtype": str(array.dtype), "shape": list(array.shape), "data": array.astype(np.float64).ravel().tolist()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import paddle

    paddle.disable_static()
    paddle.set_device("cpu")
    probes = load_probes()
    recorded = {}
    for name, fn in probes.PROBES.items():
        paddle.seed(0)
        recorded[name] = {key: encode(value) for key, value in fn(paddle).items()}
    meta = {
        "paddle_version": paddle.__version__,
        "numpy_version": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "script": "tools/record_paddle_compat.py",
        "probes_source": "tests/paddle_compat/probes.py",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "probes": recorded}, indent=0, sort_keys=True) + "\n")
    print(f"wrote {len(recorded)} probes to {args.out}")
    departures = {}
    for name, fn in load_module(DEPARTURES_PATH, "compat_departures").CASES.items():
        paddle.seed(0)
        departures[name] = fn(paddle)
    meta = dict(meta, probes_source="tests/paddle_compat/departures.py")
    DEPARTURES_OUT.write_text(json.dumps({"meta": meta, "cases": departures}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(departures)} departure cases to {DEPARTURES_OUT}")


if __name__ == "__main__":
    main()
