"""rnnlab.textviz: text coloured by activation values."""
import re

import numpy as np
import pytest

from rnnlab.textviz import activation_color, text_heatmap_html


def test_activation_color_ends_and_middle():
    assert activation_color(1.0) == "rgb(255, 0, 0)"        # vmax: full red
    assert activation_color(-1.0) == "rgb(0, 0, 255)"       # vmin: full blue
    assert activation_color(0.0) == "rgb(255, 255, 255)"    # the middle: white
    assert activation_color(0.5) == "rgb(255, 128, 128)"    # half way to red: round(255 * 0.5) = 128
    assert activation_color(float("nan")) == "rgb(255, 255, 255)"


def test_activation_color_clips_and_uses_the_range():
    assert activation_color(7.0) == activation_color(1.0)
    assert activation_color(-7.0) == activation_color(-1.0)
    assert activation_color(10.0, vmin=0.0, vmax=10.0) == "rgb(255, 0, 0)"
    assert activation_color(5.0, vmin=0.0, vmax=10.0) == "rgb(255, 255, 255)"
    with pytest.raises(ValueError):
        activation_color(0.0, vmin=1.0, vmax=1.0)


def test_text_heatmap_html_one_span_per_character_escaped():
    text = "a<b\n&"
    out = text_heatmap_html(text, [1.0, -1.0, 0.0, 0.5, -0.5], title="unit <3>")
    spans = re.findall(r'<span style="background-color:(rgb\([^)]*\))" title="([^"]*)">(.*?)</span>', out)
    assert [s[2] for s in spans] == ["a", "&lt;", "b", "\u21b5", "&amp;"]
    assert spans[0][0] == "rgb(255, 0, 0)" and spans[1][0] == "rgb(0, 0, 255)"   # symmetric scale, vmax = 1
    assert [s[1] for s in spans] == ["1.000", "-1.000", "0.000", "0.500", "-0.500"]
    assert "<br>" in out and "unit &lt;3&gt;" in out and "<3>" not in out


def test_text_heatmap_html_scale_and_errors():
    out = text_heatmap_html("ab", np.array([2.0, 1.0]))            # vmax = 2: 1.0 is half way
    assert "rgb(255, 128, 128)" in out
    out = text_heatmap_html("ab", [0.0, 0.0])                       # all zero: no division by zero
    assert out.count("rgb(255, 255, 255)") == 2
    with pytest.raises(ValueError, match="2 characters"):
        text_heatmap_html("ab", [1.0])
