"""The app's words, in one place: every enumerated value the models accept (as ``Literal`` types, which
the models use for their fields) and the label a person reads for each.

Pages, exports, figures and the CLI take their labels and their lists of allowed values from here, never
from a copy. ``tests/logic/test_vocabulary.py`` checks that every label table's keys are exactly its
literal's values and that the models' fields use these literals. Question kinds have their labels on
the kinds themselves (``logic.questions``), the one registry of kinds.
"""

from __future__ import annotations

from typing import Literal, get_args

Population = Literal["adult", "juvenile"]
Grade = Literal["recommended", "acceptable", "not_recommended", "unsafe"]
Manifestation = Literal[
    "skin",
    "muscle",
    "ild",
    "rapidly_progressive_ild",
    "calcinosis",
    "dysphagia",
    "skin_ulceration",
    "major_organ",
]
Position = Literal["first_line", "steroid_sparing", "refractory", "severe", "after_jak_failure"]
StepKind = Literal["first_line", "steroid_sparing", "refractory", "severe", "after_jak_failure", "supportive"]
Diagnosis = Literal["dermatomyositis", "juvenile_dermatomyositis", "polymyositis", "necrotizing_myopathy"]
Severity = Literal["mild", "moderate", "severe"]
Sex = Literal["female", "male"]
LabName = Literal["iga", "tb", "hepatitis"]
IgaResult = Literal["unknown", "normal", "deficient"]
ScreenResult = Literal["unknown", "negative", "positive"]
Difficulty = Literal["introductory", "intermediate", "advanced"]
OptionKind = Literal["agent", "action"]
ActionCategory = Literal["safety", "supportive", "escalation"]
# What a question tests, for the score breakdown; every question kind belongs to one.
Category = Literal["escalation", "safety", "dosing", "monitoring", "reflection"]
# How sure a learner was (certainty 3-4: confident; 1-2: unsure) against how the answer turned out.
Outcome = Literal["unsafe", "wrong", "right"]
Calibration = Literal[
    "confident_unsafe", "confident_wrong", "confident_right", "unsure_unsafe", "unsure_wrong", "unsure_right"
]

POPULATIONS: tuple[Population, ...] = get_args(Population)
GRADES: tuple[Grade, ...] = get_args(Grade)
MANIFESTATIONS: tuple[Manifestation, ...] = get_args(Manifestation)
POSITIONS: tuple[Position, ...] = get_args(Position)
STEP_KINDS: tuple[StepKind, ...] = get_args(StepKind)
DIAGNOSES: tuple[Diagnosis, ...] = get_args(Diagnosis)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
SEXES: tuple[Sex, ...] = get_args(Sex)
LAB_NAMES: tuple[LabName, ...] = get_args(LabName)
DIFFICULTIES: tuple[Difficulty, ...] = get_args(Difficulty)
CATEGORIES: tuple[Category, ...] = get_args(Category)
CALIBRATIONS: tuple[Calibration, ...] = get_args(Calibration)
# The categories a score is broken down by (a reflection is not scored), in the order shown.
SCORED_CATEGORIES: tuple[Category, ...] = ("escalation", "safety", "dosing", "monitoring")
# The values each lab result may take, "unknown" first (the default).
LAB_VALUES: dict[LabName, tuple[str, ...]] = {
    "iga": get_args(IgaResult),
    "tb": get_args(ScreenResult),
    "hepatitis": get_args(ScreenResult),
}

POPULATION_LABELS: dict[Population, str] = {"adult": "Adult", "juvenile": "JDM"}
# The population as the name of its pathway.
PATHWAY_LABELS: dict[Population, str] = {"adult": "Adult DM / myositis", "juvenile": "Juvenile DM (JDM)"}
GRADE_LABELS: dict[Grade, str] = {
    "recommended": "Recommended",
    "acceptable": "Acceptable",
    "not_recommended": "Not recommended",
    "unsafe": "Unsafe",
}
MANIFESTATION_LABELS: dict[Manifestation, str] = {
    "skin": "Skin disease",
    "muscle": "Muscle weakness",
    "ild": "Interstitial lung disease",
    "rapidly_progressive_ild": "Rapidly progressive ILD",
    "calcinosis": "Calcinosis",
    "dysphagia": "Dysphagia",
    "skin_ulceration": "Skin ulceration",
    "major_organ": "Major organ involvement",
}
STEP_KIND_LABELS: dict[StepKind, str] = {
    "first_line": "First line",
    "steroid_sparing": "Steroid-sparing",
    "refractory": "Refractory",
    "severe": "Severe",
    "after_jak_failure": "After JAK inhibitor failure",
    "supportive": "Supportive care",
}
DIAGNOSIS_LABELS: dict[Diagnosis, str] = {
    "dermatomyositis": "Dermatomyositis",
    "juvenile_dermatomyositis": "Juvenile dermatomyositis",
    "polymyositis": "Polymyositis",
    "necrotizing_myopathy": "Necrotizing myopathy",
}
SEVERITY_LABELS: dict[Severity, str] = {"mild": "Mild", "moderate": "Moderate", "severe": "Severe"}
SEX_LABELS: dict[Sex, str] = {"female": "Female", "male": "Male"}
LAB_LABELS: dict[LabName, str] = {
    "iga": "Serum IgA",
    "tb": "Tuberculosis screen",
    "hepatitis": "Hepatitis B/C screen",
}
LAB_VALUE_LABELS: dict[str, str] = {
    "unknown": "Unknown",
    "normal": "Normal",
    "deficient": "Deficient",
    "negative": "Negative",
    "positive": "Positive",
}
DIFFICULTY_LABELS: dict[Difficulty, str] = {
    "introductory": "Introductory",
    "intermediate": "Intermediate",
    "advanced": "Advanced",
}
OPTION_KIND_LABELS: dict[OptionKind, str] = {"agent": "Agent", "action": "Action"}
ACTION_CATEGORY_LABELS: dict[ActionCategory, str] = {  # in the order the reference lists them
    "safety": "Safety",
    "escalation": "Escalation",
    "supportive": "Supportive",
}
CATEGORY_LABELS: dict[Category, str] = {
    "escalation": "Escalation",
    "safety": "Safety",
    "dosing": "Dosing",
    "monitoring": "Monitoring",
    "reflection": "Reflection",
}
CERTAINTY_LABELS: dict[int, str] = {
    1: "1 · guessing",
    2: "2 · unsure",
    3: "3 · fairly sure",
    4: "4 · certain",
}
OUTCOME_LABELS: dict[Outcome, str] = {"unsafe": "Unsafe", "wrong": "Wrong", "right": "Right"}
CALIBRATION_LABELS: dict[Calibration, str] = {
    "confident_unsafe": "Confident and unsafe",
    "confident_wrong": "Confident and wrong",
    "confident_right": "Confident and right",
    "unsure_unsafe": "Unsure and unsafe",
    "unsure_wrong": "Unsure and wrong",
    "unsure_right": "Unsure and right",
}
# The worst result a learner can get, said in full wherever it happens.
CONFIDENT_UNSAFE_WARNING = (
    "Confident and unsafe is the worst result a learner can get: you were sure of an answer that would "
    "harm this patient. Certainty is what stops anyone from double-checking."
)

# Where the sources give no dose, or no ceiling, the app says so in these words (never a guess).
NO_DOSE = "no dose in the sources"
NO_MAXIMUM = "no maximum in the sources"


def no_dose_note(population: Population, agent_name: str) -> str:
    """Why an agent has no computed dose for a population: the sources give none."""
    label = POPULATION_LABELS[population]
    who = label if label.isupper() else label.lower()  # "adult", "JDM"
    return f"The sources give no {who} dose for {agent_name}."


_GRADE_OF: dict[str, Grade] = {g: g for g in GRADES}


def as_grade(value: str) -> Grade:
    """A grade held as text (e.g. in a verdict), as the Grade it is; KeyError if it is not one."""
    return _GRADE_OF[value]
