"""rnngrade.sanitize without a browser: formatting survives, everything that could run is gone (the browser test,
tests/test_browser.py, checks the same pages in Chromium)."""
import re

import nbformat
import pytest

from rnngrade.sanitize import SafeHTMLExporter, clean_html

ATTACKS = {
    "script": '<script>document.title = "pwned"</script>',
    "onerror": '<img src="x" onerror="document.title=\'pwned\'">',
    "onclick": '<b onclick="steal()">bold</b>',
    "javascript link": '<a href="javascript:steal()">link</a>',
    "javascript link, obfuscated": '<a href="  JaVaScRiPt&#x3A;steal()">link</a>',
    "javascript link, tab inside": '<a href="java\tscript:steal()">link</a>',
    "data html link": '<a href="data:text/html;base64,PHNjcmlwdD4=">link</a>',
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "object": '<object data="evil.swf"></object>',
    "embed": '<embed src="evil.swf">',
    "svg onload": '<svg onload="steal()"><circle r="1"/></svg>',
    "style tag": '<style>body { display: none }</style>',
    "form": '<form action="https://evil.example/"><input name="x"></form>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "css position": '<span style="position: fixed; top: 0">over everything</span>',
}
RUNNABLE = re.compile(r"<\s*(script|iframe|object|embed|svg|style|form|meta)|\son\w+\s*=|javascript:|data:text|"
                      r"position", re.I)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_clean_html_removes_what_could_run(name):
    out = clean_html("<p>before " + ATTACKS[name] + " after</p>")
    assert not RUNNABLE.search(out), out
    assert out.startswith("<p>before") and out.endswith("after</p>"), out


def test_clean_html_keeps_formatting():
    html = ('<h2 id="x">Title</h2><p>Some <em>text</em>, <strong>bold</strong>, <code>code</code>, '
            '<a href="https://example.org/a?b=1#c">a link</a>, <a href="#anchor">an anchor</a>, '
            '<span style="color: red;">red</span>.</p><table><thead><tr><th>a</th></tr></thead>'
            '<tbody><tr><td>1</td></tr></tbody></table><img src="data:image/png;base64,iVBORw0KGgo=" alt="plot">'
            '<ul><li>one</li></ul><pre>x &lt; y</pre>')
    assert clean_html(html) == html


def _export(markdown: str, outputs=()) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown),
                                         nbformat.v4.new_code_cell("x", outputs=list(outputs))])
    body, _ = SafeHTMLExporter().from_notebook_node(nb)
    return body


def _cells(body: str) -> str:
    """The notebook's part of the page (the template's own scripts and styles come before it)."""
    return body[body.index('<main>'):]


def test_markdown_renders_and_maths_is_left_for_mathjax():
    body = _cells(_export("# Heading\n\nSome *emphasis* and $a_t < b^2$.\n\n| x | y |\n|---|---|\n| 1 | 2 |"))
    assert re.search(r"<h1[^>]*>Heading", body) and "<em>emphasis</em>" in body
    assert "<table>" in body and "<td>1</td>" in body
    assert "$a_t &lt; b^2$" in body                 # MathJax typesets the text; the < stays an entity
    assert "&lt;h1" not in body and "&lt;p&gt;" not in body    # no tag shown as text


def test_student_markdown_and_outputs_run_nothing():
    html_out = nbformat.v4.new_output("display_data", data={
        "text/html": '<b>table</b><script>steal()</script><img src=x onerror="steal()">',
        "application/javascript": "steal()", "text/plain": "plain"})
    body = _cells(_export("An answer " + " ".join(ATTACKS.values()), outputs=[html_out]))
    assert "<b>table</b>" in body
    assert not RUNNABLE.search(body), RUNNABLE.search(body)
