"""HTML that is safe to open: what students wrote is shown formatted, and nothing in it can run in the reader's browser.

Feedback pages and review pages show student-written markdown (and the outputs of student code) to students and
instructors. ``clean_html`` keeps formatting (headings, paragraphs, lists, tables, code, links, images, maths,
which MathJax typesets from the text) and removes everything that could run: ``<script>``, ``<style>``, iframes,
objects, embeds, forms, SVG and MathML islands (with their content), every event-handler attribute (``onerror``,
``onclick``, ...), and links or sources whose scheme is not http(s), mailto or an inline raster image
(``javascript:`` and ``data:text/html`` are dropped). It uses bleach (html5lib's parser, as browsers parse), the
sanitiser nbconvert itself uses.

``SafeHTMLExporter`` is nbconvert's HTML exporter with markdown rendered first and sanitised after (nbconvert's own
``sanitize_html`` escapes the rendered markdown, so pages showed raw tags), and code outputs made safe: HTML
outputs sanitised, JavaScript, widget and SVG outputs dropped.
"""
from __future__ import annotations

import re

import bleach
from jinja2 import pass_context
from bleach.css_sanitizer import CSSSanitizer
from nbconvert import HTMLExporter
from nbconvert.preprocessors.sanitize import SanitizeHTML

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var",
})
# Elements removed together with everything inside them (their content is code or another document, not text).
DROP_WITH_CONTENT = ("script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math", "form",
                     "frameset", "frame", "applet", "textarea", "select", "button", "title", "base", "link", "meta")
COMMON_ATTRS = ["id", "class", "title", "lang", "dir", "style"]
STYLES = ["color", "background-color", "font-weight", "font-style", "text-align", "text-decoration",
          "vertical-align", "width", "max-width", "height"]
RASTER_DATA_URI = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$", re.I)
SAFE_SCHEMES = ("http:", "https:", "mailto:")


def _link_ok(value: str) -> bool:
    v = re.sub(r"[\x00-\x20]", "", value).lower()
    return ":" not in v.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0] or v.startswith(SAFE_SCHEMES)


def _attribute_ok(tag: str, name: str, value: str) -> bool:
    if name in COMMON_ATTRS:
        return True
    if tag == "a" and name in ("href", "rel", "target"):
        return name != "href" or _link_ok(value)
    if tag == "img" and name in ("src", "alt", "width", "height"):
        return name != "src" or _link_ok(value) or bool(RASTER_DATA_URI.match(value))
    if tag in ("td", "th") and name in ("colspan", "rowspan", "align"):
        return True
    if tag == "ol" and name in ("start", "type"):
        return True
    if tag == "details" and name == "open":
        return True
    return False


_CLEANER = bleach.Cleaner(tags=TAGS, attributes=_attribute_ok,
                          protocols=frozenset({"http", "https", "mailto", "data"}), strip=True, strip_comments=True,
                          css_sanitizer=CSSSanitizer(allowed_css_properties=STYLES))
_DROP_RE = re.compile(r"<(%s)\b[^>]*>.*?</\1\s*>" % "|".join(DROP_WITH_CONTENT), re.I | re.S)


def clean_html(html: str) -> str:
    """``html`` with only formatting kept (see the module docstring). Safe to place in a page as it is."""
    # Emptying the elements that hold code first only spares the reader their text: bleach's pass after it is what
    # makes the result safe, whatever this pass misses.
    return _CLEANER.clean(_DROP_RE.sub("", html))


class _SanitizeOutputs(SanitizeHTML):
    """nbconvert's output sanitising (drops JavaScript, widgets, SVG; HTML through ``clean_html``); markdown cells are
    left to the exporter's markdown filter, which sanitises the rendered HTML."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code":
            cell.outputs = self.sanitize_code_outputs(cell.outputs)
        elif cell.cell_type == "raw":
            cell.source = clean_html(cell.source)
        return cell, resources

    def sanitize_html_tags(self, html_str):
        return clean_html(html_str)


class SafeHTMLExporter(HTMLExporter):
    """HTML export (JupyterLab's look, MathJax) of notebooks that hold untrusted markdown and outputs."""

    def __init__(self, **kw):
        kw.setdefault("template_name", "lab")
        super().__init__(**kw)
        self.sanitize_html = False   # nbconvert's own pass escapes rendered markdown; ours sanitises it instead
        outputs = _SanitizeOutputs(parent=self)
        outputs.sanitized_output_types = {"text/html"}
        outputs.safe_output_keys = outputs.safe_output_keys | {"text/markdown"}   # rendered by markdown2html
        self.register_preprocessor(outputs, enabled=True)

    @pass_context
    def markdown2html(self, context, source):
        """Markdown (with maths left for MathJax) to HTML, then sanitised."""
        return clean_html(HTMLExporter.markdown2html(self, context, source))
