"""Control flow as the user wrote it, for messages and pictures: the text of a ``when(...)``
condition read back from the pipeline's source, or rebuilt from the IR when it cannot be."""

from __future__ import annotations

from collections.abc import Mapping

from mlcompile.ir import nodes as ir


def condition_text(sources: Mapping[str, ir.SourceFile], cond: ir.Condition) -> str:
    """``scored.metrics["auc"] >= min_auc`` for ``with when(scored.metrics["auc"] >= min_auc):``."""
    source = sources.get(cond.location.file)
    if source is not None:
        found = _call_argument(source.text.splitlines()[cond.location.line - 1 :], "when(")
        if found:
            return found
    return expression_text(cond.condition)


def _call_argument(lines: list[str], opener: str) -> str | None:
    """The balanced argument text of the first ``opener`` call starting on the first line."""
    if not lines or opener not in lines[0]:
        return None
    text = lines[0][lines[0].index(opener) + len(opener) :]
    depth, quote = 1, ""
    out: list[str] = []
    for line in [text, *lines[1:20]]:
        for ch in line:
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            elif ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth == 0:
                    return " ".join("".join(out).split())
            out.append(ch)
        out.append(" ")
    return None


def expression_text(expr: ir.ConditionExpr) -> str:
    if isinstance(expr, ir.Compare):
        return f"{value_text(expr.left)} {expr.op} {value_text(expr.right)}"
    if isinstance(expr, ir.AllOf):
        return " & ".join(f"({expression_text(e)})" for e in expr.operands)
    if isinstance(expr, ir.AnyOf):
        return " | ".join(f"({expression_text(e)})" for e in expr.operands)
    return f"~({expression_text(expr.operand)})"


def value_text(value: ir.Value) -> str:
    if isinstance(value, ir.Literal):
        return repr(value.value)
    if isinstance(value, ir.ParamRef):
        return value.name
    if isinstance(value, ir.OutputRef):
        return f"{value.task}.{value.output}"
    if isinstance(value, ir.MetricRef):
        return f"{value.task}.{value.output}[{value.key!r}]"
    if isinstance(value, ir.LoopItemRef):
        return value.loop + (f"[{value.key!r}]" if value.key else "")
    if isinstance(value, ir.CollectedRef):
        return f"collect({value.task}.{value.output})"
    if isinstance(value, ir.OneOfRef):
        return "merge(" + ", ".join(value_text(o) for o in value.options) + ")"
    return "f-string"


def loop_text(sources: Mapping[str, ir.SourceFile], loop: ir.Loop) -> str:
    """``RATES, parallelism=2`` for ``with for_each(RATES, parallelism=2) as rate:``."""
    source = sources.get(loop.location.file)
    if source is not None:
        found = _call_argument(source.text.splitlines()[loop.location.line - 1 :], "for_each(")
        if found:
            return found
    items = loop.items
    shown = value_text(items) if not isinstance(items, ir.Literal) else repr(items.value)
    return shown + (f", parallelism={loop.parallelism}" if loop.parallelism else "")
