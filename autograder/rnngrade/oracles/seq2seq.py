"""Grader-side oracles of notebook 05 (sequence to sequence), for its hidden tests and its stored expected values.

Everything here computes a graded answer (an encoder's outputs, a decoder's logits, the teacher-forced loss, greedy
decoding, additive attention) by an independent route: every sequence run alone through a fresh float64 ``nn.GRU``,
the masked mean of ``-log softmax`` written out, decoding one sequence at a time, attention as a NumPy loop. Hidden
test cells import it inside ``### BEGIN HIDDEN TESTS``; the ``check_*`` functions compare a student's result with
the oracle and raise an ``AssertionError`` whose message names the likely mistake.

The producer ``seq2seq`` writes ``rnnlab/expected/seq2seq.npz``: fixed weights, inputs and outputs for the visible
tests of ``Encoder``, ``Decoder``, ``seq2seq_loss`` and ``additive_attention``.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from rnnlab.compare import check_close, check_close_f32, check_shape
from rnnlab.seq2seq_checks import END, NULL, START, ToyDecoder, ToyEncoder, loss_mistake, make_src_batch
from rnnlab.seq2seq_train import source_mask
from rnnlab.testing import student_side

from .expected import producer

# -- Encoder ---------------------------------------------------------------------------------------------------


def gru_oracle(rnn, x, h0=None):
    """A fresh float64 nn.GRU with rnn's weights, run on x (N, T, D) in float64: (outputs, h)."""
    ref = nn.GRU(rnn.input_size, rnn.hidden_size, batch_first=True, dtype=torch.float64)
    ref.load_state_dict({k: v.double() for k, v in rnn.state_dict().items()})
    with torch.no_grad():
        return ref(x.double(), None if h0 is None else h0.double())


def encoder_oracle(encoder, src, src_len):
    """Every sequence alone, unpadded: (outputs: list of (L_n, H) arrays, finals (N, H), after_pad (N, H))."""
    for name in ("embed", "rnn"):
        if not hasattr(encoder, name):
            raise AssertionError(f"the encoder has no attribute `{name}`: name its layers embed and rnn.")
    if encoder.rnn.__class__ is not nn.GRU:
        raise AssertionError(f"encoder.rnn is a {encoder.rnn.__class__.__name__}; the text asks for an nn.GRU.")
    outs, finals, after_pad = [], [], []
    W = encoder.embed.weight.detach().double()
    for n in range(src.shape[0]):
        L = int(src_len[n])
        out, h = gru_oracle(encoder.rnn, F.embedding(src[n:n + 1, :L], W))
        outs.append(out[0].numpy())
        finals.append(h[0, 0].numpy())
        after_pad.append(gru_oracle(encoder.rnn, F.embedding(src[n:n + 1], W))[1][0, 0].numpy())
    return outs, np.stack(finals), np.stack(after_pad)


def run_encoder(encoder, src, src_len):
    """Call the student's encoder; check the pair and the shapes; (outputs, h) as float64 arrays."""
    try:
        result = encoder(src, src_len)
    except RuntimeError as exc:
        raise AssertionError(f"the encoder raised RuntimeError: {exc}. Likely cause: src_len on the wrong device "
                             "(packing wants the lengths on the CPU) or a shape mix-up.") from None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError("Encoder.forward must return a pair (outputs, h).")
    outputs, h = result
    N, S = src.shape
    check_shape("encoder outputs", outputs, (N, S, encoder.rnn.hidden_size))
    check_shape("encoder final state h", h, (1, N, encoder.rnn.hidden_size))
    return outputs.detach().double().numpy(), h.detach().double().numpy()


def check_encoder(encoder, src, src_len, tol, label=""):
    outs, finals, after_pad = encoder_oracle(encoder, src, src_len)
    outputs, h = run_encoder(encoder, src, src_len)
    hint = "the final state must be the state after each sequence's last REAL token, not after the padding."
    if any(int(L) < src.shape[1] for L in src_len) and np.allclose(h[0], after_pad, atol=1e-6) \
            and not np.allclose(after_pad, finals, atol=1e-6):
        raise AssertionError(f"h{label} is the state after the PADDING (position S - 1) for the shorter sequences.")
    worst = check_close(f"encoder final state h{label}", h[0], finals, tol, hint=hint)
    for n, L in enumerate(src_len.tolist()):
        worst = max(worst, check_close(f"encoder outputs{label} of sequence {n} (its {L} real positions)",
                                       outputs[n, :L], outs[n], tol,
                                       hint="outputs[n, s] is the GRU's state after source token s, from a zero "
                                            "state."))
    return worst

# -- Decoder ---------------------------------------------------------------------------------------------------


def decoder_oracle(dec, y_in, state):
    """F.embedding, a fresh float64 nn.GRU from ``state`` and F.linear with the decoder's own weights."""
    for name in ("embed", "rnn", "readout"):
        if not hasattr(dec, name):
            raise AssertionError(f"the decoder has no attribute `{name}`: name its layers embed, rnn and readout.")
    out, new_state = gru_oracle(dec.rnn, F.embedding(y_in, dec.embed.weight.detach().double()), state)
    b = dec.readout.bias
    logits = F.linear(out, dec.readout.weight.detach().double(), None if b is None else b.detach().double())
    return logits.numpy(), new_state.numpy()


def run_decoder(dec, y_in, state):
    result = dec(y_in, state)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError("Decoder.forward must return a pair (logits, state).")
    logits, new_state = result
    check_shape("decoder logits", logits, (y_in.shape[0], y_in.shape[1], dec.readout.out_features))
    check_shape("decoder state", new_state, tuple(state.shape))
    return logits.detach().double().numpy(), new_state.detach().double().numpy()


def check_separate_weights(enc, dec):
    """Zero every weight of the encoder: the decoder's logits must not change."""
    y_in = torch.tensor([[START, 4, 5, 6], [START, 6, 5, 4]])
    state = torch.tensor(np.random.default_rng(509).standard_normal((1, 2, dec.rnn.hidden_size)), dtype=torch.float32)
    before, _ = run_decoder(dec, y_in, state)
    enc.load_state_dict({k: torch.zeros_like(v) for k, v in enc.state_dict().items()})
    after, _ = run_decoder(dec, y_in, state)
    check_close_f32("decoder logits after zeroing every weight of the encoder", after, before, 1e-6,
                    hint="the encoder and the decoder share a weight: the decoder must build every layer of its own.")

# -- seq2seq_loss ----------------------------------------------------------------------------------------------


def loss_oracle(encoder, decoder, src, src_len, tgt):
    """The teacher-forced loss written out, and the values of common mistakes: (loss tensor, {mistake: value}),
    mistakes named as in ``rnnlab.seq2seq_checks.LOSS_MISTAKES``."""
    _, h = encoder(src, src_len)
    logits, _ = decoder(tgt[:, :-1], h)
    logp = torch.log_softmax(logits, dim=-1)
    y = tgt[:, 1:]
    real = (y != NULL)
    picked = logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
    loss = -(picked * real).sum() / real.sum()
    logits, picked = logits.detach(), picked.detach()
    wrong = {"unmasked": float(-picked.mean()),
             "no_shift": float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[:, :-1].reshape(-1),
                                               ignore_index=NULL)),
             "summed": float(-(picked * real).sum())}
    with torch.no_grad():
        no_state_logits, _ = decoder(tgt[:, :-1], None)
    wrong["no_state"] = float(F.cross_entropy(no_state_logits.reshape(-1, no_state_logits.shape[-1]), y.reshape(-1),
                                              ignore_index=NULL))
    return loss, wrong


def check_loss(seq2seq_loss, src, src_len, tgt, seeds=(0, 1), label=""):
    """The student's loss and its gradients (both stand-in networks) against ``loss_oracle``."""
    enc_ref, dec_ref = ToyEncoder(seed=seeds[0]), ToyDecoder(seed=seeds[1])
    enc, dec = student_side(ToyEncoder(seed=seeds[0])), student_side(ToyDecoder(seed=seeds[1]))
    loss = seq2seq_loss(enc, dec, src, src_len, tgt)
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        raise AssertionError(f"seq2seq_loss must return a scalar tensor, got {loss.__class__.__name__} "
                             f"{tuple(getattr(loss, 'shape', ()))}.")
    ref, wrong = loss_oracle(enc_ref, dec_ref, src, src_len, tgt)
    value = loss.detach().item()
    mistake = loss_mistake(value, float(ref.detach().item()), wrong)
    if mistake:
        raise AssertionError(f"seq2seq_loss{label}: {mistake}")
    err = check_close(f"loss{label}", value, ref.detach().item(), 1e-10)
    if not loss.requires_grad:
        raise AssertionError("the loss does not require grad: it was detached or computed without gradients.")
    loss.backward()
    ref.backward()
    for tag, mine, theirs in [("encoder", enc, enc_ref), ("decoder", dec, dec_ref)]:
        for (name, p), (_, q) in zip(mine.named_parameters(), theirs.named_parameters()):
            g = np.zeros(p.shape) if p.grad is None else p.grad.numpy()
            err = max(err, check_close(f"gradient of the {tag}'s {name}{label}", g, q.grad.numpy(), 1e-9,
                                       hint="the loss must depend on the encoder through the decoder's initial "
                                            "state, and on every real target token."))
    return err

# -- greedy_decode ---------------------------------------------------------------------------------------------


def greedy_oracle(encoder, decoder, src, src_len, max_len):
    """Greedy decoding by hand, ONE sequence at a time (batch of one), argmax at every step, stop at END."""
    results = []
    with torch.no_grad():
        for n in range(src.shape[0]):
            L = int(src_len[n])
            _, state = encoder(src[n:n + 1, :L], src_len[n:n + 1])
            y, out = START, []
            for _ in range(max_len):
                logits, state = decoder(torch.tensor([[y]]), state)
                y = int(torch.argmax(logits[0, -1]))
                if y == END:
                    break
                out.append(y)
            results.append(out)
    return results

# -- additive_attention ----------------------------------------------------------------------------------------


def attention_oracle(query, keys, mask, W_q, W_k, v):
    """Additive attention as a float64 NumPy loop over sequences and real positions: (context, weights)."""
    N, S, K = keys.shape
    context, weights = np.zeros((N, K)), np.zeros((N, S))
    for n in range(N):
        real = [j for j in range(S) if mask[n, j]]
        e = np.array([v @ np.tanh(query[n] @ W_q + keys[n, j] @ W_k) for j in real])
        a = np.exp(e - e.max())
        a /= a.sum()
        for w, j in zip(a, real):
            weights[n, j] = w
            context[n] += w * keys[n, j]
    return context, weights


def attention_case(rng, N, S, H, K, A, lengths):
    """Random inputs (float64 arrays) with loud padded keys (50.0)."""
    q, k = rng.standard_normal((N, H)), rng.standard_normal((N, S, K))
    m = np.arange(S)[None, :] < np.array(lengths)[:, None]
    k[~m] = 50.0
    return q, k, m, rng.standard_normal((H, A)), rng.standard_normal((K, A)), rng.standard_normal(A)


def check_attention(additive_attention, args, dtype=torch.float64, tol=1e-10, label=""):
    q, k, m, Wq, Wk, v = args
    t = lambda a: torch.tensor(a, dtype=dtype)  # noqa: E731
    result = additive_attention(t(q), t(k), torch.tensor(m), t(Wq), t(Wk), t(v))
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError("additive_attention must return a pair (context, weights).")
    context, weights = (r.detach().double().numpy() for r in result)
    ref_c, ref_w = attention_oracle(q, k, m, Wq, Wk, v)
    if np.any(np.abs(weights[~m]) > 0):
        raise AssertionError(f"weights{label} are not zero at the padding: the padded positions must get a score "
                             "of minus infinity before the softmax.")
    if not np.allclose(weights.sum(axis=1), 1.0, atol=1e-6):
        raise AssertionError(f"the attention weights{label} of a row do not sum to 1 (sums {weights.sum(axis=1)}).")
    check = check_close if dtype == torch.float64 else check_close_f32
    return max(check(f"attention weights{label}", weights, ref_w, tol),
               check(f"context{label}", context, ref_c, tol))

# -- stored expected values for the visible tests ----------------------------------------------------------------


def _state(module, prefix):
    return {f"{prefix}/{name}": p.detach().numpy().copy() for name, p in module.named_parameters()}


@producer("seq2seq")
def _expected():
    out = {}
    # Encoder(11, embed_dim=4, hidden_size=6) with seeded weights; lengths 5, 2, 4, 1; noisy padding
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        embed = nn.Embedding(11, 4, dtype=torch.float64)
        rnn = nn.GRU(4, 6, batch_first=True, dtype=torch.float64)
    enc = nn.Module()
    enc.embed, enc.rnn = embed, rnn
    src, src_len = make_src_batch(np.random.default_rng(500), 11, [5, 2, 4, 1])
    outs, finals, after_pad = encoder_oracle(enc, src, src_len)
    padded = np.zeros((4, 5, 6))
    for n, o in enumerate(outs):
        padded[n, :len(o)] = o
    out.update(_state(enc, "encoder"))
    out.update({"encoder/src": src.numpy(), "encoder/src_len": src_len.numpy(), "encoder/outputs": padded,
                "encoder/h": finals, "encoder/h_after_padding": after_pad})
    # Decoder(9, embed_dim=4, hidden_size=6)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        dec = nn.Module()
        dec.embed = nn.Embedding(9, 4, dtype=torch.float64)
        dec.rnn = nn.GRU(4, 6, batch_first=True, dtype=torch.float64)
        dec.readout = nn.Linear(6, 9, dtype=torch.float64)
    y_in = torch.tensor([[START, 4, 5, 8, 6], [START, 7, 7, 4, 5], [START, 6, 4, 4, 4]])
    state = torch.tensor(np.random.default_rng(502).standard_normal((1, 3, 6)))
    logits, new_state = decoder_oracle(dec, y_in, state)
    out.update(_state(dec, "decoder"))
    out.update({"decoder/y_in": y_in.numpy(), "decoder/state": state.numpy(), "decoder/logits": logits,
                "decoder/new_state": new_state})
    # seq2seq_loss with ToyEncoder(seed=0), ToyDecoder(seed=1)
    src, src_len = make_src_batch(np.random.default_rng(504), 9, [4, 2, 3])
    tgt = torch.tensor([[START, 4, 5, 6, 4, END], [START, 5, END, NULL, NULL, NULL], [START, 6, 6, 4, END, NULL]])
    enc_t, dec_t = ToyEncoder(seed=0), ToyDecoder(seed=1)
    loss, wrong = loss_oracle(enc_t, dec_t, src, src_len, tgt)
    loss.backward()
    out.update({"loss/src": src.numpy(), "loss/src_len": src_len.numpy(), "loss/tgt": tgt.numpy(),
                "loss/loss": np.array(loss.item())})
    for tag, m in (("encoder", enc_t), ("decoder", dec_t)):
        for name, p in m.named_parameters():
            out[f"loss/grad {tag}.{name}"] = p.grad.numpy().copy()
    for mistake, value in wrong.items():
        out[f"loss/wrong_{mistake}"] = np.array(value)
    # additive_attention
    q, k, m, Wq, Wk, v = attention_case(np.random.default_rng(509), 3, 5, 4, 6, 3, [5, 2, 3])
    context, weights = attention_oracle(q, k, m, Wq, Wk, v)
    out.update({"attention/query": q, "attention/keys": k, "attention/mask": m, "attention/W_q": Wq,
                "attention/W_k": Wk, "attention/v": v, "attention/context": context, "attention/weights": weights})
    return out


__all__ = ["gru_oracle", "encoder_oracle", "run_encoder", "check_encoder", "decoder_oracle", "run_decoder",
           "check_separate_weights", "loss_oracle", "check_loss", "greedy_oracle", "attention_oracle",
           "attention_case", "check_attention", "source_mask"]
