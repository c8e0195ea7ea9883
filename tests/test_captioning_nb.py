"""Notebook 04 (image captioning): a submission whose sampler never stops at <END> loses exactly the sampling
points (both sampling tests, visible and hidden) and nothing else."""
import re

import nbformat
import pytest

from rnngrade.course import Course
from rnngrade.grading import grade_submission
from submissions import make_submission, solution_sources

COURSE = Course.here()
SOLUTION = COURSE.solutions / "04_captioning" / "captioning.ipynb"
RELEASE = COURSE.release_dir / "04_captioning" / "captioning.ipynb"
SAMPLING_TESTS = {"test_sample_captions", "test_sample_captions_hidden"}

# The two lines of the solution's sample_captions that finish a caption at its <END>.
MASK_LINE = "chosen = torch.where(finished, torch.full_like(chosen, NULL), chosen)"
BREAK = re.compile(r"\n[ \t]*if bool\(finished\.all\(\)\):\n[ \t]*break[ \t]*(?=\n)")


def never_stopping_sampler() -> str:
    """The solution's sample_captions with the stopping removed: rows go on with real words after <END>."""
    src = solution_sources(SOLUTION)["sample_captions"]
    assert MASK_LINE in src and BREAK.search(src), "the solution's sample_captions changed: update this test"
    src = BREAK.sub("", re.sub(r"\n[ \t]*" + re.escape(MASK_LINE) + r".*", "", src))
    compile(src, "never_stopping_sampler", "exec")            # still valid code: only the stopping is gone
    return src


def test_never_stopping_sampler_really_goes_on_after_end():
    import torch

    ns = {}
    nb = nbformat.read(str(SOLUTION), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "setup":
            ns_src = "\n".join(ln for ln in cell.source.splitlines() if not ln.startswith("%"))
            exec(ns_src, ns)

    class Echo(torch.nn.Module):   # predicts <END>; after <END> or <NULL> it predicts word 5 instead
        def forward(self, images, words, state=None):
            scores = torch.zeros(words.shape[0], words.shape[1], 6)
            scores[..., 2] = 1.0
            scores[..., 5] = 2.0 * ((words == 2) | (words == 0))
            return scores, state

    exec(solution_sources(SOLUTION)["sample_captions"], ns)
    assert ns["sample_captions"](Echo(), torch.zeros(2, 3, 8, 8), max_length=4)[0].tolist() == [2, 0, 0, 0]
    exec(never_stopping_sampler(), ns)
    assert ns["sample_captions"](Echo(), torch.zeros(2, 3, 8, 8), max_length=4)[0].tolist() == [2, 5, 2, 5]


@pytest.mark.skipif(not RELEASE.exists(), reason="run `make release` first")
def test_sampler_that_never_stops_loses_exactly_the_sampling_points(tmp_path):
    sub = make_submission(RELEASE, SOLUTION, tmp_path / "sub" / "captioning.ipynb",
                          answers={"sample_captions": never_stopping_sampler()})
    r = grade_submission(COURSE, sub.parent, "nostop", feedback=False)
    nb04 = [t for t in r.auto_tests if t.notebook == "captioning"]
    assert nb04, [t.notebook for t in r.auto_tests]
    failed = {t.grade_id for t in nb04 if t.score < t.max_score}
    assert failed == SAMPLING_TESTS, {t.grade_id: t.output[-400:] for t in nb04
                                      if t.grade_id in failed ^ SAMPLING_TESTS}
    assert all(t.score == 0 for t in nb04 if t.grade_id in SAMPLING_TESTS)
    kept = sum(t.max_score for t in nb04 if t.grade_id not in SAMPLING_TESTS)
    assert sum(t.score for t in nb04) == kept > 0
    visible = next(t for t in nb04 if t.grade_id == "test_sample_captions")
    assert "<END>" in visible.output and "<NULL>" in visible.output, visible.output   # the hint names the mistake
