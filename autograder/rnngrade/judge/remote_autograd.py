"""Gradients across the boundary, on the judge's side.

A result of the student's code that depends on the student's autograd graph comes back attached to a judge-side
autograd node (:func:`attach`), whose backward sends the upstream gradients to the student kernel (a
``BACKWARD`` request; the server runs ``torch.autograd.backward`` there, so the student's parameters accumulate
their ``.grad`` there, as usual) and returns the gradients of the judge's inputs.
"""
from __future__ import annotations

from . import wire
from .wire import JudgeProtocolError


class RemoteGraph:
    """The student-side graph of one call's results, for a backward pass from the judge.

    inputs: the judge's tensors sent with ``requires_grad`` (leaves in the student kernel); outputs: the call's
    results that are attached to the graph, as received (without a graph of their own)."""

    def __init__(self, conn, gid: int, label: str, inputs: list, outputs: list):
        self.conn, self.gid, self.label, self.inputs, self.outputs = conn, gid, label, inputs, outputs

    def backward(self, grads) -> list:
        import torch

        got = self.conn.request({"op": wire.BACKWARD, "graph": self.gid}, f"the backward pass of {self.label}",
                                (list(grads),), {})
        if not isinstance(got, list) or len(got) != len(self.inputs):
            raise JudgeProtocolError("malformed gradients")
        out = []
        for inp, g in zip(self.inputs, got):
            if g is None:
                out.append(None)
            elif not isinstance(g, torch.Tensor) or tuple(g.shape) != tuple(inp.shape):
                raise JudgeProtocolError("a gradient of the wrong shape came back")
            else:
                out.append(g.to(inp.dtype))
        return out


_STUDENT_GRAPH_FUNCTION = None


def attach(graph: RemoteGraph) -> list:
    """Judge-side autograd node for a student-side graph: ``graph.outputs`` again, now with a backward that runs
    in the student kernel and reaches ``graph.inputs``."""
    global _STUDENT_GRAPH_FUNCTION
    import torch

    if _STUDENT_GRAPH_FUNCTION is None:
        class StudentGraph(torch.autograd.Function):
            @staticmethod
            def forward(ctx, graph, anchor, *inputs):
                ctx.graph = graph
                return tuple(graph.outputs)

            @staticmethod
            def backward(ctx, *grads):
                return (None, None, *ctx.graph.backward(grads))

        _STUDENT_GRAPH_FUNCTION = StudentGraph
    anchor = torch.zeros((), requires_grad=True)    # the outputs require grad even if no input does
    return list(_STUDENT_GRAPH_FUNCTION.apply(graph, anchor, *graph.inputs))


def replace_by_identity(obj, swap: dict):
    """``obj`` (nested tuples, lists, dicts) with each item whose ``id`` is a key of ``swap`` replaced."""
    if type(obj) in (tuple, list):
        items = [replace_by_identity(x, swap) for x in obj]
        return tuple(items) if type(obj) is tuple else items
    if type(obj) is dict:
        return {k: replace_by_identity(v, swap) for k, v in obj.items()}
    return swap.get(id(obj), obj)
