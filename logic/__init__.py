"""myotutor's core: knowledge base, patient state, recommend(), dosing, cases, lint and scoring.

Pure Python: no Streamlit, no plotly. For teaching only, never for the care of a real patient.
"""

from .cases import Case
from .dosing import Dose, compute_dose, mosteller_bsa
from .ids import validation_context
from .keys import AnswerKey, StagePlan, answer_key, stage_plans
from .knowledge import KnowledgeBase, build_knowledge_base, load_knowledge_base
from .library import CaseError, Library, LoadedCase, load_case, load_library
from .lint import lint_case, lint_library
from .patient import Patient
from .recommend import GradedOption, Recommendation, monitoring_for, recommend
from .scoring import CaseScore, QuestionResult, best_answers, score_case, score_question

DISCLAIMER = "For teaching only: not for the care of a real patient."

__all__ = [
    "DISCLAIMER",
    "AnswerKey",
    "Case",
    "CaseError",
    "CaseScore",
    "Dose",
    "GradedOption",
    "KnowledgeBase",
    "Library",
    "LoadedCase",
    "Patient",
    "QuestionResult",
    "Recommendation",
    "StagePlan",
    "answer_key",
    "best_answers",
    "build_knowledge_base",
    "compute_dose",
    "lint_case",
    "lint_library",
    "load_case",
    "load_knowledge_base",
    "load_library",
    "monitoring_for",
    "mosteller_bsa",
    "recommend",
    "score_case",
    "score_question",
    "stage_plans",
    "validation_context",
]
