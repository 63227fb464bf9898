"""REPORT.md: per figure, the paper's claim, what was measured, and whether it held.

The report is meant to be read next to the pngs and csvs it links, by someone
who wants to know which of the paper's statements this sandbox reproduces and
with which settings, including which settings are our guesses because the
paper (as far as PAPER.md could check) does not state them.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

from lasandbox.paper.registry import Claim, FigureSpec


@dataclass
class FigureOutcome:
    """What happened when one figure ran.

    ``status`` is ``"ran"`` (compute returned claims), ``"failed"`` (it raised;
    ``error`` holds the traceback) or ``"missing"`` (its module is not written yet).
    """

    spec: FigureSpec
    status: str
    seconds: float = 0.0
    claims: list[Claim] = field(default_factory=list)
    settings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    error: str = ""
    label: str = ""  # the figure's file stem: its name, or NAME_MODEL for a model variant

    def __post_init__(self):
        self.label = self.label or self.spec.name

    @property
    def claims_held(self) -> int:
        return sum(claim.held for claim in self.claims)


def _cell(text) -> str:
    # Markdown table cells cannot hold raw pipes or newlines.
    return str(text).replace("|", "\\|").replace("\n", " ")


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, float) for v in value):
        return "[" + ", ".join(f"{v:g}" for v in value) + "]"
    return str(value)


def _status_text(outcome: FigureOutcome) -> str:
    if outcome.status == "missing":
        return "not implemented yet"
    if outcome.status == "failed":
        return "**failed**"
    return f"{outcome.claims_held}/{len(outcome.claims)} held"


def _figure_section(outcome: FigureOutcome) -> list[str]:
    spec, label = outcome.spec, outcome.label
    # An explicit anchor: the heading's generated one would include the title.
    lines = [f'<a id="{label}"></a>', "", f"## {label}: {spec.title}", ""]
    if outcome.status == "missing":
        lines += [f"Not run: module `{spec.module}` does not exist yet.", ""]
        return lines
    images = [f for f in outcome.files if f.endswith(".png")]
    tables = [f for f in outcome.files if f.endswith(".csv")]
    lines += [f"![{label}]({image})" for image in images]
    if tables:
        lines.append("Data: " + ", ".join(f"[{t}]({t})" for t in tables))
    lines += ["", f"**Paper's claim.** {spec.paper_claim}", ""]
    if outcome.status == "failed":
        lines += ["**The figure failed:**", "", "```", outcome.error.rstrip(), "```", ""]
    if outcome.claims:
        lines += ["| Checked statement | Measured | Held |", "|---|---|---|"]
        for claim in outcome.claims:
            verdict = "yes" if claim.held else "**no**"
            lines.append(f"| {_cell(claim.statement)} | {_cell(claim.measured)} | {verdict} |")
        lines.append("")
    if outcome.settings:
        lines += ["**Settings.** Values marked UNVERIFIED are our choice: PAPER.md could not confirm the paper's.", ""]
        for name, value, unverified, source in outcome.settings:
            tag = " (UNVERIFIED: our choice)" if unverified else ""
            where = f"; {source}" if source else ""
            lines.append(f"- {name} = {_format_value(value)}{tag}{where}")
        lines.append("")
    if outcome.notes:
        lines += ["**Notes.**", ""] + [f"- {note}" for note in outcome.notes] + [""]
    lines += [f"Time: {outcome.seconds:.1f} s", ""]
    return lines


def render_report(outcomes, *, command: str, quick: bool, backend: str, seeds, model: str = "mlp") -> str:
    """The text of REPORT.md for the figures of one run (``model``: the network of the training figures)."""
    ran = [o for o in outcomes if o.status == "ran"]
    failed = [o for o in outcomes if o.status == "failed"]
    missing = [o for o in outcomes if o.status == "missing"]
    n_claims = sum(len(o.claims) for o in ran)
    n_held = sum(o.claims_held for o in ran)
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        "# Lookahead reproduction report",
        "",
        f"Command: `{command}`  ",
        f"Mode: {'quick' if quick else 'full'}; model of the training figures: {model}; kernel backend: {backend}; "
        f"seeds: {'figure defaults' if seeds is None else seeds}; written {stamp}.  ",
        f"Summary: {len(ran)} figure(s) ran, {n_held}/{n_claims} checked statements held; "
        f"{len(failed)} failed; {len(missing)} not implemented yet.",
        "",
        "| Figure | Result | Time |",
        "|---|---|---|",
    ]
    for outcome in outcomes:
        time_text = "" if outcome.status == "missing" else f"{outcome.seconds:.1f} s"
        lines.append(f"| [{outcome.label}](#{outcome.label}) | {_status_text(outcome)} | {time_text} |")
    lines.append("")
    for outcome in outcomes:
        lines += _figure_section(outcome)
    return "\n".join(lines).rstrip() + "\n"


def write_report(path, outcomes, **kwargs) -> Path:
    """Write REPORT.md (see ``render_report`` for the keyword arguments)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(outcomes, **kwargs))
    return path
