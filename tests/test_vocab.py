"""rnnlab.vocab.Vocabulary: the one vocabulary class of the captioning and sequence-to-sequence notebooks."""
import numpy as np
import pytest

import rnnlab.captions
import rnnlab.seq2seq_data
from rnnlab.vocab import Vocabulary, pad_sequences


def test_one_class_for_captions_and_pairs():
    assert rnnlab.captions.Vocabulary is Vocabulary is rnnlab.seq2seq_data.Vocabulary
    assert rnnlab.captions.pad_sequences is pad_sequences is rnnlab.seq2seq_data.pad_sequences


def test_the_three_levels_cut_texts_as_documented():
    text = "Don't go, Bob!"
    assert Vocabulary([], level="word").tokens(text) == ["don", "t", "go", "bob"]         # lowercase, no punctuation
    assert Vocabulary([], level="token").tokens(text) == ["Don't", "go", ",", "Bob", "!"]
    assert Vocabulary([], level="char").tokens("ab c") == ["a", "b", " ", "c"]
    with pytest.raises(ValueError, match="level"):
        Vocabulary.build(["a"], level="words")


def test_ids_by_frequency_then_alphabet_and_round_trips():
    v = Vocabulary.build(["A red circle.", "a blue circle"])       # a: 2, circle: 2, blue: 1, red: 1
    assert v.itos == ["<NULL>", "<START>", "<END>", "<UNK>", "a", "circle", "blue", "red"]
    assert v.encode("a red square") == [1, 4, 7, 3, 2]
    assert v.encode("a red square", add_special=False) == [4, 7, 3]
    assert v.decode([1, 4, 7, 3, 2, 5, 0]) == "a red <UNK>"             # stops at <END>
    assert v.decode([1, 4, 2, 5], stop_at_end=False) == "a circle"
    assert v.decode([4, 99, -1]) == "a <UNK> <UNK>"                     # ids outside the vocabulary
    c = Vocabulary.build(["2001-12-24"], level="char")
    assert c.decode(c.encode("2001-12-24")) == "2001-12-24"
    t = Vocabulary.build(["Go now !"], level="token", min_count=1, max_size=2)
    assert len(t) == 6 and t.decode(t.encode("Go now !")).count("<UNK>") == 1


def test_encode_batch_pads_with_null_and_masks():
    v = Vocabulary.build(["a b", "a"])
    ids, mask = v.encode_batch(["a b", "a", "b b b"], max_length=2)
    assert ids.tolist() == [[1, 4, 5, 2], [1, 4, 2, 0], [1, 5, 5, 2]]
    assert mask.tolist() == [[True] * 4, [True, True, True, False], [True] * 4]
    assert ids.dtype == np.int64 and mask.dtype == bool
