"""Per-character features of Python source code, computed from the text itself (notebook 07, section 4).

:func:`code_features` reads a text with Python's own tokenizer (:mod:`tokenize`) and returns, for every character,
what a reader of the code knows at that character:

- ``"in string"``: 1 for every character of a string literal (prefix, quotes and contents; a whole f-string,
  the expressions in its braces included), else 0;
- ``"in comment"``: 1 for every character of a ``#`` comment, the ``#`` included (not the newline after it);
- ``"bracket depth"``: the number of brackets ``( [ {`` open after reading the character (an opening bracket
  counts itself, a closing one does not); brackets inside strings and comments do not count;
- ``"indent level"``: the indentation level of the block the character belongs to (0 at module level, 1 inside a
  ``def`` or ``class`` body, ...), as the tokenizer's INDENT/DEDENT tokens define it; the new level starts at the
  first character of the indented line;
- ``"position in line"``: the number of characters since the last newline (the newline itself has the position
  of the character after the line's last one);
- ``"in if"``: 1 inside an ``if`` or ``elif`` statement, from its keyword to the end of its block (or to the end
  of its line for a one-line ``if x: y``), else 0; nested statements are simply inside.

All arrays are float64 of shape (len(text),). The text must be Python that the tokenizer of the running version
accepts (a concatenation of whole files is fine); otherwise ValueError. :data:`FEATURES` lists the names.
"""
from __future__ import annotations

import io
import tokenize

import numpy as np

__all__ = ["FEATURES", "code_features"]

FEATURES = ("in string", "in comment", "bracket depth", "indent level", "position in line", "in if")
_STRING_TYPES = {tokenize.STRING}
_STRING_START = {getattr(tokenize, n) for n in ("FSTRING_START", "TSTRING_START") if hasattr(tokenize, n)}
_STRING_END = {getattr(tokenize, n) for n in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, n)}


def _tokens(text: str):
    """The tokens of ``text`` and the character offset at which each line starts (rows count from 1)."""
    lines = io.StringIO(text).readlines()                 # splits at "\n" only, as the tokenizer's readline does
    starts = np.concatenate([[0, 0], np.cumsum([len(line) for line in lines])]).astype(int)
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:     # IndentationError is a SyntaxError
        raise ValueError(f"code_features needs text that Python's tokenizer accepts: {exc}") from None
    return toks, starts


def code_features(text: str) -> dict[str, np.ndarray]:
    """Per-character features of Python code (see the module docstring): name -> float64 array (len(text),)."""
    n = len(text)
    toks, starts = _tokens(text)

    def offset(pos):
        row, col = pos
        return min(int(starts[row]) + col, n)

    in_string, in_comment = np.zeros(n), np.zeros(n)
    bracket_delta, indent_delta, in_if = np.zeros(n + 1), np.zeros(n + 1), np.zeros(n)
    string_nesting, string_from = 0, 0
    level, at_statement_start = 0, True
    open_ifs = []              # one dict per open if/elif: start offset, indent level, phase, end of its header line
    for tok in toks:
        a, b = offset(tok.start), offset(tok.end)
        line_offset = offset((tok.start[0], 0))
        if tok.type in _STRING_START:
            if string_nesting == 0:
                string_from = a
            string_nesting += 1
        elif tok.type in _STRING_END:
            string_nesting -= 1
            if string_nesting == 0:
                in_string[string_from:b] = 1
        elif tok.type in _STRING_TYPES and string_nesting == 0:
            in_string[a:b] = 1
        elif tok.type == tokenize.COMMENT:
            in_comment[a:b] = 1
        elif tok.type == tokenize.OP and string_nesting == 0 and tok.string in "([{":
            bracket_delta[a] += 1                         # counts from the bracket itself
        elif tok.type == tokenize.OP and string_nesting == 0 and tok.string in ")]}":
            bracket_delta[b] -= 1                         # the closing bracket is still inside
        # if statements: "header" until the NEWLINE that ends the line, then "after" until the next real token:
        # an INDENT opens the body, anything else means the if was a one-liner (it ended with its line)
        if tok.type not in (tokenize.NL, tokenize.COMMENT):
            while open_ifs and open_ifs[-1]["phase"] == "after" and tok.type != tokenize.INDENT:
                done = open_ifs.pop()
                in_if[done["start"]:done["line_end"]] = 1
        if tok.type == tokenize.INDENT:
            level += 1
            indent_delta[line_offset] += 1
            if open_ifs and open_ifs[-1]["phase"] == "after":
                open_ifs[-1]["phase"] = "body"
        elif tok.type == tokenize.DEDENT:
            level -= 1
            indent_delta[line_offset] -= 1
            while open_ifs and open_ifs[-1]["phase"] == "body" and level <= open_ifs[-1]["level"]:
                in_if[open_ifs.pop()["start"]:line_offset] = 1
        elif tok.type == tokenize.NEWLINE:
            for entry in open_ifs:
                if entry["phase"] == "header":
                    entry.update(phase="after", line_end=b)
        elif tok.type == tokenize.NAME and at_statement_start and tok.string in ("if", "elif"):
            open_ifs.append({"start": a, "level": level, "phase": "header"})
        if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            at_statement_start = True
        elif tok.type not in (tokenize.NL, tokenize.COMMENT):
            at_statement_start = False
    for entry in open_ifs:                                # still open at the end of the text
        in_if[entry["start"]:entry.get("line_end", n) if entry["phase"] == "after" else n] = 1
    bracket = np.cumsum(bracket_delta)[:n]
    indent = np.cumsum(indent_delta)[:n]
    pos = np.zeros(n)
    line_start = 0
    for k, ch in enumerate(text):
        pos[k] = k - line_start
        if ch == "\n":
            line_start = k + 1
    return {"in string": in_string, "in comment": in_comment, "bracket depth": bracket, "indent level": indent,
            "position in line": pos, "in if": in_if}
