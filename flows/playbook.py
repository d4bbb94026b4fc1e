"""The playbook: an org's focus areas, cadences, check-in and solution chart.

``build_playbook`` turns plain data (parsed YAML) into typed values and names
the exact key of anything wrong, so the loader can point at the line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flows.chart import Chart, Leaf, Question

Path = tuple[str | int, ...]

RHYTHMS = ("daily", "weekly", "biweekly", "monthly", "quarterly")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CATEGORIES = (
    "diagnose", "none", "systemic", "expectations", "obstacle", "personal", "training",
    "coaching", "job fit", "priorities", "thinking", "consequences", "choice",
)
_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class PlaybookError(ValueError):
    """A bad playbook value; ``path`` is the key that holds it."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{dotted(path)}: {problem}")


def dotted(path: Path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


@dataclass(frozen=True, slots=True)
class Named:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Acceleration:
    near: str  # month_end | quarter_end
    weeks: int
    times_per_week: int


# What a meeting's prep nudge shows, by whom the meeting is with (the first is the default):
# ``rep``: the rep's open actions, planned review and latest numbers; ``changes``: what
# changed since the last one held (actions, sessions, check-ins, numbers against the period
# before); ``team``: the team's latest numbers; ``tree``: the leader's organisation.
PREPS = {"rep": ("rep", "changes"), "team": ("team", "changes"), "leader": ("tree",)}


@dataclass(frozen=True, slots=True)
class Meeting:
    id: str
    label: str
    rhythm: str
    day: str
    time: str
    who: str
    accelerate: Acceleration | None
    prep: str = "rep"


@dataclass(frozen=True, slots=True)
class CheckinSettings:
    rhythm: str
    day: str
    time: str
    reminder_after_hours: int
    activities: tuple[Named, ...]


@dataclass(frozen=True, slots=True)
class DigestSettings:
    coverage_days: int
    compare_weeks: int
    systemic_min_reps: int
    systemic_min_teams: int
    systemic_window_days: int
    send_day: str
    send_time: str


@dataclass(frozen=True, slots=True)
class RhythmSettings:
    """What the due-work function (bot/rhythm) sends when: hours around meetings, the
    no-1:1 gap, quiet hours (local; a message due inside them waits for their end)."""

    prep_hours_before: int
    check_hours_after: int
    no_one_on_one_days: int
    quiet_start: str
    quiet_end: str
    horizon_days: int
    reminder_time: str  # action and review reminders: this local time on the day


DEFAULT_RHYTHM = RhythmSettings(prep_hours_before=2, check_hours_after=1,
                                no_one_on_one_days=14, quiet_start="20:00", quiet_end="08:00",
                                horizon_days=42, reminder_time="09:00")


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """The org's word on a language model (the environment says whether one is configured).

    ``enabled``: use it when configured; ``send_private``: private notes and private
    leaves' content may be sent to it (METHOD §9: never, unless the org turns this on);
    ``log_content``: the request log keeps what was sent and received, not only sizes."""

    enabled: bool = True
    send_private: bool = False
    log_content: bool = False


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    """How many days free text is kept before the scheduler clears it (None: kept).

    ``checkin_text_days``: a check-in's blockers and action updates (and its ended
    conversation); ``notes_days``: private notes, action-item notes and what other ended
    conversations still hold."""

    checkin_text_days: int | None = None
    notes_days: int | None = None


@dataclass(frozen=True, slots=True)
class Playbook:
    focus_areas: tuple[Named, ...]
    meetings: tuple[Meeting, ...]
    checkin: CheckinSettings
    chart: Chart
    digest: DigestSettings
    managers_may_add_reports: bool
    max_answer_chars: int
    foundations: Mapping[str, tuple[str, ...]]
    # After REFER_PERSONAL or JOB_FIT the rep gets, at most, a neutral "recorded" line.
    tell_rep_after_private_leaf: bool = False
    rhythm: RhythmSettings = DEFAULT_RHYTHM
    model: ModelSettings = ModelSettings()
    retention: RetentionSettings = RetentionSettings()

    def focus_label(self, focus_id: str) -> str:
        return next((f.label for f in self.focus_areas if f.id == focus_id), focus_id)

    def leaf_label(self, leaf_id: str) -> str:
        """A chart leaf's name for people; an id the chart does not know stays as it is."""
        leaf = self.chart.leaves.get(leaf_id)
        return leaf.label if leaf is not None else leaf_id


def merge(base: Any, override: Any) -> Any:
    """Deep-merge mappings; anything else in ``override`` replaces ``base``."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    return override


def check_fixed_chart(default: Mapping[str, Any], merged: Mapping[str, Any]) -> None:
    """Orgs may reword the chart but not change its ids or branches (METHOD §4)."""
    base = default["chart"]
    chart = _mapping(merged.get("chart"), ("chart",))
    if chart.get("start") != base["start"]:
        raise PlaybookError(("chart", "start"), f"is fixed at {base['start']}")
    for group, fixed_keys in (("questions", ("yes", "no")), ("leaves", ("category",))):
        entries = _mapping(chart.get(group), ("chart", group))
        for key in entries:
            if key not in base[group]:
                raise PlaybookError(("chart", group, key), "is not an id of the solution chart")
        for key, fixed in base[group].items():
            entry = entries.get(key)
            if not isinstance(entry, Mapping):
                raise PlaybookError(("chart", group, key), "is missing or not a mapping")
            for name in fixed_keys:
                if entry.get(name) != fixed[name]:
                    raise PlaybookError(
                        ("chart", group, key, name),
                        f"is fixed at {fixed[name]!r}; only the wording may change",
                    )


def build_playbook(raw: Any) -> Playbook:
    """Validate plain data into a :class:`Playbook` or raise :class:`PlaybookError`."""
    top = _mapping(raw, ())
    sessions = _mapping(top.get("sessions", {}), ("sessions",))
    return Playbook(
        focus_areas=_named_list(top, ("focus_areas",)),
        meetings=tuple(
            _meeting(m, ("meetings", i)) for i, m in enumerate(_list(top, ("meetings",)))
        ),
        checkin=_checkin(_mapping(top.get("checkin"), ("checkin",))),
        chart=_chart(_mapping(top.get("chart"), ("chart",))),
        digest=_digest(_mapping(top.get("digest"), ("digest",))),
        managers_may_add_reports=_bool(sessions, ("sessions", "managers_may_add_reports"), True),
        max_answer_chars=_int(sessions, ("sessions", "max_answer_chars"), 100, 20000, 2000),
        foundations={
            str(k): tuple(str(x) for x in _list(top, ("foundations", str(k)), container=v))
            for k, v in _mapping(top.get("foundations", {}), ("foundations",)).items()
        },
        tell_rep_after_private_leaf=_bool(
            sessions, ("sessions", "tell_rep_after_private_leaf"), False),
        rhythm=_rhythm(_mapping(top.get("rhythm", {}), ("rhythm",))),
        model=_model(_mapping(top.get("llm", {}), ("llm",))),
        retention=_retention(_mapping(top.get("retention", {}), ("retention",))),
    )


def _retention(entry: Mapping[str, Any]) -> RetentionSettings:
    def days(key: str) -> int | None:
        if entry.get(key) is None:
            return None
        return _int(entry, ("retention", key), 1, 36500, 0)

    return RetentionSettings(checkin_text_days=days("checkin_text_days"),
                             notes_days=days("notes_days"))


def _model(entry: Mapping[str, Any]) -> ModelSettings:
    return ModelSettings(
        enabled=_bool(entry, ("llm", "enabled"), True),
        send_private=_bool(entry, ("llm", "send_private"), False),
        log_content=_bool(entry, ("llm", "log_content"), False),
    )


def _mapping(value: Any, path: Path) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PlaybookError(path, "must be a mapping of keys to values")
    return value


def _list(
    parent: Mapping[str, Any], path: Path, container: Any = None
) -> Sequence[Any]:
    value = container if container is not None else parent.get(str(path[-1]))
    if not isinstance(value, list) or not value:
        raise PlaybookError(path, "must be a non-empty list")
    return value


def _str(parent: Mapping[str, Any], path: Path, default: str | None = None) -> str:
    value = parent.get(str(path[-1]), default)
    if not isinstance(value, str) or not value.strip():
        raise PlaybookError(path, "must be non-empty text")
    return value.strip()


def _choice(parent: Mapping[str, Any], path: Path, allowed: Sequence[str], default: str) -> str:
    value = _str(parent, path, default)
    if value not in allowed:
        raise PlaybookError(path, f"must be one of {', '.join(allowed)} (got {value!r})")
    return value


def _int(parent: Mapping[str, Any], path: Path, low: int, high: int, default: int) -> int:
    value = parent.get(str(path[-1]), default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PlaybookError(path, f"must be a whole number from {low} to {high}")
    return value


def _bool(parent: Mapping[str, Any], path: Path, default: bool) -> bool:
    value = parent.get(str(path[-1]), default)
    if not isinstance(value, bool):
        raise PlaybookError(path, "must be true or false")
    return value


def _id(parent: Mapping[str, Any], path: Path) -> str:
    value = _str(parent, path)
    if not _ID.match(value):
        raise PlaybookError(path, "must be lower_snake_case (letters, digits, _)")
    return value


def _time(parent: Mapping[str, Any], path: Path, default: str) -> str:
    value = _str(parent, path, default)
    if not _TIME.match(value):
        raise PlaybookError(path, "must be a 24-hour time like \"15:00\" (quote it)")
    return value


def _named_list(parent: Mapping[str, Any], path: Path) -> tuple[Named, ...]:
    items: list[Named] = []
    seen: set[str] = set()
    for i, raw in enumerate(_list(parent, path)):
        entry = _mapping(raw, (*path, i))
        item = Named(_id(entry, (*path, i, "id")), _str(entry, (*path, i, "label")))
        if item.id in seen:
            raise PlaybookError((*path, i, "id"), f"{item.id!r} appears twice")
        seen.add(item.id)
        items.append(item)
    return tuple(items)


def _meeting(raw: Any, path: Path) -> Meeting:
    entry = _mapping(raw, path)
    accelerate = None
    if entry.get("accelerate") is not None:
        acc = _mapping(entry["accelerate"], (*path, "accelerate"))
        accelerate = Acceleration(
            near=_choice(acc, (*path, "accelerate", "near"), ("month_end", "quarter_end"), ""),
            weeks=_int(acc, (*path, "accelerate", "weeks"), 1, 4, 2),
            times_per_week=_int(acc, (*path, "accelerate", "times_per_week"), 2, 5, 2),
        )
    who = _choice(entry, (*path, "who"), tuple(PREPS), "team")
    return Meeting(
        id=_id(entry, (*path, "id")),
        label=_str(entry, (*path, "label")),
        rhythm=_choice(entry, (*path, "rhythm"), RHYTHMS, ""),
        day=_choice(entry, (*path, "day"), DAYS, "mon"),
        time=_time(entry, (*path, "time"), "09:00"),
        who=who,
        accelerate=accelerate,
        prep=_choice(entry, (*path, "prep"), PREPS[who], PREPS[who][0]),
    )


def _checkin(entry: Mapping[str, Any]) -> CheckinSettings:
    path: Path = ("checkin",)
    return CheckinSettings(
        rhythm=_choice(entry, (*path, "rhythm"), RHYTHMS, "weekly"),
        day=_choice(entry, (*path, "day"), DAYS, "fri"),
        time=_time(entry, (*path, "time"), "15:00"),
        reminder_after_hours=_int(entry, (*path, "reminder_after_hours"), 1, 168, 20),
        activities=_named_list(entry, (*path, "activities")),
    )


def _chart(entry: Mapping[str, Any]) -> Chart:
    leaves: dict[str, Leaf] = {}
    for leaf_id, raw in _mapping(entry.get("leaves"), ("chart", "leaves")).items():
        path: Path = ("chart", "leaves", leaf_id)
        leaf = _mapping(raw, path)
        leaves[leaf_id] = Leaf(
            leaf_id, _choice(leaf, (*path, "category"), CATEGORIES, ""),
            _str(leaf, (*path, "next")), _str(leaf, (*path, "label")),
        )
    questions: dict[str, Question] = {}
    raw_questions = _mapping(entry.get("questions"), ("chart", "questions"))
    for qid, raw in raw_questions.items():
        path = ("chart", "questions", qid)
        q = _mapping(raw, path)
        targets = []
        for answer in ("yes", "no"):
            target = _str(q, (*path, answer))
            if target not in raw_questions and target not in leaves:
                raise PlaybookError((*path, answer), f"{target!r} is neither a question nor a leaf")
            targets.append(target)
        questions[qid] = Question(qid, _str(q, (*path, "text")), targets[0], targets[1])
    start = _str(entry, ("chart", "start"))
    if start not in questions:
        raise PlaybookError(("chart", "start"), f"{start!r} is not a question")
    chart = Chart(start, questions, leaves)
    _check_tree(chart)
    return chart


def _check_tree(chart: Chart) -> None:
    """Every node reachable from the start, and no loops."""
    reached: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> None:
        if node in trail:
            raise PlaybookError(("chart", "questions", node), "is part of a loop")
        reached.add(node)
        if node in chart.questions:
            q = chart.questions[node]
            visit(q.yes, (*trail, node))
            visit(q.no, (*trail, node))

    visit(chart.start, ())
    for group, ids in (("questions", chart.questions), ("leaves", chart.leaves)):
        for node in ids:
            if node not in reached:
                raise PlaybookError(("chart", group, node), "cannot be reached from the start")


def _digest(entry: Mapping[str, Any]) -> DigestSettings:
    systemic = _mapping(entry.get("systemic", {}), ("digest", "systemic"))
    send = _mapping(entry.get("send", {}), ("digest", "send"))
    return DigestSettings(
        coverage_days=_int(entry, ("digest", "coverage_days"), 1, 365, 14),
        compare_weeks=_int(entry, ("digest", "compare_weeks"), 1, 26, 4),
        systemic_min_reps=_int(systemic, ("digest", "systemic", "min_reps"), 2, 100, 3),
        systemic_min_teams=_int(systemic, ("digest", "systemic", "min_teams"), 2, 100, 2),
        systemic_window_days=_int(systemic, ("digest", "systemic", "window_days"), 1, 365, 30),
        send_day=_choice(send, ("digest", "send", "day"), DAYS, "mon"),
        send_time=_time(send, ("digest", "send", "time"), "08:00"),
    )


def _rhythm(entry: Mapping[str, Any]) -> RhythmSettings:
    path: Path = ("rhythm",)
    quiet = _mapping(entry.get("quiet_hours", {}), (*path, "quiet_hours"))
    d = DEFAULT_RHYTHM
    return RhythmSettings(
        prep_hours_before=_int(entry, (*path, "prep_hours_before"), 1, 72, d.prep_hours_before),
        check_hours_after=_int(entry, (*path, "check_hours_after"), 1, 72, d.check_hours_after),
        no_one_on_one_days=_int(entry, (*path, "no_one_on_one_days"), 1, 365,
                                d.no_one_on_one_days),
        quiet_start=_time(quiet, (*path, "quiet_hours", "start"), d.quiet_start),
        quiet_end=_time(quiet, (*path, "quiet_hours", "end"), d.quiet_end),
        horizon_days=_int(entry, (*path, "horizon_days"), 7, 120, d.horizon_days),
        reminder_time=_time(entry, (*path, "reminder_time"), d.reminder_time),
    )
