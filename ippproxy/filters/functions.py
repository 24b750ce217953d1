"""PDF functions evaluated exactly (ISO 32000-1 §7.10): tint transforms and shadings.

Theory of operation
-------------------
A Separation or DeviceN colour is printed through its tint transform when the
printer has no plate of that name (§8.6.6.4), so whether ``/Spot 0.3 scn`` is
colour depends on the value the transform gives in its alternate space.  We
evaluate the function the way a conforming reader does:

* type 2, exponential interpolation (§7.10.3): ``C0 + x**N * (C1 - C0)``;
* type 3, stitching (§7.10.4): pick the subdomain by ``Bounds``, re-map with
  ``Encode``, evaluate the chosen function;
* type 4, PostScript calculator (§7.10.5): a small stack machine over the
  operators of Table 42 (arithmetic, relational, boolean, bitwise, stack and
  ``if``/``ifelse``), programs parsed once and cached per function object;
* type 0, sampled (§7.10.2): the sample at the nearest grid point of the
  encoded input (a printer interpolates between neighbours; where neighbours
  differ in neutrality the answer is not exact, and ``evaluate`` says so with
  ``Undecidable``).

Inputs are clipped to ``Domain`` and outputs to ``Range`` as the spec says.
Anything malformed or unsupported raises ``Undecidable``: the page is then
rendered rather than guessed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pikepdf

_MAX_OPS = 10_000           # executed operators per evaluation (hostile loops are impossible
_MAX_STACK = 100            # in type 4, but deep nesting and long programs are not)


class Undecidable(Exception):
    """The function cannot be evaluated exactly; the caller falls back to rendering."""


def _floats(obj: object) -> list[float]:
    try:
        return [float(v) for v in obj]  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise Undecidable("bad number array") from None


def _clip(values: Sequence[float], bounds: Sequence[float]) -> list[float]:
    if not bounds:
        return list(values)
    return [min(max(v, bounds[2 * i]), bounds[2 * i + 1]) if 2 * i + 1 < len(bounds) else v
            for i, v in enumerate(values)]


_PROGRAMS: dict[bytes, list[object]] = {}    # by program text: objgen differs per document


def evaluate(fn: pikepdf.Object, inputs: Sequence[float], depth: int = 0) -> list[float]:
    """The outputs of PDF function ``fn`` at ``inputs``; ``Undecidable`` when not exact."""
    if depth > 8:
        raise Undecidable("nested functions")
    if isinstance(fn, pikepdf.Array):          # an array of 1-output functions (§8.7.4.5.3)
        return [evaluate(f, inputs, depth + 1)[0] for f in fn]
    try:
        kind = int(fn.get("/FunctionType", -1))
        domain = _floats(fn.get("/Domain", []))
        rng = _floats(fn.get("/Range", []))
    except (AttributeError, TypeError, ValueError):
        raise Undecidable("not a function") from None
    x = _clip(inputs, domain)
    if kind == 2:
        c0 = _floats(fn.get("/C0", [0.0]))
        c1 = _floats(fn.get("/C1", [1.0]))
        n = float(fn.get("/N", 1))
        t = x[0] ** n if x else 0.0
        out = [a + t * (b - a) for a, b in zip(c0, c1)]
    elif kind == 3:
        out = _stitch(fn, x, domain, depth)
    elif kind == 4:
        out = _calculator(fn, x)
    elif kind == 0:
        out = _sampled(fn, x, domain, rng)
    else:
        raise Undecidable(f"function type {kind}")
    return _clip(out, rng)


def _stitch(fn: pikepdf.Object, x: list[float], domain: list[float], depth: int) -> list[float]:
    fns = fn.get("/Functions")
    bounds = _floats(fn.get("/Bounds", []))
    encode = _floats(fn.get("/Encode", []))
    if fns is None or len(domain) < 2 or len(encode) < 2 * len(fns) or not x:
        raise Undecidable("bad stitching function")
    v = x[0]
    i = sum(1 for b in bounds if v >= b)
    lo = domain[0] if i == 0 else bounds[i - 1]
    hi = domain[1] if i == len(bounds) else bounds[i]
    e0, e1 = encode[2 * i], encode[2 * i + 1]
    t = e0 if hi == lo else e0 + (v - lo) * (e1 - e0) / (hi - lo)
    return evaluate(fns[i], [t], depth + 1)


def _sampled(fn: pikepdf.Object, x: list[float], domain: list[float],
             rng: list[float]) -> list[float]:
    size = [int(s) for s in fn.get("/Size", [])]
    bps = int(fn.get("/BitsPerSample", 8))
    if len(size) != 1 or bps not in (8, 16) or not rng or not x:
        raise Undecidable("sampled function beyond one 8/16-bit input")
    encode = _floats(fn.get("/Encode", [0, size[0] - 1]))
    decode = _floats(fn.get("/Decode", rng))
    n = len(rng) // 2
    e = encode[0] + (x[0] - domain[0]) * (encode[1] - encode[0]) / (domain[1] - domain[0])
    e = min(max(e, 0.0), size[0] - 1.0)
    if e != int(e):
        raise Undecidable("sampled function between grid points")
    data = bytes(fn.read_bytes())
    step = bps // 8
    base = int(e) * n * step
    if len(data) < base + n * step:
        raise Undecidable("short sample table")
    top = (1 << bps) - 1
    raw = [int.from_bytes(data[base + j * step: base + (j + 1) * step], "big") for j in range(n)]
    return [decode[2 * j] + r * (decode[2 * j + 1] - decode[2 * j]) / top
            for j, r in enumerate(raw)]


# ---- type 4: the PostScript calculator (§7.10.5, Table 42) ----

def _parse(source: bytes) -> list[object]:
    """Tokens of a calculator program as nested lists: numbers, booleans, names, blocks."""
    text = source.decode("latin-1").replace("{", " { ").replace("}", " } ")
    stack: list[list[object]] = [[]]
    for tok in text.split():
        if tok == "{":
            stack.append([])
        elif tok == "}":
            if len(stack) < 2:
                raise Undecidable("unbalanced braces")
            block = stack.pop()
            stack[-1].append(block)
        elif tok in ("true", "false"):
            stack[-1].append(tok == "true")
        else:
            try:
                stack[-1].append(float(tok) if any(c in tok for c in ".eE") else int(tok))
            except ValueError:
                stack[-1].append(tok)
    if len(stack) != 1 or len(stack[0]) != 1 or not isinstance(stack[0][0], list):
        raise Undecidable("a calculator program is one { } block")
    return stack[0][0]


def _num(v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise Undecidable("type error in calculator function")
    return v


_UNARY: dict[str, Callable[[float], float]] = {
    "abs": abs, "neg": lambda a: -a, "ceiling": math.ceil, "floor": math.floor,
    "round": lambda a: math.floor(a + 0.5), "truncate": math.trunc, "sqrt": math.sqrt,
    "sin": lambda a: math.sin(math.radians(a)), "cos": lambda a: math.cos(math.radians(a)),
    "ln": math.log, "log": math.log10, "cvi": math.trunc, "cvr": float,
}
_BINARY: dict[str, Callable[[float, float], object]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "idiv": lambda a, b: int(a) // int(b) if a * b >= 0
    else -(abs(int(a)) // abs(int(b))), "mod": lambda a, b: math.fmod(int(a), int(b)),
    "exp": lambda a, b: a ** b, "atan": lambda a, b: math.degrees(math.atan2(a, b)) % 360,
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
    "bitshift": lambda a, b: int(a) << int(b) if b >= 0 else int(a) >> -int(b),
}


def _run(program: list[object], st: list[object], budget: list[int]) -> None:
    for tok in program:
        budget[0] -= 1
        if budget[0] < 0 or len(st) > _MAX_STACK:
            raise Undecidable("calculator program too long")
        if isinstance(tok, (list, bool, int, float)):
            st.append(tok)
            continue
        op = str(tok)
        try:
            if op in _UNARY:
                st.append(_UNARY[op](_num(st.pop())))
            elif op in _BINARY:
                b, a = st.pop(), st.pop()
                if op in ("eq", "ne"):
                    st.append(a == b if op == "eq" else a != b)
                else:
                    st.append(_BINARY[op](_num(a), _num(b)))
            elif op in ("and", "or", "xor"):
                b, a = st.pop(), st.pop()
                if isinstance(a, bool) and isinstance(b, bool):
                    st.append({"and": a and b, "or": a or b, "xor": a != b}[op])
                else:
                    ia, ib = int(_num(a)), int(_num(b))
                    st.append({"and": ia & ib, "or": ia | ib, "xor": ia ^ ib}[op])
            elif op == "not":
                a = st.pop()
                st.append(not a if isinstance(a, bool) else ~int(_num(a)))
            elif op == "pop":
                st.pop()
            elif op == "dup":
                st.append(st[-1])
            elif op == "exch":
                st[-1], st[-2] = st[-2], st[-1]
            elif op == "copy":
                n = int(_num(st.pop()))
                if n:
                    st.extend(st[-n:])
            elif op == "index":
                st.append(st[-1 - int(_num(st.pop()))])
            elif op == "roll":
                j, n = int(_num(st.pop())), int(_num(st.pop()))
                if n:
                    part = st[-n:]
                    j %= n
                    st[-n:] = part[-j:] + part[:-j] if j else part
            elif op == "if":
                block, cond = st.pop(), st.pop()
                if not isinstance(block, list) or not isinstance(cond, bool):
                    raise Undecidable("bad if")
                if cond:
                    _run(block, st, budget)
            elif op == "ifelse":
                b2, b1, cond = st.pop(), st.pop(), st.pop()
                if not (isinstance(b1, list) and isinstance(b2, list) and isinstance(cond, bool)):
                    raise Undecidable("bad ifelse")
                _run(b1 if cond else b2, st, budget)
            else:
                raise Undecidable(f"calculator operator {op}")
        except (IndexError, ZeroDivisionError, ValueError, OverflowError):
            raise Undecidable(f"calculator error in {op}") from None


def _calculator(fn: pikepdf.Object, x: list[float]) -> list[float]:
    try:
        source = bytes(fn.read_bytes())
    except (AttributeError, pikepdf.PdfError):
        raise Undecidable("unreadable calculator program") from None
    program = _PROGRAMS.get(source)
    if program is None:
        program = _parse(source)
        if len(_PROGRAMS) > 1024:
            _PROGRAMS.clear()
        _PROGRAMS[source] = program
    st: list[object] = list(x)
    _run(program, st, [_MAX_OPS])
    return [_num(v) for v in st]
