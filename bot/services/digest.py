"""The weekly digest (METHOD §8): a leader's whole tree or a manager's own team, the reported
ISO week against the ones before it. One typed :class:`Digest` built from storage.digest's
figures; its JSON (``coach digest --json``), its plain text (every chat and the console)
and a chart of the trends (a PNG, attached where the platform shows pictures: Slack).

Only counts, names of managers, focus areas, leaves and escalation owners reach the text:
never a note, an escalation's impact or evidence, or anything a rep said (their check-in
blockers are counted by tag, never quoted).

With a language model, a narrative of three to five sentences goes on top of the figures
(``narrative_figures`` is what the model is shown: counts and shares, no names; every
number of a kept sentence is one of them, see bot/llm/narrator.py); without one, or when it
fails, the text is the same without it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import fmean
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from bot.clock import zone
from bot.services.digest_chart import trends_png
from flows.messages import Image, Message
from flows.playbook import Playbook
from storage import digest as figures_of
from storage.models import Person

STEADY = 0.05  # a change within 5 % of the earlier weeks' average is no trend
# In a queued digest's outbox payload: the figures a model narrates (then it is taken out).
NARRATIVE_KEY = "narrative"
_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$")


class DigestText:
    title = "Weekly digest for {name}: {scope}, week {week} ({first} to {last})."
    scope_tree = "your whole reporting tree"
    scope_team = "your team"
    how = ("Each figure: this week, then the {n} weeks before (oldest first) and the trend "
           "against their average. The detail of [key]: coach digest --leader {email} "
           "--week {week} --json")
    coverage = ("Coaching coverage: {value} of {reps} reps had a held session in the last "
                "{days} days{trend} [coverage]")
    sessions = "Sessions per manager: {value}{trend} [sessions_per_manager]"
    adherence = "Cadence adherence (meetings held / planned): {value}{trend} [adherence]"
    actions = ("Action items: {opened} opened{opened_trend}, {done} done{done_trend}, "
               "{overdue} overdue{overdue_trend} [actions]")
    checkins = "Check-in response rate: {value}{trend} [checkin_response_rate]"
    result = ("Results vs objectives, {metric}: {actual:g} of {target:g} ({value}){trend} "
              "[results_trend]")
    no_results = "Results vs objectives: no result figures for this week [results_trend]"
    mix = "Solution mix (chart leaves by category): {mix} [solution_mix]"
    no_mix = "Solution mix: no chart leaf this week [solution_mix]"
    gap = ("Coaching perception gap (reps coached as logged / as confirmed in check-ins): "
           "{gaps} [perception_gap]")
    no_gap = "Coaching perception gap: no manager in scope [perception_gap]"
    gap_entry = "{name} {logged}/{confirmed}"
    flags = "Systemic flags ({days} days): {flags} [systemic_flags]"
    no_flags = "Systemic flags ({days} days): none [systemic_flags]"
    flag = "{kind} “{value}” for {reps} in {teams}"
    reps = ("rep", "reps")
    teams = ("team", "teams")
    flag_kinds: ClassVar[dict[str, str]] = {
        "category": "category", "focus_area": "focus area", "leaf": "systemic leaf"}
    gaps = ("Whole-job balance, focus areas no session touched in {days} days: {areas} "
            "[whole_job_gaps]")
    no_gaps = "Whole-job balance: every focus area had a session in {days} days [whole_job_gaps]"
    escalations = ("Open escalations: {count}{oldest} (acknowledge or resolve: /escalations) "
                   "[open_escalations]")
    oldest = "; oldest: {items}"
    escalation = "{leaf} (owner {owner}, {status} since {since})"
    blockers = "Blockers named in check-ins: {tags} [blocker_tags]"
    blocker_tag = "{tag} {n}"
    untagged = "{n} not tagged"
    no_blockers = "Blockers named in check-ins: none this week [blocker_tags]"
    narrative = "In short: {sentences} [narrative]"
    trend: ClassVar[dict[str | None, str]] = {
        "up": " ↑ (before: {previous})", "down": " ↓ (before: {previous})",
        "flat": " → steady (before: {previous})", None: " (before: {previous})"}
    none = "n/a"
    alt = ("Trends over {n} weeks to {week}: coaching coverage, check-in response rate, "
           "cadence adherence and sessions per manager.")


class DigestRefused(ValueError):
    """Nobody to make a digest for (a rep, an admin): one clear sentence."""


@dataclass(frozen=True, slots=True)
class Trend:
    """A figure this week and in the weeks before (oldest first); None: nothing to count."""

    value: float | None
    previous: tuple[float | None, ...]

    @classmethod
    def of(cls, values: list[float | None]) -> Trend:
        return cls(values[-1], tuple(values[:-1]))

    @property
    def direction(self) -> str | None:
        earlier = [v for v in self.previous if v is not None]
        if self.value is None or not earlier:
            return None
        average = fmean(earlier)
        if abs(self.value - average) <= STEADY * abs(average):
            return "flat"
        return "up" if self.value > average else "down"

    def as_json(self) -> dict[str, Any]:
        return {"value": _round(self.value), "previous": [_round(v) for v in self.previous],
                "trend": self.direction}


@dataclass(frozen=True, slots=True)
class Meetings:
    held: int
    planned: int


@dataclass(frozen=True, slots=True)
class Gap:
    logged: int  # reps the manager logged a held session with that week
    confirmed: int  # the manager's reps whose check-in said they got coaching


@dataclass(frozen=True, slots=True)
class Result:
    actual: float
    target: float
    trend: Trend


@dataclass(frozen=True, slots=True)
class Digest:
    leader: str  # the recipient's email
    name: str
    whole_tree: bool  # a leader's tree; False: a manager's team
    monday: date
    weeks: int
    coverage_days: int
    systemic_days: int
    reps: int
    covered: int
    coverage: Trend
    sessions_per_manager: Trend
    sessions_by_manager: dict[str, int]
    adherence: Trend
    adherence_by_manager: dict[str, dict[str, Meetings]]
    opened: Trend
    done: Trend
    overdue: Trend
    checkin_response_rate: Trend
    results: dict[str, Result]
    solution_mix: dict[str, int]
    perception_gap: dict[str, Gap]
    manager_names: dict[str, str]
    systemic_flags: tuple[figures_of.Flag, ...]
    whole_job_gaps: tuple[str, ...]
    open_escalations: int
    oldest_escalations: tuple[figures_of.OpenEscalation, ...]
    blocker_tags: dict[str, int]  # the week's tagged check-in blockers, most named first
    untagged_blockers: int  # answered check-ins with blocker text but no tagged blocker

    @property
    def week(self) -> str:
        return iso_week(self.monday)

    def as_json(self, narrative: list[str] | None = None) -> dict[str, Any]:
        """The object ``coach digest --json`` prints (keys named in the README);
        ``narrative``: the model's sentences, when a model is configured."""
        return {
            "week": self.week,
            "leader": self.leader,
            "coverage": {**self.coverage.as_json(), "reps": self.reps, "covered": self.covered,
                         "days": self.coverage_days},
            "sessions_per_manager": {**self.sessions_per_manager.as_json(),
                                     "by_manager": self.sessions_by_manager},
            "adherence": {**self.adherence.as_json(), "by_manager": {
                email: {kind: {"held": m.held, "planned": m.planned} for kind, m in kinds.items()}
                for email, kinds in self.adherence_by_manager.items()}},
            "actions": {"opened": self.opened.as_json(), "done": self.done.as_json(),
                        "overdue": self.overdue.as_json()},
            "checkin_response_rate": self.checkin_response_rate.as_json(),
            "results_trend": {metric: {"actual": r.actual, "target": r.target,
                                       **r.trend.as_json()}
                              for metric, r in self.results.items()},
            "solution_mix": self.solution_mix,
            "perception_gap": {email: {"logged": g.logged, "confirmed": g.confirmed}
                               for email, g in self.perception_gap.items()},
            "systemic_flags": [{"kind": f.kind, "value": f.value, "reps": f.reps,
                                "teams": f.teams} for f in self.systemic_flags],
            "whole_job_gaps": list(self.whole_job_gaps),
            "open_escalations": {"count": self.open_escalations, "oldest": [
                {"id": e.id, "leaf": e.leaf, "owner": e.owner, "status": e.status,
                 "since": e.since.isoformat()} for e in self.oldest_escalations]},
            "blocker_tags": self.blocker_tags,
            "untagged_blockers": self.untagged_blockers,
            **({} if narrative is None else {"narrative": narrative}),
        }

    def narrative_figures(self) -> dict[str, Any]:
        """What a language model is shown to write the narrative: the week's counts and
        shares with their earlier weeks, summed over managers (no name, no email)."""
        found = self.as_json()
        gaps = self.perception_gap.values()
        return {
            "week": self.week, "week_number": self.monday.isocalendar()[1],
            "weeks_compared": self.weeks - 1, "reps_in_scope": self.reps,
            "coverage": {k: found["coverage"][k]
                         for k in ("value", "previous", "trend", "covered", "days")},
            "sessions_per_manager": {k: v for k, v in found["sessions_per_manager"].items()
                                     if k != "by_manager"},
            "sessions_held": sum(self.sessions_by_manager.values()),
            "adherence": {k: v for k, v in found["adherence"].items() if k != "by_manager"},
            "actions": found["actions"],
            "checkin_response_rate": found["checkin_response_rate"],
            "results_trend": found["results_trend"],
            "solution_mix": found["solution_mix"],
            "perception_gap": {"reps_coached_as_logged": sum(g.logged for g in gaps),
                               "reps_confirming_coaching": sum(g.confirmed for g in gaps)},
            "systemic_flags": found["systemic_flags"],
            "whole_job_gaps": found["whole_job_gaps"],
            "open_escalations": self.open_escalations,
            "blocker_tags": self.blocker_tags,
            "untagged_blockers": self.untagged_blockers,
        }


def iso_week(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year:04d}-W{week:02d}"


def parse_week(text: str) -> date:
    """``YYYY-Www`` (or ``YYYYWww``) → that ISO week's Monday; ValueError with a sentence
    saying what is wrong otherwise."""
    match = _ISO_WEEK.match(text.strip().upper())
    if match is None:
        raise ValueError(f"{text[:40]!r} is not an ISO week: write it like 2026-W49")
    year, week = int(match.group(1)), int(match.group(2))
    if not 1 <= year <= 9999:
        raise ValueError(f"{year} is not a year we can count weeks in (1 to 9999)")
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} has no ISO week {week} (weeks run from 1 to "
                         f"{date(year, 12, 28).isocalendar()[1]})") from None


def last_full_week(now: datetime, timezone: str) -> date:
    """The Monday of the week that ended before ``now`` in that zone (what a Monday
    digest reports on)."""
    today = now.astimezone(zone(timezone)).date()
    return today - timedelta(days=today.weekday() + 7)


def build(db: Session, recipient: Person, week: date, playbook: Playbook,
          now: datetime) -> Digest:
    """The digest of the week starting ``week`` (a Monday; another day means its week)
    for a leader's tree or a manager's team."""
    if recipient.role not in ("leader", "manager"):
        raise DigestRefused(f"{recipient.email} is a {recipient.role}: the digest is for "
                            "managers (their team) and leaders (their tree)")
    settings = playbook.digest
    monday = week - timedelta(days=week.weekday())
    if monday > now.astimezone(zone(recipient.timezone)).date():
        raise DigestRefused(f"week {iso_week(monday)} has not started yet")
    weeks = figures_of.Weeks.ending(monday, zone(recipient.timezone),
                                    settings.compare_weeks + 1, now)
    systemic_leaves = [leaf.id for leaf in playbook.chart.leaves.values()
                       if leaf.category == "systemic"]
    found = figures_of.figures(db, figures_of.Scope(recipient.id, recipient.role), weeks,
                               settings.coverage_days, systemic_leaves,
                               settings.systemic_window_days)
    return _digest(recipient, monday, playbook, found)


def _digest(recipient: Person, monday: date, playbook: Playbook,
            found: figures_of.Figures) -> Digest:
    settings, n = playbook.digest, found.weeks.count
    heads = found.team_heads()
    everyone = list(found.managers.values())
    sessions_per_week = [sum(m.sessions[k] for m in everyone) for k in range(n)]
    held = [sum(w[k][0] for m in everyone for w in m.meetings.values()) for k in range(n)]
    planned = [sum(w[k][1] for m in everyone for w in m.meetings.values()) for k in range(n)]
    return Digest(
        leader=recipient.email, name=recipient.name, whole_tree=recipient.role == "leader",
        monday=monday, weeks=n, coverage_days=settings.coverage_days,
        systemic_days=settings.systemic_window_days, reps=found.reps,
        covered=found.covered[-1],
        coverage=Trend.of([_share(c, found.reps) for c in found.covered]),
        sessions_per_manager=Trend.of([_share(s, len(heads)) for s in sessions_per_week]),
        sessions_by_manager={m.manager.email: m.sessions[-1] for m in everyone
                             if m.reps or m.sessions[-1]},
        adherence=Trend.of([_share(h, p) for h, p in zip(held, planned, strict=True)]),
        adherence_by_manager={m.manager.email: {kind: Meetings(*weeks[-1])
                                                for kind, weeks in sorted(m.meetings.items())
                                                if weeks[-1][1]}
                              for m in everyone if any(w[-1][1] for w in m.meetings.values())},
        opened=Trend.of([float(v) for v in found.opened]),
        done=Trend.of([float(v) for v in found.done]),
        overdue=Trend.of([float(v) for v in found.overdue]),
        checkin_response_rate=Trend.of([_share(a, a + u) for a, u in
                                        zip(found.answered, found.unanswered, strict=True)]),
        results={metric: Result(sums[-1][0], sums[-1][1], Trend.of(
            [None if s is None else _share(s[0], s[1]) for s in sums]))
            for metric, sums in sorted(found.results.items()) if sums[-1] is not None},
        solution_mix={category: weeks[-1] for category, weeks in sorted(found.mix.items())
                      if weeks[-1]},
        perception_gap={m.manager.email: Gap(m.reps_coached[-1], m.confirmed[-1])
                        for m in everyone if m.reps or m.reps_coached[-1]},
        manager_names={m.manager.email: m.manager.name for m in everyone},
        systemic_flags=_flags(found.flags, settings.systemic_min_reps,
                              settings.systemic_min_teams),
        whole_job_gaps=tuple(f.id for f in playbook.focus_areas
                             if f.id not in found.focus_touched),
        open_escalations=found.open_escalations,
        oldest_escalations=tuple(found.escalations),
        blocker_tags=dict(sorted(found.blocker_tags.items(), key=lambda t: (-t[1], t[0]))),
        untagged_blockers=found.untagged_blockers,
    )


def _flags(flags: list[figures_of.Flag], min_reps: int,
           min_teams: int) -> tuple[figures_of.Flag, ...]:
    """Every systemic leaf; a category or focus area for enough reps or teams."""
    kept = [f for f in flags if f.kind == "leaf" or f.reps >= min_reps or f.teams >= min_teams]
    order = {"leaf": 0, "category": 1, "focus_area": 2}
    return tuple(sorted(kept, key=lambda f: (order[f.kind], -f.reps, -f.teams, f.value)))


def _share(part: float, whole: float) -> float | None:
    return None if not whole else part / whole


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# --- the text ----------------------------------------------------------------------------

def render_text(d: Digest, playbook: Playbook, narrative: Sequence[str] = ()) -> str:
    """The digest as plain text; ``narrative``: the model's sentences, put on top."""
    t = DigestText
    last = d.monday + timedelta(days=6)
    lines = [t.title.format(name=d.name, scope=t.scope_tree if d.whole_tree else t.scope_team,
                            week=d.week, first=d.monday.isoformat(), last=last.isoformat()),
             t.how.format(n=d.weeks - 1, email=d.leader, week=d.week), ""]
    lines.append(t.coverage.format(value=_percent(d.coverage.value), reps=d.reps,
                                   days=d.coverage_days, trend=_trend(d.coverage, _percent)))
    lines.append(t.sessions.format(value=_number(d.sessions_per_manager.value),
                                   trend=_trend(d.sessions_per_manager, _number)))
    lines.append(t.adherence.format(value=_percent(d.adherence.value),
                                    trend=_trend(d.adherence, _percent)))
    lines.append(t.actions.format(
        opened=_number(d.opened.value), opened_trend=_trend(d.opened, _number),
        done=_number(d.done.value), done_trend=_trend(d.done, _number),
        overdue=_number(d.overdue.value), overdue_trend=_trend(d.overdue, _number)))
    lines.append(t.checkins.format(value=_percent(d.checkin_response_rate.value),
                                   trend=_trend(d.checkin_response_rate, _percent)))
    lines += [t.result.format(metric=metric, actual=r.actual, target=r.target,
                              value=_percent(r.trend.value), trend=_trend(r.trend, _percent))
              for metric, r in d.results.items()] or [t.no_results]
    lines.append(t.mix.format(mix=", ".join(f"{c} {n}" for c, n in d.solution_mix.items()))
                 if d.solution_mix else t.no_mix)
    lines.append(t.gap.format(gaps=", ".join(
        t.gap_entry.format(name=d.manager_names.get(email, email), logged=g.logged,
                           confirmed=g.confirmed) for email, g in d.perception_gap.items()))
        if d.perception_gap else t.no_gap)
    lines.append(t.flags.format(days=d.systemic_days, flags="; ".join(
        t.flag.format(kind=t.flag_kinds[f.kind], value=_flag_value(f, playbook),
                      reps=_counted(f.reps, t.reps), teams=_counted(f.teams, t.teams))
        for f in d.systemic_flags))
        if d.systemic_flags else t.no_flags.format(days=d.systemic_days))
    lines.append(t.gaps.format(days=figures_of.QUARTER_DAYS, areas=", ".join(
        playbook.focus_label(f) for f in d.whole_job_gaps))
        if d.whole_job_gaps else t.no_gaps.format(days=figures_of.QUARTER_DAYS))
    oldest = t.oldest.format(items="; ".join(
        t.escalation.format(leaf=playbook.leaf_label(e.leaf), owner=e.owner, status=e.status,
                            since=e.since.date().isoformat())
        for e in d.oldest_escalations)) if d.oldest_escalations else ""
    lines.append(t.escalations.format(count=d.open_escalations, oldest=oldest))
    named = [t.blocker_tag.format(tag=tag, n=n) for tag, n in d.blocker_tags.items()]
    if d.untagged_blockers:
        named.append(t.untagged.format(n=d.untagged_blockers))
    lines.append(t.blockers.format(tags=", ".join(named)) if named else t.no_blockers)
    return with_narrative("\n".join(lines), narrative)


def with_narrative(text: str, sentences: Sequence[str]) -> str:
    """The digest's ``text`` with the model's sentences on top of the figures (after the
    title and the how-to-read line); the text itself when there are none."""
    if not sentences:
        return text
    head, gap, figures = text.partition("\n\n")
    said = DigestText.narrative.format(sentences=" ".join(s.strip() for s in sentences))
    return f"{head}\n\n{said}\n\n{figures}" if gap else f"{text}\n\n{said}"


def _counted(n: int, words: tuple[str, str]) -> str:
    return f"{n} {words[0] if n == 1 else words[1]}"


def _flag_value(flag: figures_of.Flag, playbook: Playbook) -> str:
    if flag.kind == "leaf":
        return playbook.leaf_label(flag.value)
    if flag.kind == "focus_area":
        return playbook.focus_label(flag.value)
    return flag.value


def _trend(trend: Trend, shown: Any) -> str:
    previous = ", ".join(shown(v) for v in trend.previous)
    return DigestText.trend[trend.direction].format(previous=previous) if previous else ""


def _percent(value: float | None) -> str:
    return DigestText.none if value is None else f"{value:.0%}"


def _number(value: float | None) -> str:
    return DigestText.none if value is None else f"{value:.1f}".removesuffix(".0")


# --- the message -------------------------------------------------------------------------

def digest_message(db: Session, recipient: Person, week: date, playbook: Playbook,
                   now: datetime) -> Message:
    """The digest as one message to ``recipient``: the text, and the trends chart for
    platforms that show pictures (rhythm's weekly job sends it through the outbox)."""
    return message_of(build(db, recipient, week, playbook, now), playbook)


def message_of(built: Digest, playbook: Playbook) -> Message:
    """A built digest as its message (text and chart), to its recipient."""
    alt = DigestText.alt.format(n=built.weeks, week=built.week)
    return Message(render_text(built, playbook), to=built.leader,
                   image=Image(trends_png(_labels(built), _series(built)), alt,
                               f"digest-{built.week}.png"))


def _labels(d: Digest) -> list[str]:
    return [iso_week(d.monday - timedelta(weeks=d.weeks - 1 - k)) for k in range(d.weeks)]


def _series(d: Digest) -> dict[str, list[float | None]]:
    """The chart's lines, oldest week first."""
    def whole(trend: Trend) -> list[float | None]:
        return [*trend.previous, trend.value]

    return {"coverage": whole(d.coverage), "check-in responses": whole(d.checkin_response_rate),
            "cadence adherence": whole(d.adherence),
            "sessions per manager": whole(d.sessions_per_manager)}
