"""First-order mutants of a Python source file, one syntactic change each, from its AST.

Why our own mutator and not mutmut or cosmic-ray: both are built around a test command that they
run per mutant inside a copy of the project (mutmut 3 rewrites every function into a trampoline and
drives pytest; cosmic-ray keeps a session database and runs a configured test command). The audit
needs the opposite shape: each mutant as a stand-alone file that we place in a grading workspace
and judge with two independent referees (a PyTorch oracle and the grader). Neither library has the
"dropped call" (`f(x) -> x`), "swapped arguments" or "dropped keyword" operators we want either.
A NodeTransformer over ``ast`` does it in a page, with no dependency.

Operators (names used in mutant ids):
  arith    a binary operator replaced (+ -> -, * -> +, // -> /, ...)
  compare  a comparison relaxed or negated (< -> <=, == -> !=, is -> is not, ...)
  bool     and <-> or;  unary: -x -> x, not x -> x
  const    an int constant n -> n+1 (and 1 -> 0), a float doubled, True <-> False
  default  a parameter's default value changed the same way (padding=0 -> padding=1)
  swap     two neighbouring call arguments, tuple elements or subscript indices swapped
  delete   a statement replaced by `pass`
  call     a call dropped: f(x) -> x, F.pad(x, p) -> x, obj.m(...) -> obj
  kwarg    a keyword argument dropped, so the callee's default applies

Only code inside functions and classes is mutated (not imports, not docstrings, not f-strings,
whose mutants only change a message).
"""

from __future__ import annotations

import ast
import copy
import hashlib
from dataclasses import dataclass

_ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.Div: ast.Mult,
          ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.MatMult: ast.Mult}
_COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
            ast.NotIn: ast.In}


@dataclass(frozen=True)
class Mutant:
    """One mutant: ``id`` is stable while the file's mutated line and column stay put."""

    id: str  # "p01:61:22:arith"
    line: int
    operator: str
    description: str  # "line 61: h - dh -> h + dh"
    source: str  # the whole mutated module


def _text(node: ast.AST) -> str:
    return ast.unparse(node).replace("\n", " ")


def _window(before: str, after: str, width: int = 70, context: int = 24) -> tuple[str, str]:
    """Long texts cut to the part that changed, with ``context`` characters around it."""
    if len(before) <= width and len(after) <= width:
        return before, after
    if after == "pass":  # a deleted statement: its start says which one
        return before[:width - 3] + "...", after
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    lo = max(0, start - context)

    def cut(text):
        hi = min(len(text), len(text) - end + context)
        return ("..." if lo else "") + text[lo:hi] + ("..." if hi < len(text) else "")
    return cut(before), cut(after)


def _constant_variants(value):
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        # n+1 everywhere; 1 -> 0 too, the off-by-one that matters most in index arithmetic.
        return [value + 1] + ([0] if value == 1 else [])
    if isinstance(value, float):
        return [value * 2 if value else 1.0]
    return []


class _Sites(ast.NodeVisitor):
    """Lists mutation sites as (walk index, operator, variant index, description) in walk order."""

    def __init__(self, tree: ast.Module):
        self.nodes = list(ast.walk(tree))
        self.index = {id(n): i for i, n in enumerate(self.nodes)}
        self.skip: set[int] = set()
        self.defaults: dict[int, str] = {}  # id(default node) -> parameter name
        self.sites: list[tuple[int, str, int]] = []
        for node in self.nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.JoinedStr)):
                self.skip.update(id(n) for n in ast.walk(node))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
                body = node.body
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                        and isinstance(body[0].value.value, str):
                    self.skip.update(id(n) for n in ast.walk(body[0]))  # docstring
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                positional = args.posonlyargs + args.args
                for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
                    self.defaults[id(default)] = arg.arg
                for arg, default in zip(args.kwonlyargs, args.kw_defaults):
                    if default is not None:
                        self.defaults[id(default)] = arg.arg
        inside = set()
        for node in self.nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inside.update(id(n) for n in ast.walk(node))
        self.skip.update(id(n) for n in self.nodes if id(n) not in inside)
        for node in self.nodes:
            if id(node) not in self.skip:
                self._collect(node)

    def _add(self, node, operator, count=1):
        for variant in range(count):
            self.sites.append((self.index[id(node)], operator, variant))

    def _collect(self, node):
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            self._add(node, "arith")
        elif isinstance(node, ast.AugAssign) and type(node.op) in _ARITH:
            self._add(node, "arith")
        elif isinstance(node, ast.Compare):
            self._add(node, "compare", sum(type(op) in _COMPARE for op in node.ops))
        elif isinstance(node, ast.BoolOp):
            self._add(node, "bool")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
            self._add(node, "unary")
        elif isinstance(node, ast.Constant):
            count = len(_constant_variants(node.value))
            if count:
                self._add(node, "default" if id(node) in self.defaults else "const", count)
        elif isinstance(node, ast.Call):
            positional = [a for a in node.args if not isinstance(a, ast.Starred)]
            if len(positional) == len(node.args) and len(positional) >= 2:
                self._add(node, "swap", len(positional) - 1)
            if _is_method(node) or (node.args and not isinstance(node.args[0], ast.Starred)):
                self._add(node, "call")
            if any(k.arg for k in node.keywords):
                self._add(node, "kwarg", sum(1 for k in node.keywords if k.arg))
        elif isinstance(node, ast.Tuple) and len(node.elts) >= 2 \
                and not any(isinstance(e, ast.Starred) for e in node.elts):
            self._add(node, "swap", len(node.elts) - 1)
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Pass)):
            self._add(node, "delete")


_MODULES = {"torch", "F", "nn", "np", "math", "tl", "triton", "copy", "random", "os", "time"}


def _is_method(call: ast.Call) -> bool:
    """``obj.m(...)`` on a value (dropped: ``obj``), not ``F.pad(x, ...)`` on a module (dropped: ``x``)."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    base = func.value
    while isinstance(base, ast.Attribute):
        base = base.value
    return not (isinstance(base, ast.Name) and base.id in _MODULES)


def _parents(tree):
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    return parents


def _replace(tree, old, new):
    parent = _parents(tree)[id(old)]
    for field, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
    raise LookupError("node not under its parent")


def _apply(tree, node, operator, variant, defaults):
    """Mutate ``node`` (inside ``tree``) in place; return (before, after) text for the description."""
    if operator == "arith":
        before = _text(node)
        node.op = _ARITH[type(node.op)]()
        return before, _text(node)
    if operator == "compare":
        before = _text(node)
        ops = [i for i, op in enumerate(node.ops) if type(op) in _COMPARE]
        node.ops[ops[variant]] = _COMPARE[type(node.ops[ops[variant]])]()
        return before, _text(node)
    if operator == "bool":
        before = _text(node)
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return before, _text(node)
    if operator == "unary":
        _replace(tree, node, node.operand)
        return _text(node), _text(node.operand)
    if operator in ("const", "default"):
        new = _constant_variants(node.value)[variant]
        name = defaults.get(id(node))
        if name:
            before = f"{name}={node.value!r}"
            node.value = new
            return before, f"{name}={new!r}"
        # A bare "1 -> 2" says little: show the smallest enclosing expression around it.
        parents = _parents(tree)
        context = parents.get(id(node))
        while context is not None and not isinstance(context, ast.expr) and not isinstance(context, ast.stmt):
            context = parents.get(id(context))
        if context is None or isinstance(context, ast.stmt):
            before = _text(node)
            node.value = new
            return before, _text(node)
        before = _text(context)
        node.value = new
        return before, _text(context)
    if operator == "swap":
        items = node.args if isinstance(node, ast.Call) else node.elts
        before = _text(node)
        items[variant], items[variant + 1] = items[variant + 1], items[variant]
        return before, _text(node)
    if operator == "call":
        before = _text(node)
        new = node.func.value if _is_method(node) or not node.args else node.args[0]
        _replace(tree, node, new)
        return before, _text(new)
    if operator == "kwarg":
        before = _text(node)
        named = [k for k in node.keywords if k.arg]
        node.keywords.remove(named[variant])
        return before, _text(node)
    if operator == "delete":
        before = _text(node)
        _replace(tree, node, ast.Pass())
        return before, "pass"
    raise ValueError(operator)


def mutants(source: str, prefix: str) -> list[Mutant]:
    """Every first-order mutant of ``source``, deduplicated by the mutated code; ids start ``prefix``.

    Raises SyntaxError if ``source`` does not parse. Mutants whose code equals the original (a swap
    of two identical elements) are left out.
    """
    tree = ast.parse(source)
    sites = _Sites(tree)
    original = ast.unparse(tree)
    seen = {original}
    used: set[str] = set()
    result = []
    for index, operator, variant in sites.sites:
        copy_tree = copy.deepcopy(tree)
        nodes = list(ast.walk(copy_tree))
        node = nodes[index]
        # Map the original's default nodes onto the copy by walk index (same order).
        defaults = {id(nodes[i]): sites.defaults[id(n)] for i, n in enumerate(sites.nodes)
                    if id(n) in sites.defaults}
        line, col = node.lineno, node.col_offset
        before, after = _apply(copy_tree, node, operator, variant, defaults)
        ast.fix_missing_locations(copy_tree)
        code = ast.unparse(copy_tree)
        if code in seen:
            continue
        seen.add(code)
        suffix = f"{operator}" + (f"{variant}" if variant else "")
        mutant_id = f"{prefix}:{line}:{col}:{suffix}"
        # Nested nodes can start at one column (a tuple in a tuple): the inner one gets -b, -c...
        base, extra = mutant_id, 1
        while mutant_id in used:
            extra += 1
            mutant_id = f"{base}-{chr(ord('a') + extra - 1)}"
        used.add(mutant_id)
        before, after = _window(before, after)
        description = f"line {line}: {before} -> {after}"
        result.append(Mutant(mutant_id, line, operator, description, code + "\n"))
    return result


def fingerprint(source: str) -> str:
    """A short hash of a reference source: the report says which version was mutated."""
    return hashlib.sha256(source.encode()).hexdigest()[:12]
