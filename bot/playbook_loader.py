"""Load the playbook: the shipped default, merged with an org's COACH_PLAYBOOK file.

Every problem becomes one :class:`PlaybookConfigError` naming the file, the line
and the dotted key, so an admin can go straight to the spot in their YAML.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import flows
from flows.playbook import Path as KeyPath
from flows.playbook import (
    Playbook,
    PlaybookError,
    build_playbook,
    check_fixed_chart,
    dotted,
    merge,
)

DEFAULT_PLAYBOOK = Path(flows.__file__).with_name("data") / "playbook.yaml"

# Mappings whose keys are the org's own (anything goes), so unknown keys are fine there.
_FREE_KEYS: tuple[KeyPath, ...] = (("foundations",),)


class PlaybookConfigError(ValueError):
    """A playbook that cannot be used; the message is one line naming file, line and key."""

    def __init__(
        self, file: str, problem: str, *, line: int | None = None, key: str | None = None
    ) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
        where = f"{file} line {line}" if line is not None else file
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class _Source:
    """One parsed YAML file: its name for messages, its data and its node tree."""

    name: str
    data: Any
    root: yaml.Node | None


def load_playbook(path: str | Path | None = None) -> Playbook:
    """The default playbook, or ``path`` merged over it, validated."""
    default = _parse(DEFAULT_PLAYBOOK, str(DEFAULT_PLAYBOOK))
    if path is None:
        return _build(default.data, default, None)
    override = _parse(Path(path), str(path))
    if not isinstance(override.data, Mapping):
        got = "an empty file" if override.data is None else f"a {_kind(override.data)}"
        raise PlaybookConfigError(
            override.name,
            f"the top level must be a mapping of playbook keys (got {got})",
            line=_line(override.root),
        )
    merged = merge(default.data, override.data)
    try:
        check_fixed_chart(default.data, merged)
        _check_known_keys(default.data, override.data, ())
    except PlaybookError as exc:
        raise _located(exc, default, override) from None
    return _build(merged, default, override)


def _build(raw: Any, default: _Source, override: _Source | None) -> Playbook:
    try:
        return build_playbook(raw)
    except PlaybookError as exc:
        raise _located(exc, default, override) from None


def _parse(path: Path, name: str) -> _Source:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PlaybookConfigError(name, "no such file") from None
    except IsADirectoryError:
        raise PlaybookConfigError(name, "is a directory, not a YAML file") from None
    except OSError as exc:
        raise PlaybookConfigError(name, f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlaybookConfigError(
            name,
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
            line=raw.count(b"\n", 0, exc.start) + 1,
        ) from None
    try:
        loader = yaml.SafeLoader(text)  # reads the first characters already
    except yaml.reader.ReaderError as exc:
        raise _not_allowed(name, text, exc) from None
    try:
        root = loader.get_single_node()
        if root is not None:
            _check_duplicate_keys(root, name)
        data = loader.construct_document(root) if root is not None else None
    except yaml.reader.ReaderError as exc:
        raise _not_allowed(name, text, exc) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(name, exc) from None
    except yaml.YAMLError as exc:
        raise PlaybookConfigError(name, f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return _Source(name, data, root)


def _not_allowed(name: str, text: str, exc: yaml.reader.ReaderError) -> PlaybookConfigError:
    """A character YAML does not allow in a document (a NUL, most control characters)."""
    return PlaybookConfigError(
        name, f"has a character YAML does not allow (U+{exc.character:04X}); remove it",
        line=text.count("\n", 0, exc.position) + 1)


def _syntax_error(name: str, exc: yaml.MarkedYAMLError) -> PlaybookConfigError:
    """One line from PyYAML's problem / context pair, at the problem's line."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "cannot be parsed"
    if exc.context and exc.problem and exc.problem.startswith("but "):
        problem = f"{exc.context} {exc.problem}"
    elif exc.context and exc.context_mark and mark and exc.context_mark.line != mark.line:
        problem += f" ({exc.context} started on line {exc.context_mark.line + 1})"
    line = mark.line + 1 if mark else None
    return PlaybookConfigError(name, f"not valid YAML: {problem}", line=line)


def _check_duplicate_keys(root: yaml.Node, name: str) -> None:
    """YAML silently keeps the last of two equal keys; an edited playbook must not."""
    for path, node in _mappings(root, ()):
        seen: dict[tuple[str, str], int] = {}
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            line = key.start_mark.line + 1
            if (key.tag, key.value) in seen:
                first = seen[(key.tag, key.value)]
                raise PlaybookConfigError(
                    name,
                    f"appears twice in the same mapping (first on line {first})",
                    line=line,
                    key=dotted((*path, key.value)),
                )
            seen[(key.tag, key.value)] = line


def _mappings(root: yaml.Node, path: KeyPath) -> Iterator[tuple[KeyPath, yaml.MappingNode]]:
    """Every mapping node in the tree with its key path (aliases visited once)."""
    stack: list[tuple[KeyPath, yaml.Node]] = [(path, root)]
    seen: set[int] = set()
    while stack:
        where, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            yield where, node
            stack.extend((_child_path(where, k), v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(((*where, i), item) for i, item in enumerate(node.value))


def _child_path(path: KeyPath, key: yaml.Node) -> KeyPath:
    return (*path, key.value if isinstance(key, yaml.ScalarNode) else "?")


def _check_known_keys(default: Any, override: Any, path: KeyPath) -> None:
    """Refuse keys the default does not have (a typo would otherwise be ignored)."""
    if path in _FREE_KEYS:
        return
    if isinstance(default, Mapping) and isinstance(override, Mapping):
        for key, value in override.items():
            if isinstance(key, bool):
                # YAML 1.1 reads a bare yes/no/on/off key as true/false.
                raise PlaybookError(
                    (*path, "yes" if key else "no"),
                    'is read as true/false: quote the key ("yes": / "no":)',
                )
            if key not in default:
                raise PlaybookError((*path, str(key)), _unknown_key(str(key), default))
            _check_known_keys(default[key], value, (*path, str(key)))
    elif isinstance(default, list) and isinstance(override, list):
        shape: dict[str, Any] = {}
        for item in default:
            if isinstance(item, Mapping):
                shape.update(item)
        if shape:
            for i, item in enumerate(override):
                _check_known_keys(shape, item, (*path, i))


def _unknown_key(key: str, known: Mapping[str, Any]) -> str:
    names = [str(k) for k in known]
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known here: {', '.join(names)})"
    return f"is not a playbook key{hint}"


def _located(exc: PlaybookError, default: _Source, override: _Source | None) -> PlaybookConfigError:
    """Point at the deepest part of the key that the override file holds, else the default."""
    source = default
    if override is not None and (not exc.path or _find(override.root, exc.path)[0] > 0):
        source = override
    line = _find(source.root, exc.path)[1]
    return PlaybookConfigError(source.name, exc.problem, line=line, key=dotted(exc.path))


def _find(root: yaml.Node | None, path: KeyPath) -> tuple[int, int | None]:
    """How many parts of ``path`` the tree holds, and the line of the deepest one."""
    node, line, depth = root, _line(root), 0
    for part in path:
        child: tuple[yaml.Node, yaml.Node] | None = None
        if isinstance(node, yaml.MappingNode):
            child = next(
                ((k, v) for k, v in node.value
                 if isinstance(k, yaml.ScalarNode) and k.value == str(part)),
                None,
            )
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = (node.value[part], node.value[part])
        if child is None:
            break
        key_node, node = child
        line, depth = key_node.start_mark.line + 1, depth + 1
    return depth, line


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _kind(value: Any) -> str:
    return {list: "list", str: "text", int: "number", float: "number", bool: "true/false"}.get(
        type(value), type(value).__name__
    )
