"""The faculty's analytics, from what the store counted and what the logic says: pure, no streamlit.

The store (store_analytics.py) counts answers and attempts; this module puts them next to the cases
as they are in the library: which options each question offered and the logic's grade of each (so an
option nobody chose still shows), where each choice sits on the escalation pathway, which questions
a group gets wrong or unsafe most often, and how long stages take.

Grades shown for an option are those the learners were scored against (kept in each answer record's
verdicts); an option nobody chose shows the logic's grade for the case as it is now. A question whose
answers were given on an earlier version of the case file says so (`edited`).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from dashboard.store_analytics import (
    AnswerChoice,
    AttemptTime,
    CaseActivity,
    QuestionActivity,
    StageTimeCount,
)
from logic import Case, KnowledgeBase, LoadedCase, answer_key, stage_plans
from logic.keys import StagePlan
from logic.knowledge import Pathway
from logic.questions import QuestionBase
from logic.vocabulary import CALIBRATION_LABELS, GRADE_LABELS, OUTCOME_LABELS

# How a question's answers are shown: the options chosen (single or multiple choice), the items
# selected (select-all), the grades of the answers (dose, and any kind without options), or nothing
# (an unscored reflection).
Distribution = Literal["options", "select", "grades", "none"]
SELECT_ALL_KINDS = frozenset({"prerequisites", "monitoring"})
# Labels of what a bar stands for: the grade vocabulary's, plus select-all items and answer verdicts.
NEEDED, NOT_NEEDED = "needed", "not_needed"
BAR_LABELS: dict[str, str] = {
    **{grade: label for grade, label in GRADE_LABELS.items()},
    NEEDED: "Needed",
    NOT_NEEDED: "Not needed",
    "correct": "Correct",
    "partial": "Partly correct",
    "incorrect": "Incorrect",
}
# A dose answer's grade, said as what it means (see logic.scoring: the range ± tolerance is full
# credit, within twice the tolerance half, above the maximum or 1.5× the range unsafe).
DOSE_LABELS: dict[str, str] = {
    "recommended": "In the range",
    "acceptable": "Near the range",
    "not_recommended": "Outside the range",
    "unsafe": "Unsafe: too high",
}
GRADE_ORDER = ("recommended", "acceptable", "not_recommended", "unsafe", "correct", "partial", "incorrect")


@dataclass(frozen=True)
class Bar:
    """One bar of a question's distribution: an option (or a grade) and how many answers chose it."""

    key: str  # option id, or a grade for a distribution of grades
    label: str
    grade: str  # a grade of the vocabulary, NEEDED / NOT_NEEDED, or an answer verdict
    count: int
    of: int  # answers to the question
    best: bool = False  # the logic's best answer (choice), or an item to select (select-all)

    @property
    def share(self) -> float:
        return self.count / self.of if self.of else 0.0


@dataclass(frozen=True)
class QuestionReport:
    case_id: str
    stage_index: int
    stage_title: str
    question_id: str
    kind: str
    prompt: str  # plain text, one line
    activity: QuestionActivity
    distribution: Distribution
    bars: tuple[Bar, ...]
    median_seconds: float | None  # of the question's stage
    edited: bool  # some answers were given on another version of the case file
    numbers: tuple[float, ...] = ()  # the numbers entered (dose questions), sorted
    unit: str = ""

    @property
    def top_wrong(self) -> Bar | None:
        """The wrong choice most often made (choice questions), or the needed item most often missed."""
        if self.distribution == "options":
            wrong = [b for b in self.bars if not b.best and b.count]
            return max(wrong, key=lambda b: (b.grade == "unsafe", b.count), default=None)
        if self.distribution == "select":
            missed = [
                Bar(b.key, b.label, b.grade, b.of - b.count, b.of, True)
                for b in self.bars
                if b.best and b.count < b.of
            ]
            return max(missed, key=lambda b: b.count, default=None)
        return None


@dataclass(frozen=True)
class Trouble:
    """A question a group answers unsafely or wrongly, for the ranking on the first screen."""

    case_id: str
    case_title: str
    stage_index: int
    stage_title: str
    question_id: str
    prompt: str
    answers: int
    unsafe: int
    wrong: int
    mean_score: float | None
    confident_wrong: int
    with_certainty: int
    confident_unsafe: int = 0

    @property
    def unsafe_share(self) -> float:
        return self.unsafe / self.answers if self.answers else 0.0

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.answers if self.answers else 0.0


@dataclass(frozen=True)
class CaseSummary:
    case_id: str
    title: str
    stages: int
    activity: CaseActivity | None
    answers: int
    unsafe: int
    confident_wrong: int
    with_certainty: int
    median_minutes: float | None  # per completed attempt
    confident_unsafe: int = 0


@dataclass(frozen=True)
class StageFlow:
    """Where a group went on the pathway at one stage: learners per step against the recommended step."""

    stage_index: int
    title: str
    position: str  # the patient's step on the pathway at this stage
    answered: int  # learners who answered a next-step question at this stage
    counts: Mapping[str, int]  # step id -> learners who chose an option taught there
    recommended: tuple[str, ...]  # the steps of the logic's best options
    recommended_elsewhere: tuple[str, ...]  # best options that no step teaches (e.g. continue and reassess)
    on_recommended: int  # learners who chose a recommended step
    off_pathway: int  # learners who chose an option that no step of the pathway teaches
    off_options: Mapping[str, int] = field(default_factory=dict)  # those options -> learners

    @property
    def off_share(self) -> float:
        return 1 - self.on_recommended / self.answered if self.answered else 0.0


# ---------------------------------------------------------------------------------------- helpers
_MARKUP = re.compile(r"[*_`#>\[\]]|\(http[^)]*\)")


def plain_prompt(markdown: str, width: int = 110) -> str:
    """A question's prompt as one line of plain text (for tables and chart titles)."""
    text = " ".join(_MARKUP.sub("", markdown).split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def stage_title(case: Case, stage_index: int) -> str:
    if 0 <= stage_index < len(case.stages):
        return f"Stage {stage_index + 1}: {case.stages[stage_index].title}"
    return f"Stage {stage_index + 1}"


def chosen_options(choice: AnswerChoice) -> list[tuple[str, str]]:
    """(option id, grade) of what an answer chose, from its verdicts (a missed item was not chosen)."""
    return [(v["id"], v["grade"]) for v in choice.verdicts if v.get("grade") != "missed" and "id" in v]


def _offered(question: QuestionBase) -> tuple[str, ...]:
    return question.offered()


def distribution_of(question: QuestionBase) -> Distribution:
    kind = kind_of(question)
    if kind == "next_step":
        return "options"
    if kind in SELECT_ALL_KINDS:
        return "select"
    if kind == "reflection":
        return "none"
    return "grades"


def weighted_median(counts: Iterable[tuple[float, int]]) -> float | None:
    """The median of values given with how many times each occurs (as statistics.median of them all)."""
    ordered = sorted((v, n) for v, n in counts if n > 0)
    total = sum(n for _, n in ordered)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]  # the middle position(s), 0-based
    found: list[float] = []
    seen = 0
    for value, n in ordered:
        while wanted and wanted[0] < seen + n:
            found.append(value)
            wanted.pop(0)
        seen += n
    return sum(found) / len(found)


def stage_medians(times: Iterable[StageTimeCount]) -> dict[tuple[str, int], float]:
    """The median seconds per case and stage."""
    by_stage: dict[tuple[str, int], list[tuple[float, int]]] = defaultdict(list)
    for t in times:
        by_stage[(t.case_id, t.stage_index)].append((t.seconds, t.attempts))
    return {k: m for k, v in by_stage.items() if (m := weighted_median(v)) is not None}


def attempt_minutes(times: Iterable[AttemptTime], stages: Mapping[str, int]) -> dict[str, float]:
    """Per case, the median minutes of the attempts that have a time for every stage of the case."""
    totals: dict[str, list[float]] = defaultdict(list)
    for t in times:
        if stages.get(t.case_id) and t.stages >= stages[t.case_id]:
            totals[t.case_id].append(t.seconds / 60)
    return {c: statistics.median(v) for c, v in totals.items()}


# ------------------------------------------------------------------------------ question reports
def question_report(
    case: Case,
    plans: Sequence[StagePlan],
    activity: QuestionActivity,
    choices: Sequence[AnswerChoice],
    kb: KnowledgeBase,
    median_seconds: float | None = None,
    case_hash: str | None = None,
    hashes: Iterable[str | None] = (),
) -> QuestionReport:
    """One question's answers next to its options: how many chose each, with each option's grade."""
    question = find_question(case, activity.question_id)
    answers = [c for c in choices if c.question_id == activity.question_id]
    of = sum(a.answers for a in answers)
    distribution: Distribution = distribution_of(question) if question is not None else "grades"
    bars: list[Bar] = []
    if question is not None and distribution in ("options", "select"):
        stage = activity.stage_index if activity.stage_index < len(plans) else len(plans) - 1
        key = answer_key(question, plans[stage], kb)
        counts: Counter[str] = Counter()
        scored_grades: dict[str, Counter[str]] = defaultdict(Counter)
        for answer in answers:
            for option, grade in dict(chosen_options(answer)).items():
                counts[option] += answer.answers
                scored_grades[option][grade] += answer.answers
        offered = list(_offered(question)) + [o for o in counts if o not in _offered(question)]
        for option in offered:
            if distribution == "options":
                grade = (
                    scored_grades[option].most_common(1)[0][0]
                    if scored_grades[option]
                    else (key.graded[option].grade if option in key.graded else "not_recommended")
                )
                best = option in key.best
            else:
                best = option in key.correct
                grade = NEEDED if best else NOT_NEEDED
            bars.append(Bar(option, kb.name(option), grade, counts[option], of, best))
    elif distribution == "grades":
        grades: Counter[str] = Counter()
        for a in answers:
            if a.grade:
                grades[a.grade] += a.answers
        labels = DOSE_LABELS if activity.kind == "dose" else BAR_LABELS
        bars = [
            Bar(g, labels.get(g, BAR_LABELS.get(g, g)), g, grades[g], of, g in ("recommended", "correct"))
            for g in sorted(grades, key=lambda g: GRADE_ORDER.index(g) if g in GRADE_ORDER else 99)
        ]
    stage_index = activity.stage_index
    return QuestionReport(
        case_id=case.id,
        stage_index=stage_index,
        stage_title=stage_title(case, stage_index),
        question_id=activity.question_id,
        kind=activity.kind,
        prompt=plain_prompt(question.prompt) if question is not None else activity.question_id,
        activity=activity,
        distribution=distribution,
        bars=tuple(bars),
        median_seconds=median_seconds,
        edited=any(h is not None and h != case_hash for h in hashes),
        numbers=tuple(sorted(v for a in answers if (v := _number(a.answer)) is not None)),
        unit=str(getattr(question, "unit", "") or ""),
    )


def _number(answer: Any) -> float | None:
    value = answer.get("answer") if isinstance(answer, dict) else answer
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


_PLANS: dict[tuple[int, int], tuple[Case, KnowledgeBase, tuple[StagePlan, ...]]] = {}


def plans_of(case: Case, kb: KnowledgeBase) -> tuple[StagePlan, ...]:
    """stage_plans(case), kept per case object (the library keeps its cases until a file changes): a
    page reports on every case at each run."""
    found = _PLANS.get((id(case), id(kb)))
    if found is None or found[0] is not case or found[1] is not kb:
        if len(_PLANS) > 256:
            _PLANS.clear()
        found = _PLANS[(id(case), id(kb))] = (case, kb, stage_plans(case, kb))
    return found[2]


def find_question(case: Case, question_id: str) -> QuestionBase | None:
    """The question of that id in the case as it is now (None if it is no longer there)."""
    return next((q for _, q in case.questions() if q.id == question_id), None)


def kind_of(question: QuestionBase) -> str:
    return str(getattr(question, "kind", ""))


def case_reports(
    case: Case,
    activities: Sequence[QuestionActivity],
    choices: Sequence[AnswerChoice],
    kb: KnowledgeBase,
    times: Sequence[StageTimeCount] = (),
    case_hash: str | None = None,
    hashes: Iterable[str | None] = (),
) -> list[QuestionReport]:
    """A report per question of the case that has answers, in stage and case order."""
    plans = plans_of(case, kb)
    medians = stage_medians(t for t in times if t.case_id == case.id)
    order = {q.id: n for n, (_, q) in enumerate(case.questions())}
    hashes = tuple(hashes)
    mine = sorted(
        (a for a in activities if a.case_id == case.id),
        key=lambda a: (a.stage_index, order.get(a.question_id, len(order)), a.question_id),
    )
    return [
        question_report(case, plans, a, choices, kb, medians.get((case.id, a.stage_index)), case_hash, hashes)
        for a in mine
    ]


# ------------------------------------------------------------------------------------- rankings
def troubles(activities: Iterable[QuestionActivity], cases: Mapping[str, LoadedCase]) -> list[Trouble]:
    """Scored questions with answers, those most often answered unsafely first, then most often wrong
    (by share of answers), then the lowest mean score."""
    found = []
    for a in activities:
        if not a.scored:
            continue
        loaded = cases.get(a.case_id)
        case = loaded.case if loaded is not None else None
        question = find_question(case, a.question_id) if case else None
        found.append(
            Trouble(
                case_id=a.case_id,
                case_title=case.title if case else f"{a.case_id} (no longer in the library)",
                stage_index=a.stage_index,
                stage_title=stage_title(case, a.stage_index) if case else f"Stage {a.stage_index + 1}",
                question_id=a.question_id,
                prompt=plain_prompt(question.prompt) if question else a.question_id,
                answers=a.scored,
                unsafe=a.unsafe,
                wrong=a.wrong,
                mean_score=a.mean_score,
                confident_wrong=a.confident_wrong,
                with_certainty=a.with_certainty,
                confident_unsafe=a.confident_unsafe,
            )
        )
    return sorted(
        found,
        key=lambda t: (-t.unsafe, -t.unsafe_share, -t.wrong_share, t.mean_score or 0.0, t.case_id),
    )


def case_summaries(
    cases: Mapping[str, LoadedCase],
    activity: Iterable[CaseActivity],
    questions: Iterable[QuestionActivity],
    times: Iterable[AttemptTime] = (),
) -> list[CaseSummary]:
    """A row per case that has attempts in scope (cases no longer in the library included), the
    lowest mean score first."""
    by_case = {a.case_id: a for a in activity}
    answers: Counter[str] = Counter()
    unsafe: Counter[str] = Counter()
    confident_wrong: Counter[str] = Counter()
    confident_unsafe: Counter[str] = Counter()
    with_certainty: Counter[str] = Counter()
    for q in questions:
        answers[q.case_id] += q.answers
        unsafe[q.case_id] += q.unsafe
        confident_wrong[q.case_id] += q.confident_wrong
        confident_unsafe[q.case_id] += q.confident_unsafe
        with_certainty[q.case_id] += q.with_certainty
    stages = {c: len(lc.case.stages) for c, lc in cases.items()}
    minutes = attempt_minutes(times, stages)
    rows = []
    for case_id in sorted(set(by_case) | set(answers)):
        loaded = cases.get(case_id)
        rows.append(
            CaseSummary(
                case_id=case_id,
                title=loaded.case.title if loaded else f"{case_id} (no longer in the library)",
                stages=stages.get(case_id, 0),
                activity=by_case.get(case_id),
                answers=answers[case_id],
                unsafe=unsafe[case_id],
                confident_wrong=confident_wrong[case_id],
                confident_unsafe=confident_unsafe[case_id],
                with_certainty=with_certainty[case_id],
                median_minutes=minutes.get(case_id),
            )
        )

    def mean(row: CaseSummary) -> float:
        total = row.activity.mean_total if row.activity else None
        return 101.0 if total is None else total

    return sorted(rows, key=lambda r: (mean(r), r.title.lower()))


# ------------------------------------------------------------------------------------ flowchart
def step_of(pathway: Pathway, option: str, position: str) -> str | None:
    """The pathway step a choice stands for at a patient's position: the position itself if it teaches
    the option, else the step teaching it nearest to the position (layers apart; the earlier step in
    the pathway on a tie). None for an option no step teaches."""
    steps = pathway.steps_with([option])
    if not steps:
        return None
    if position in steps:
        return position
    layers = pathway.layers()
    here = layers.get(position, 0)
    order = {s.id: i for i, s in enumerate(pathway.steps)}
    return min(steps, key=lambda s: (abs(layers.get(s, 0) - here), order[s]))


def stage_flows(
    case: Case, choices: Sequence[AnswerChoice], kb: KnowledgeBase, plans: Sequence[StagePlan] | None = None
) -> list[StageFlow]:
    """Per stage with a next-step question: how many learners chose each pathway step, against the
    steps of the logic's best answers. A learner counts once per step (several attempts, or several
    next-step questions at a stage, can put a learner on more than one step)."""
    plans = plans or plans_of(case, kb)
    pathway = kb.pathways.get(case.population)
    if pathway is None:
        return []
    questions = {q.id: (i, q) for i, q in case.questions() if kind_of(q) == "next_step"}
    flows = []
    for stage_index, plan in enumerate(plans):
        here = [q for i, q in questions.values() if i == stage_index]
        if not here:
            continue
        position = plan.recommendation.position
        best = list(dict.fromkeys(b for q in here for b in answer_key(q, plan, kb).best))
        recommended = tuple(dict.fromkeys(s for b in best if (s := step_of(pathway, b, position))))
        best_elsewhere = tuple(b for b in best if step_of(pathway, b, position) is None)
        steps_by_learner: dict[int, set[str | None]] = defaultdict(set)
        off_by_learner: dict[int, set[str]] = defaultdict(set)
        step_for: dict[str, str | None] = {}  # option -> its step at this position (hundreds of answers)
        for choice in choices:
            if choice.question_id in questions and questions[choice.question_id][0] == stage_index:
                for option, _ in chosen_options(choice):
                    if option not in step_for:
                        step_for[option] = step_of(pathway, option, position)
                    step = step_for[option]
                    steps_by_learner[choice.learner_id].add(step)
                    if step is None:
                        off_by_learner[choice.learner_id].add(option)
        counts: Counter[str] = Counter()
        for steps in steps_by_learner.values():
            counts.update(s for s in steps if s is not None)
        off_options: Counter[str] = Counter()
        for options in off_by_learner.values():
            off_options.update(options)
        flows.append(
            StageFlow(
                stage_index=stage_index,
                title=stage_title(case, stage_index),
                position=position,
                answered=len(steps_by_learner),
                counts=dict(counts),
                recommended=recommended,
                recommended_elsewhere=best_elsewhere,
                on_recommended=sum(
                    1
                    for who, steps in steps_by_learner.items()
                    if steps & set(recommended) or off_by_learner.get(who, set()) & set(best_elsewhere)
                ),
                off_pathway=len(off_by_learner),
                off_options=dict(off_options),
            )
        )
    return flows


def worst_flow(flows: Sequence[StageFlow]) -> StageFlow | None:
    """The stage where most of the group left the recommended step (the first such stage on a tie)."""
    answered = [f for f in flows if f.answered]
    return max(answered, key=lambda f: (f.off_share, -f.stage_index), default=None)


def flow_summary(flow: StageFlow, pathway: Pathway, kb: KnowledgeBase) -> str:
    """One sentence a teacher reads under the flowchart: how many took the recommended step, and where
    the others went."""
    if not flow.answered:
        return f"{flow.title}: no answers yet."
    names = [pathway.step(s).title for s in flow.recommended]
    names += [f"{kb.name(o)}, on no step" for o in flow.recommended_elsewhere]
    share = flow.on_recommended / flow.answered
    text = (
        f"{flow.title}: {flow.on_recommended} of {flow.answered} learners ({share:.0%}) chose the "
        f"recommended {'step' if flow.recommended else 'answer'} ({' or '.join(names) or 'none'})."
    )
    others = sorted(
        ((n, s) for s, n in flow.counts.items() if s not in flow.recommended and n),
        key=lambda x: (-x[0], x[1]),
    )
    if others:
        n, step = others[0]
        text += f" Most often instead: {pathway.step(step).title} ({n}, {n / flow.answered:.0%})."
    off = {o: n for o, n in flow.off_options.items() if o not in flow.recommended_elsewhere}
    if off:
        named = ", ".join(f"{kb.name(o)} {n}" for o, n in sorted(off.items(), key=lambda x: (-x[1], x[0])))
        text += f" Chosen although no step of the pathway lists them: {named}."
    return text


def minutes_text(seconds: float | None) -> str:
    """A duration as people say it: "45 s", "3 min", "1 h 5 min"."""
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def report_facts(report: QuestionReport) -> list[str]:
    """The numbers beside a question's chart, as short Markdown lines."""
    a = report.activity
    lines = [f"**{a.answers}** answers from **{a.learners}** learners"]  # joined by line breaks
    if a.scored:
        lines.append(
            f"Mean score **{a.mean_score:.0f}**/100 · {OUTCOME_LABELS['right'].lower()} **{a.right}** "
            f"({a.right / a.scored:.0%})"
        )

        lines.append(f"Unsafe **{a.unsafe}** ({a.unsafe / a.scored:.0%})" if a.unsafe else "Unsafe: none")
    if a.with_certainty:
        lines.append(
            f"{CALIBRATION_LABELS['confident_unsafe']} **{a.confident_unsafe}**, "
            f"{CALIBRATION_LABELS['confident_wrong'].lower()} **{a.confident_wrong}**, "
            f"of {a.with_certainty} who said how sure they were"
        )
    if (top := report.top_wrong) is not None and top.count:
        what = "Most often missed" if report.distribution == "select" else "Most chosen instead of the best"
        lines.append(f"{what}: **{top.label}** ({top.count}, {top.share:.0%})")
    if len(report.numbers) >= 2:
        low, mid, high = statistics.quantiles(report.numbers, n=4, method="inclusive")
        unit = f" {report.unit}" if report.unit else ""
        lines.append(f"Entered: median **{mid:g}**{unit} (middle half {low:g}–{high:g})")
    lines.append(f"Stage time (median): {minutes_text(report.median_seconds)}")
    if report.edited:
        lines.append("Some answers were given on an earlier version of this case.")
    return lines


def instead_text(instead: tuple[bool, Bar] | None) -> str:
    """A table cell: the wrong option chosen most often, or the needed item missed most often."""
    if instead is None:
        return ""
    missed, bar = instead
    return f"{bar.label} ({'missed' if missed else 'chosen'} {bar.count}×)"


def trouble_sentence(
    trouble: Trouble, instead: tuple[bool, Bar] | None, escape: Callable[[str], str] = str
) -> str:
    """The first screen's answer, in one sentence (Markdown; escape makes names safe to show)."""
    where = f"“{escape(trouble.prompt)}” in *{escape(trouble.case_title)}*, stage {trouble.stage_index + 1}"
    if trouble.unsafe:
        text = (
            f"**Most often answered unsafely:** {where}: {trouble.unsafe} of {trouble.answers} answers "
            f"({trouble.unsafe_share:.0%}) were unsafe"
        )
    else:
        text = (
            f"**No unsafe answers. Most often not right:** {where}: {trouble.wrong} of "
            f"{trouble.answers} answers ({trouble.wrong_share:.0%})"
        )
    if instead is None:
        return text + "."
    missed, bar = instead
    what = "the item most often missed" if missed else "the answer most often chosen instead of the best"
    return text + f"; {what}: {escape(bar.label)} ({bar.count} of {bar.of})."
