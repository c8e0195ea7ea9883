"""Text coloured by numbers: one background colour per character, as HTML (for notebooks)."""
from __future__ import annotations

import html

import numpy as np

__all__ = ["activation_color", "text_heatmap_html"]


def activation_color(value: float, vmin: float = -1.0, vmax: float = 1.0) -> str:
    """A CSS colour for ``value`` on a diverging scale: blue at ``vmin``, white at the middle, red at ``vmax``.

    Values outside [vmin, vmax] are clipped; NaN is white. Returns ``"rgb(r, g, b)"``.
    """
    if not vmax > vmin:
        raise ValueError(f"need vmin < vmax, got {vmin}, {vmax}")
    if not np.isfinite(value):
        return "rgb(255, 255, 255)"
    s = (2.0 * (float(value) - vmin) / (vmax - vmin)) - 1.0       # -1 .. 1
    s = min(1.0, max(-1.0, s))
    fade = int(round(255 * (1 - abs(s))))                        # the two channels that fade towards the colour
    return f"rgb(255, {fade}, {fade})" if s >= 0 else f"rgb({fade}, {fade}, 255)"


def text_heatmap_html(text: str, values, vmin: float | None = None, vmax: float | None = None,
                      title: str = "") -> str:
    """HTML that shows ``text`` with each character's background coloured by ``values`` (one per character).

    The scale is symmetric around 0 by default (``vmax = max |values|``, ``vmin = -vmax``): red for positive,
    blue for negative, white for 0. Newlines are kept (shown as a coloured ``\u21b5`` followed by a line break),
    spaces stay visible as coloured boxes, and every character is HTML-escaped. Hovering over a character shows
    its value. Display it in a notebook with ``IPython.display.HTML(text_heatmap_html(...))``.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(values) != len(text):
        raise ValueError(f"text has {len(text)} characters but values has {len(values)} entries")
    finite = values[np.isfinite(values)]
    if vmax is None:
        vmax = float(np.max(np.abs(finite))) if finite.size else 1.0
        vmax = vmax if vmax > 0 else 1.0
    if vmin is None:
        vmin = -vmax
    spans = []
    for ch, v in zip(text, values):
        shown = "\u21b5" if ch == "\n" else html.escape(ch)
        spans.append(f'<span style="background-color:{activation_color(v, vmin, vmax)}" '
                     f'title="{v:.3f}">{shown}</span>' + ("<br>" if ch == "\n" else ""))
    head = f"<div><b>{html.escape(title)}</b></div>" if title else ""
    return (f'{head}<div style="font-family:monospace; white-space:pre; line-height:1.5; '
            f'color:black">{"".join(spans)}</div>')
