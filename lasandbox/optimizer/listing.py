"""``lasandbox optimizers``: the registered optimizers, their update rules and hyperparameters.

    lasandbox optimizers            # one line per optimizer: name, class, rule, momentum-like argument
    lasandbox optimizers NAME ...   # the rule of each: state arrays, hyperparameters (range, Paddle's name)
"""

from __future__ import annotations

import argparse

from lasandbox.optimizer import registry


def _rule(entry):
    from lasandbox.kernels import rules

    return rules.get(entry.cls.rule_name)


def describe(name) -> list[str]:
    entry = registry.get(name)
    rule = _rule(entry)
    lines = [f"{name}: lasandbox.optimizer.{entry.cls.__name__} over the rule {rule.name!r} "
             f"(lasandbox.kernels.{rule.name}_step)", f"  {rule.summary}",
             f"  bytes per element and step: {rule.bytes_per_element()} "
             f"({rule.bytes_per_element(fused_sync=True)} with the fused Lookahead sync)"]
    for state in rule.state:
        lines.append(f"  state {state.paddle}: starts at {state.init!r}{' (ring of copies)' if state.copies else ''}")
    for hyper in rule.hypers:
        paddle = f", Paddle's {hyper.paddle}" if hyper.paddle else ""
        doc = f" - {hyper.doc}" if hyper.doc else ""  # a user's rule may leave its hyperparameters undocumented
        lines.append(f"  {hyper.name}: {hyper.describe()}, default {hyper.default!r}{paddle}{doc}")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(prog="lasandbox optimizers", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"optimizers to describe: {', '.join(registry.names())}")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in registry.names()]
    if unknown:
        parser.error(f"unknown optimizer(s) {unknown}; registered: {', '.join(registry.names())}")
    if args.names:
        for name in args.names:
            print("\n".join(describe(name)))
        return 0
    print(f"{'name':<10} {'class':<10} {'rule':<10} {'momentum knob':<14} summary")
    for name in registry.names():
        entry = registry.get(name)
        print(f"{name:<10} {entry.cls.__name__:<10} {_rule(entry).name:<10} {entry.momentum_argument or '-':<14} "
              f"{entry.summary}")
    return 0
