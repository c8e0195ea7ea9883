"""rnnlab: the helper package of the RNN workbook.

Modules, one concern each:

- ``rnnlab.compare``   -- ``rel_error`` (the workbook's one definition), ``scaled_error`` for float32, the
                         named tolerances ``TOL``, and checks with actionable messages
- ``rnnlab.gradcheck`` -- numerical gradients by centred differences (float64)
- ``rnnlab.runtime``   -- quick mode for grading/CI, seeding, device choice, progress bars
- ``rnnlab.text``      -- character vocabularies for language models (no special tokens)
- ``rnnlab.vocab``     -- vocabularies with <NULL>, <START>, <END>, <UNK> (words, tokens or characters) and padding,
                         for the captioning and sequence-to-sequence notebooks
- ``rnnlab.corpora``   -- text corpora: download once, checksum, cache, mirror, offline fallback
- ``rnnlab.batching``  -- contiguous batches for truncated BPTT
- ``rnnlab.plotting``  -- loss curves
- ``rnnlab.textviz``   -- text coloured by activation values (HTML for notebooks)
- ``rnnlab.captions``  -- image captioning data: a generated shapes dataset, the COCO format, BLEU
- ``rnnlab.seq2seq_data`` -- sequence-to-sequence data: generated dates and a word-reordering language, sentence
                         pairs in the Tatoeba format, batches
- ``rnnlab.clips``     -- generated video clips of a bouncing shape, with per-clip and per-frame labels
- ``rnnlab.testing``   -- for test cells: stand-in modules and optimizers placed where the grader runs your code
- ``rnnlab.strict``    -- the warnings rule of test cells (``strict_numerics``): numerical warnings fail, others
  are notes
- ``rnnlab.expected``  -- stored expected values (fixed inputs and outputs) for visible tests
- ``rnnlab.states``    -- recurrent states in test cells: ``check_state`` (the one implementation)
- ``rnnlab.gates``     -- LSTM gate layouts: the workbook's (i, f, o, g) and PyTorch's (i, f, g, o)
- ``rnnlab.schedules`` -- learning-rate schedules (warm-up then cosine decay)
- notebook infrastructure (recipes, experiments, plots and test-cell helpers that call your code, never answer
  for it): ``rnn_recipes``, ``rnn_experiments``, ``rnn_checks``, ``memory_task``, ``lstm_variants`` (01-02); ``charlm``,
  ``charlm_recipe``, ``charlm_threads``, ``charlm_units``, ``charlm_testing`` (03); ``captioning``,
  ``captioning_plots``, ``captioning_checks`` (04); ``seq2seq_train``, ``seq2seq_checks`` (05); ``clips_train``,
  ``clips_plots``, ``clips_checks`` (06); ``code_corpus``, ``code_features``, ``code_lm``, ``code_checks`` (07);
  ``glimpse_data``, ``glimpse_train``, ``glimpse_checks``, ``drawing``, ``drawing_checks`` (08); ``lstm_variants`` (02);
  ``states`` (state checks shared by 03 and 04)

It never contains the answer to a graded exercise.
"""
from .compare import TOL, Tolerance, check_close, check_close_f32, check_shape, rel_error, scaled_error
from .gradcheck import numerical_gradient, numerical_gradient_array
from .runtime import get_device, is_quick, pick, progress, seed_everything
from .batching import StreamBatcher
from .corpora import load_text, split_text
from .text import CharVocab
from .textviz import text_heatmap_html
from .vocab import Vocabulary
from .captions import CaptionSet, bleu, load_coco_captions, make_shapes_captions
from .strict import strict_numerics
from .expected import load_expected

__all__ = [
    "rel_error", "scaled_error", "check_close", "check_close_f32", "check_shape", "TOL", "Tolerance",
    "numerical_gradient", "numerical_gradient_array",
    "is_quick", "pick", "seed_everything", "get_device", "progress",
    "CharVocab", "load_text", "split_text", "StreamBatcher", "text_heatmap_html",
    "CaptionSet", "Vocabulary", "bleu", "load_coco_captions", "make_shapes_captions",
    "strict_numerics", "load_expected",
]
__version__ = "0.1.0"
