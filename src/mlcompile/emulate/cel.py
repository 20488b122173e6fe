"""The subset of CEL that KFP v2 IR uses in ``triggerPolicy.condition`` and
``parameterExpressionSelector``, evaluated the way the KFP backend does.

KFP evaluates a task's trigger condition with CEL over ``inputs.parameter_values`` (the task's
resolved input parameters): https://www.kubeflow.org/docs/components/pipelines/user-guides/core-functions/control-flow/
and the field comments of ``PipelineTaskSpec.TriggerPolicy`` in
https://github.com/kubeflow/pipelines/blob/master/api/v2alpha1/pipeline_spec.proto .
CEL has no implicit conversion between types: comparing a string with a number is an error
("no such overload"), not ``False`` (https://github.com/google/cel-spec/blob/master/doc/langdef.md#overloads);
numbers (int and double) compare with each other.

Grammar: ``||``, ``&&``, ``!``, comparisons, parentheses, ``inputs.parameter_values['name']``,
number, string and bool literals, ``parseJson(string_value)["key"]`` (selectors), and
``int(...)``/``double(...)``/``string(...)``.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>-?\d+\.\d*(?:[eE][-+]?\d+)?|-?\d+(?:[eE][-+]?\d+)?)
   |(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
   |(?P<op>\|\||&&|==|!=|<=|>=|[<>!()\[\].,])
   |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


class CelError(Exception):
    """The expression is outside the subset, or its operands do not fit (a string vs a number)."""


def evaluate(expression: str, values: dict[str, Any], string_value: str | None = None) -> Any:
    parser = _Parser(_tokens(expression), values, string_value, expression)
    result = parser.expression()
    if parser.pos != len(parser.tokens):
        raise CelError(f"unexpected {parser.tokens[parser.pos][1]!r} in {expression!r}")
    return result


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise CelError(f"cannot read {text[pos:]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "null"


class _Parser:
    def __init__(
        self,
        tokens: list[tuple[str, str]],
        values: dict[str, Any],
        string_value: str | None,
        text: str,
    ) -> None:
        self.tokens, self.values, self.string_value, self.text = tokens, values, string_value, text
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise CelError(f"{self.text!r} ends early")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise CelError(f"expected {expected!r}, found {token[1]!r} in {self.text!r}")
        self.pos += 1
        return token

    def expression(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = self._bool(left) or self._bool(right)
        return left

    def _and(self) -> Any:
        left = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            left = self._bool(left) and self._bool(right)
        return left

    def _compare(self) -> Any:
        left = self._unary()
        op = self._peek()
        if op in ("==", "!=", "<", "<=", ">", ">="):
            self._take()
            right = self._unary()
            return self._apply(op, left, right)
        return left

    def _apply(self, op: str, left: Any, right: Any) -> bool:
        lt, rt = _type(left), _type(right)
        if lt != rt:
            raise CelError(
                f"no such overload: {lt} {op} {rt} ({json.dumps(left)} {op} {json.dumps(right)});"
                " CEL does not convert between types"
            )
        if op in ("<", "<=", ">", ">=") and lt not in ("number", "string"):
            raise CelError(f"no such overload: {lt} {op} {rt}")
        if op == "==":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)

    def _bool(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise CelError(f"{json.dumps(value)} is not a bool in {self.text!r}")
        return value

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not self._bool(self._unary())
        return self._postfix(self._primary())

    def _postfix(self, value: Any) -> Any:
        while self._peek() in ("[", "."):
            if self._take()[1] == "[":
                key = self.expression()
                self._take("]")
                if (isinstance(value, dict) and key in value) or (
                    isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value)
                ):
                    value = value[key]
                else:
                    raise CelError(f"no key {json.dumps(key)} in {json.dumps(value)}")
            else:
                field = self._take()[1]
                if not isinstance(value, dict) or field not in value:
                    raise CelError(f"no field {field!r} in {self.text!r}")
                value = value[field]
        return value

    def _primary(self) -> Any:
        kind, text = self._take()
        if kind == "num":
            number = float(text)
            return int(number) if re.fullmatch(r"-?\d+", text) else number
        if kind == "str":
            body = text[1:-1]
            return json.loads('"' + body.replace('\\"', '"').replace('"', '\\"') + '"')
        if text == "(":
            value = self.expression()
            self._take(")")
            return value
        if kind != "name":
            raise CelError(f"unexpected {text!r} in {self.text!r}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if text == "inputs":
            return {"parameter_values": self.values}
        if text == "string_value":
            if self.string_value is None:
                raise CelError("string_value is only defined in a parameter selector")
            return self.string_value
        if text in ("parseJson", "int", "double", "string"):
            self._take("(")
            arg = self.expression()
            self._take(")")
            return _function(text, arg)
        raise CelError(f"unknown name {text!r} in {self.text!r}")


def _function(name: str, arg: Any) -> Any:
    try:
        if name == "parseJson":
            return json.loads(arg) if isinstance(arg, str) else arg
        if name == "int":
            return int(arg)
        if name == "double":
            return float(arg)
        return arg if isinstance(arg, str) else json.dumps(arg)
    except (TypeError, ValueError) as exc:
        raise CelError(f"{name}({json.dumps(arg)}): {exc}") from None
