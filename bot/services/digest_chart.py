"""The digest's trends as a small PNG (matplotlib's Agg backend: no display, no pyplot
state shared between threads)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

SIZE_INCHES = (7.0, 4.2)
DPI = 100
SHARES = ("coverage", "check-in responses", "cadence adherence")
COUNT = "sessions per manager"


def trends_png(weeks: Sequence[str], series: Mapping[str, Sequence[float | None]]) -> bytes:
    """Shares (0-100 %) as lines above, sessions per manager as bars below, one point per
    week (oldest first); a week without a figure leaves a gap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    shares, counts = figure.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    x = list(range(len(weeks)))
    for name in SHARES:
        values = [float("nan") if v is None else 100 * v for v in series.get(name, ())]
        shares.plot(x[:len(values)], values, marker="o", label=name)
    shares.set_ylim(0, 105)
    shares.set_ylabel("%")
    shares.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(SHARES),
                  fontsize="small", frameon=False)
    shares.grid(alpha=0.3)
    bars = [0.0 if v is None else v for v in series.get(COUNT, ())]
    counts.bar(x[:len(bars)], bars, color="tab:gray")
    counts.set_ylabel(COUNT, fontsize="small")
    counts.set_xticks(x, list(weeks), fontsize="small")
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
