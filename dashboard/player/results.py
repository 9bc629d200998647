"""What the player shows from scoring results: the running score, the end-of-case tables (with the
learner's certainty) and the path on the flowchart. Scores only what was submitted; every submitted
answer is scored once per case version and the result reused (the page, the exports and the store read
the same ``QuestionResult``)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.figures import PathPoint
from dashboard.player.memo import RESULTS, frozen
from dashboard.player.progress import submitted_stages
from dashboard.questions import ViewContext, view_of
from dashboard.wording import count
from logic import Case, CaseScore, KnowledgeBase, QuestionResult, StagePlan
from logic.markdown import safe_markdown
from logic.questions import Answer, QuestionBase, as_list
from logic.scoring import score_question, summarise
from logic.vocabulary import CALIBRATION_LABELS, CERTAINTY_LABELS, CONFIDENT_UNSAFE_WARNING


def score_progress(
    case: Case,
    progress: Mapping[str, Any],
    plans: Sequence[StagePlan],
    kb: KnowledgeBase,
    version: Hashable | None = None,
) -> CaseScore:
    """Score the submitted stages only: no answer key of an unsubmitted stage is even computed.

    ``total`` is the running score (0-100 over the questions answered so far); once every stage is
    submitted this is exactly ``score_case(case, answers, kb)``. With a ``version`` (the case file's),
    each answer's result is memoised: a rerun, an export or the store never scores it again.
    """
    done = set(submitted_stages(progress, len(case.stages)))
    answers: Mapping[str, Answer] = progress["answers"]
    results = tuple(
        _result(question, i, plans[i], answers.get(question.id), kb, version)
        for i, question in case.questions()
        if i in done
    )
    return summarise(results, len(case.stages), done)


def _result(
    question: QuestionBase,
    stage_index: int,
    plan: StagePlan,
    answer: Answer,
    kb: KnowledgeBase,
    version: Hashable | None,
) -> QuestionResult:
    if version is None:
        return score_question(question, stage_index, plan, answer, kb)
    return RESULTS.get(
        (version, id(kb), question.id, frozen(answer)),
        lambda: score_question(question, stage_index, plan, answer, kb),
    )


def has_scored(score: CaseScore) -> bool:
    """Whether any scored question has been answered yet (else there is no running score to show)."""
    return any(r.scored for r in score.results)


def stage_score_rows(case: Case, score: CaseScore) -> list[tuple[str, float | None]]:
    """(label, 0-100 or None) per stage, for score_breakdown_figure."""
    return [
        (f"{i + 1}. {_short(s.title, 22)}", v)
        for i, (s, v) in enumerate(zip(case.stages, score.stage_scores, strict=True))
    ]


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def question_numbers(case: Case) -> dict[str, str]:
    """Each question's number as the learner reads it: "stage.question", e.g. "2.1"."""
    return {
        q.id: f"{i + 1}.{n}"
        for i, stage in enumerate(case.stages)
        for n, q in enumerate(stage.questions, start=1)
    }


def answer_table(case: Case, score: CaseScore, ctx: ViewContext) -> list[dict[str, object]]:
    """The end-of-case table: every choice question (next step, ordering) by its number, the learner's
    answer (with their certainty where the question asked for it) and the best one. Three columns, so that
    the best answer reads in full on a phone."""
    numbers = question_numbers(case)
    rows: list[dict[str, object]] = []
    for r in score.results:
        _, question = case.question(r.question_id)
        if r.category != "escalation":
            continue
        answer = view_of(question).answer_text(question, r.answer, ctx)
        if r.certainty is not None and r.calibration is not None:
            answer += (
                f" (how sure: {CERTAINTY_LABELS[r.certainty]}; {CALIBRATION_LABELS[r.calibration].lower()})"
            )
        # st.table renders its cells as Markdown: the text goes through the sanitiser
        rows.append(
            {
                "Question": numbers[r.question_id],
                "Your answer": safe_markdown(answer),
                "Best answer": safe_markdown(r.best_text),
            }
        )
    return rows


@dataclass(frozen=True)
class CertaintySummary:
    """How the learner's certainty matched their answers, over the questions that asked for it."""

    rated: int  # questions answered with a certainty
    confident_right: int
    confident_wrong: int
    confident_unsafe: tuple[str, ...]  # question ids: the worst result

    @property
    def sentence(self) -> str:
        if not self.rated:
            return ""
        text = (
            f"You rated your certainty on {count(self.rated, 'question')}: confident and right on "
            f"{self.confident_right}, confident and wrong on {self.confident_wrong}, confident and unsafe "
            f"on {len(self.confident_unsafe)}."
        )
        return text + (f" {CONFIDENT_UNSAFE_WARNING}" if self.confident_unsafe else "")


def certainty_summary(score: CaseScore) -> CertaintySummary:
    rated = [r for r in score.results if r.calibration is not None]
    return CertaintySummary(
        rated=len(rated),
        confident_right=sum(r.calibration == "confident_right" for r in rated),
        confident_wrong=sum(r.calibration == "confident_wrong" for r in rated),
        confident_unsafe=score.confident_unsafe,
    )


def lab_rows(case: Case, stage_index: int) -> list[dict[str, str]]:
    """A stage's lab results as table rows (values as written: 2850, not 2850.0)."""
    data = case.stages[stage_index].data
    if data is None:
        return []
    return [
        {
            "Test": lab.test,
            "Value": lab.value if isinstance(lab.value, str) else f"{lab.value:g}",
            "Unit": lab.unit or "",
            "Reference": lab.reference or "",
            "Flag": lab.flag or "",
        }
        for lab in data.labs
    ]


def cell_label(text: str) -> str:
    """A notebook cell's small grey label, as a Markdown line to put before the cell's text."""
    return f":small[:gray[{text}]]\n\n"


# --------------------------------------------------------------------------------------------------
# The path on the flowchart


def learner_options(case: Case, score: CaseScore) -> tuple[str, ...]:
    """The agents and actions the learner chose in next-step questions, in case order."""
    out: list[str] = []
    for r in score.results:
        if r.kind == "next_step":
            offered = {g.id for g in r.graded}
            out += [a for a in as_list(r.answer) if a in offered]
    return tuple(dict.fromkeys(out))


def best_options(case: Case, score: CaseScore) -> tuple[str, ...]:
    """The best choices of the case's next-step questions (only meaningful once the case is complete)."""
    out: list[str] = []
    for r in score.results:
        if r.kind == "next_step":
            out += list(r.best)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class PathOnChart:
    current: str  # the patient's final position
    points: tuple[PathPoint, ...]  # each next-step question, in order, at the step where the patient then was


def path_on_chart(case: Case, score: CaseScore, plans: Sequence[StagePlan], ctx: ViewContext) -> PathOnChart:
    """The learner's path: every next-step question in case order, at the patient's position at its stage,
    with the learner's choice and the recommended one (the same, or not)."""
    numbers = question_numbers(case)
    points = []
    for r in score.results:
        if r.kind != "next_step":
            continue
        _, question = case.question(r.question_id)
        chosen = as_list(r.answer)
        points.append(
            PathPoint(
                number=numbers[r.question_id],
                step=plans[r.stage_index].recommendation.position,
                chosen=view_of(question).answer_text(question, r.answer, ctx) if chosen else "",
                best=r.best_text,
                same=bool(chosen)
                and (
                    set(chosen) == set(r.best)
                    if getattr(question, "multiple", False)
                    else chosen[0] in r.best
                ),
            )
        )
    return PathOnChart(current=plans[-1].recommendation.position, points=tuple(points))
