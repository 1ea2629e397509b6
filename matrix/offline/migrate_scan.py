"""Where a Python file uses the TensorRT API: `ast` only, the file is never imported or run.

Contract: `scan(source, snapshot, returns, loose)` returns the `Use`s of TensorRT names in `source`
(qualified: `IExecutionContext.execute_async_v2`, `BuilderFlag.INT8`, `Builder`), 1-based line and column.
Precision over recall: a name counts only on an object traced to `tensorrt`: the module (`import
tensorrt as trt`, `from tensorrt import Builder`), a class or enum of it, an instance made by a
constructor (`trt.Builder(logger)`), a call or property listed in `returns` (builder ->
create_builder_config() -> IBuilderConfig), a `with ... as x`, a parameter annotated with a TensorRT
class, `self.x` assigned one of these anywhere in its class, the return value of a function of the same
file, and subclasses of a TensorRT class (`class Calib(trt.IInt8EntropyCalibrator2)`). A member the
snapshot never had on that class (the user's own attribute) is not a use. With `loose`, attribute access
on untraced objects is also returned (`unsure`) as `?.name`, plus a module-like `trt`/`tensorrt`/
`self.trt` that is not an import. A use is `guarded` in either branch of an `if` (or `x if c else y`)
whose test is a feature test (`hasattr(x, "name")`, or a call named has/hasattr/require with a string
argument): both branches are version-dependent paths. Also under `try` with `except AttributeError`
(or `Exception`), and after a statement-level `*.require("...name")` call in the same function.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator, Mapping

from matrix.offline.api_snapshot import Snapshot

MODULE = "<module>"
ANY = "*"
GUARD_CALLS = {"hasattr", "has", "require"}
LOOSE_MODULE_NAMES = {"trt", "tensorrt"}


@dataclasses.dataclass(frozen=True)
class Use:
    line: int
    column: int
    name: str
    unsure: bool = False
    guarded: bool = False


def _cls(name: str) -> str:
    return f"cls:{name}"


def _guard_names(test: ast.AST) -> set[str]:
    """Attribute names a condition feature-tests (see the module contract)."""
    found: set[str] = set()
    for node in ast.walk(test):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if called not in GUARD_CALLS:
            continue
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
                found.add(arg.value.rsplit(".", 1)[-1])
    return found


class _Scanner(ast.NodeVisitor):
    def __init__(self, snapshot: Snapshot, returns: Mapping[str, str], loose: bool) -> None:
        self.snapshot = snapshot
        self.returns = returns
        self.loose = loose
        self.modules: set[str] = set()  # names bound to the tensorrt module anywhere in the file
        self.globals: dict[str, str] = {}
        self.scopes: list[dict[str, str]] = []
        self.user_bases: dict[str, str] = {}  # user class -> the TensorRT class it derives from
        self.user_members: dict[str, set[str]] = {}
        self.self_attrs: dict[tuple[str, str], str] = {}
        self.func_returns: dict[str, str] = {}
        self.class_stack: list[str] = []
        self.func_stack: list[str] = []
        self.guards: list[set[str]] = []
        self.uses: list[Use] = []
        self.recording = False

    # --- types --------------------------------------------------------------------------------
    def _lookup(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name] or None
        if name in self.globals:
            return self.globals[name] or None
        if name in self.modules:
            return MODULE
        if name in self.user_bases:
            return _cls(f"user:{name}")
        return None

    def _bind(self, name: str, kind: str | None) -> None:
        (self.scopes[-1] if self.scopes else self.globals)[name] = kind or ""

    def _top_level(self, name: str) -> bool:
        return self.snapshot.kinds.get(name) in ("class", "enum")

    def typeof(self, node: ast.AST, loose: bool = False) -> str | None:
        if isinstance(node, ast.Name):
            found = self._lookup(node.id)
            if found is None and loose and node.id in LOOSE_MODULE_NAMES:
                return MODULE
            return found
        if isinstance(node, ast.Attribute):
            if (
                isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and self.class_stack
                and (self.class_stack[-1], node.attr) in self.self_attrs
            ):
                return self.self_attrs[(self.class_stack[-1], node.attr)]
            owner = self.typeof(node.value, loose)
            if owner is None and loose:
                if node.attr in LOOSE_MODULE_NAMES:
                    return MODULE
                if self._top_level(node.attr):
                    return _cls(node.attr)
            if owner == MODULE:
                return _cls(node.attr) if self._top_level(node.attr) else None
            if (
                owner
                and owner.startswith("cls:")
                and self.snapshot.kinds.get(f"{owner[4:]}.{node.attr}")
                in (
                    "enum-member",
                    "attribute",
                )
            ):
                return owner[4:]
            if owner and not owner.startswith("cls:"):
                return self.returns.get(f"{self._trt_class(owner)}.{node.attr}")
            return None
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                owner = self.typeof(func.value, loose)
                if owner and not owner.startswith("cls:") and owner != MODULE:
                    return self.returns.get(f"{self._trt_class(owner)}.{func.attr}")
            called = self.typeof(func, loose)
            if called and called.startswith("cls:"):
                return called[4:]
            if isinstance(func, ast.Name) and func.id in self.func_returns:
                return self.func_returns[func.id]
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "self"
                and func.attr in self.func_returns
            ):
                return self.func_returns[func.attr]
        return None

    def _trt_class(self, kind: str) -> str:
        return self.user_bases.get(kind[5:], "") if kind.startswith("user:") else kind

    # --- uses ---------------------------------------------------------------------------------
    def _guarded(self, attr: str) -> bool:
        return any(ANY in g or attr in g for g in self.guards)

    def _use(self, node: ast.AST, name: str, attr: str, unsure: bool = False) -> None:
        if self.recording:
            line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", -1) + 1
            self.uses.append(Use(line, col, name, unsure, self._guarded(attr)))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        owner = self.typeof(node.value)
        unsure = False
        if owner is None and self.loose:
            owner = self.typeof(node.value, loose=True)
            unsure = owner is not None
        position = _attr_position(node)
        if owner == MODULE:
            if self.snapshot.known(node.attr):
                self._use(position, node.attr, node.attr, unsure)
        elif owner and owner.startswith("cls:user:"):
            self._member(position, owner[4:], node.attr, unsure)
        elif owner and owner.startswith("cls:"):
            if self.snapshot.known(f"{owner[4:]}.{node.attr}"):
                self._use(position, f"{owner[4:]}.{node.attr}", node.attr, unsure)
        elif owner:
            self._member(position, owner, node.attr, unsure)
        elif self.loose and not isinstance(node.value, ast.Call | ast.Constant):
            self._use(position, f"?.{node.attr}", node.attr, unsure=True)
        self.generic_visit(node)

    def _member(self, node: ast.AST, kind: str, attr: str, unsure: bool) -> None:
        if kind.startswith("user:"):
            if attr in self.user_members.get(kind[5:], set()):
                return
            kind = self._trt_class(kind)
        if self.snapshot.known(f"{kind}.{attr}"):
            self._use(node, f"{kind}.{attr}", attr, unsure)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1:
            kind = self.typeof(node.args[0])
            if kind and not kind.startswith("cls:") and kind != MODULE:
                self._member(node, kind, "__len__", False)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        kind = self.typeof(node.value)
        if kind and not kind.startswith("cls:") and kind != MODULE:
            self._member(node, kind, "__getitem__", False)
        self.generic_visit(node)

    # --- binding ------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "tensorrt" or (alias.name.startswith("tensorrt.") and not alias.asname):
                self.modules.add(alias.asname or "tensorrt")  # `import tensorrt.plugin as p` is not the module

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "tensorrt" and node.level == 0:
            for alias in node.names:
                if self.snapshot.known(alias.name):
                    self._use(node, alias.name, alias.name)
                    if self._top_level(alias.name):
                        self._bind(alias.asname or alias.name, _cls(alias.name))

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        kind = self.typeof(node.value)
        for target in node.targets:
            self._assign(target, kind)
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        kind = self.typeof(node.value) if node.value is not None else None
        self._assign(node.target, kind or self._annotation(node.annotation))
        self.visit(node.target)

    def _assign(self, target: ast.AST, kind: str | None) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, kind)
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
            and self.class_stack
        ):
            key = (self.class_stack[-1], target.attr)
            if kind and not self.recording:
                self.self_attrs[key] = kind
            self.user_members.setdefault(self.class_stack[-1], set()).add(target.attr)

    def _annotation(self, node: ast.AST | None) -> str | None:
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        kind = self.typeof(node)
        return kind[4:] if kind and kind.startswith("cls:") and not kind.startswith("cls:user:") else None

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            kind = self.typeof(item.context_expr)
            if item.optional_vars is not None:
                entered = self.returns.get(f"{kind}.__enter__") if kind else None
                self._assign(item.optional_vars, entered)
        for stmt in node.body:
            self.visit(stmt)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            self.visit(base)
            kind = self.typeof(base)
            if kind and kind.startswith("cls:") and not kind.startswith("cls:user:"):
                self.user_bases[node.name] = kind[4:]
        members = self.user_members.setdefault(node.name, set())
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                members.add(stmt.name)
        self.class_stack.append(node.name)
        self.scopes.append({})
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()
        self.class_stack.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        scope: dict[str, str] = {}
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            scope[arg.arg] = self._annotation(arg.annotation) or ""
        self.scopes.append(scope)
        self.func_stack.append(node.name)
        self.guards.append(set())
        for stmt in node.body:
            self.visit(stmt)
        self.guards.pop()
        self.func_stack.pop()
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is None:
            return
        self.visit(node.value)
        kind = self.typeof(node.value)
        if kind and self.func_stack and not self.recording:
            self.func_returns.setdefault(self.func_stack[-1], kind)

    # --- guards -------------------------------------------------------------------------------
    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        self.guards.append({ANY} if _guard_names(node.test) else set())
        for stmt in node.body:
            self.visit(stmt)
        for stmt in node.orelse:
            self.visit(stmt)
        self.guards.pop()

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.visit(node.test)
        self.guards.append({ANY} if _guard_names(node.test) else set())
        self.visit(node.body)
        self.visit(node.orelse)
        self.guards.pop()

    def visit_Try(self, node: ast.Try) -> None:
        catches = any(_catches_attribute_error(h) for h in node.handlers)
        self.guards.append({ANY} if catches else set())
        for stmt in node.body:
            self.visit(stmt)
        self.guards.pop()
        for part in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(part)

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Call) and self.guards:
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr == "require":
                self.guards[-1] |= _guard_names(node.value)
        self.generic_visit(node)


def _catches_attribute_error(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in ("AttributeError", "Exception") for n in names if n)


def _attr_position(node: ast.Attribute) -> ast.AST:
    """Where the attribute's own name starts: the line and column after its last dot."""
    end_line, end_col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
    if end_line is None or end_col is None:
        return node
    marker = ast.Pass()
    marker.lineno, marker.col_offset = end_line, end_col - len(node.attr)
    return marker


def scan(source: str, snapshot: Snapshot, returns: Mapping[str, str], loose: bool = False) -> list[Use]:
    """The uses in `source`, in file order; raises SyntaxError (with lineno) on unparsable code."""
    tree = ast.parse(source)
    scanner = _Scanner(snapshot, returns, loose)
    for node in ast.walk(tree):  # imports first, wherever they are (a function-level `import tensorrt`)
        if isinstance(node, ast.Import):
            scanner.visit_Import(node)
    scanner.visit(tree)  # a first pass learns self attributes and function returns
    scanner.globals, scanner.recording = {}, True
    scanner.visit(tree)
    return sorted(set(_unique(scanner.uses)), key=lambda u: (u.line, u.column, u.name))


def _unique(uses: list[Use]) -> Iterator[Use]:
    seen: set[tuple[int, int, str]] = set()
    for use in uses:
        key = (use.line, use.column, use.name)
        if key not in seen:
            seen.add(key)
            yield use
