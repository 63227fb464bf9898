"""Count the files under lasandbox/ that mention each registered rule by name (the rules issue's target:
at most 3: the rule's module, the registry line, one Paddle-facing class).

    python tools/rule_mentions.py            # a table: rule, count, files
    python tools/rule_mentions.py --check    # exit 1 if a rule added after the paper's four exceeds 3

A mention is the name as a whole word, case-insensitive, in a .py file (so ``adam`` does not count
``adamw`` or ``adamax``). The paper's own optimizers (sgd, momentum, adam, adamw) are also named by the
figures, sweeps and benchmarks that use them as experiments; those files are listed, not hidden.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER_RULES = {"sgd", "momentum", "adam"}


def mentions(name, package=ROOT / "lasandbox"):
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9])", re.IGNORECASE)
    return sorted(str(p.relative_to(ROOT)) for p in package.rglob("*.py") if pattern.search(p.read_text()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from lasandbox.kernels import rules

    failed = []
    for name in rules.names():
        files = mentions(name)
        print(f"{name:<10} {len(files):>3}  {', '.join(files)}")
        if name not in PAPER_RULES and len(files) > 3:
            failed.append(name)
    if args.check and failed:
        print(f"more than 3 files mention: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
