"""Grader-side reference code: oracles, reference implementations and stand-ins whose behaviour is an answer.

Everything that computes a graded quantity lives here, never in what students receive (``notebooks/`` and
``helpers/rnnlab``). Only **hidden** test cells import these modules (inside ``### BEGIN HIDDEN TESTS``, which the
release removes), and they run in the judge kernel, never in the student's. Visible tests instead use numerical
gradients, library built-ins of another kind, or stored expected values (``rnnlab.expected``) that
``rnngrade.oracles.expected`` computes from these oracles.

One module per notebook (named after the notebook, e.g. ``rnngrade.oracles.lstm``), plus shared pieces.
"""
