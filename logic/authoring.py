"""Writing a case: a commented scaffold to start from, a copy of a case under a new id, and the check
of a case's text (or an uploaded file's bytes) that the CLI and the Author page both run.

``check_text`` runs exactly what loading a file runs (YAML guards, the models against the knowledge
base, the story, each kind's load problems) and then lint, so the Author page and ``python -m logic
validate`` give the same messages at the same lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .casefiles import case_path, content_hash, file_name_problem, valid_id, with_modeline
from .knowledge import KnowledgeBase
from .library import CaseError, LoadedCase, load_source
from .lint import lint_case
from .vocabulary import Population
from .yamlsource import MAX_BYTES, YamlSourceError, decode_yaml, parse_yaml


@dataclass
class Checked:
    """A case's text as checked: the case (None if it does not load), its errors and its lint."""

    text: str
    loaded: LoadedCase | None
    errors: list[CaseError] = field(default_factory=list)
    lint: list[CaseError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Loads without error (lint findings are advice: a case with lint still loads and plays)."""
        return self.loaded is not None and not self.errors

    @property
    def case_id(self) -> str | None:
        return self.loaded.case.id if self.loaded is not None else None

    @property
    def problems(self) -> list[CaseError]:
        return sorted([*self.errors, *self.lint], key=lambda e: (e.line, e.column))

    @property
    def digest(self) -> str:
        return content_hash(self.text)


def check_text(text: str, path: Path, kb: KnowledgeBase, *, lint: bool = True) -> Checked:
    """Check a case's text as if it were the file ``path``."""
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        message = f"the case is {size // 1024} KiB; case files may be at most {MAX_BYTES // 1024} KiB"
        return Checked(text, None, [CaseError(path, 1, 1, message)])
    try:
        source = parse_yaml(path, text)
    except YamlSourceError as exc:
        return Checked(text, None, [CaseError(path, exc.line, exc.column, exc.message)])
    loaded, errors = load_source(source, kb)
    if loaded is None:
        return Checked(text, None, errors)
    return Checked(text, loaded, [], lint_case(loaded, kb) if lint else [])


def check_upload(raw: bytes, name: str, kb: KnowledgeBase) -> Checked:
    """Check an uploaded file: its name, size and encoding as the loader would, then its text."""
    path = Path(Path(name).name)  # never a folder an upload names
    text = raw.decode("utf-8", errors="replace")
    bad_name = file_name_problem(path) if path.suffix in (".yaml", ".yml") else None
    if path.suffix not in (".yaml", ".yml"):
        bad_name = f"file name {path.name!r} does not end in .yaml: a case file is <id>.yaml"
    if bad_name is not None:
        return Checked(text, None, [CaseError(path, 1, 1, bad_name)])
    try:
        decode_yaml(path, raw, MAX_BYTES)
    except YamlSourceError as exc:
        return Checked(
            "" if len(raw) > MAX_BYTES else text, None, [CaseError(path, exc.line, exc.column, exc.message)]
        )
    return check_text(raw.decode("utf-8"), path, kb)


# ------------------------------------------------------------------------------------- scaffolds

_PATIENTS: dict[Population, str] = {
    "adult": """\
patient:
  age: 54                     # years; under 18 with dermatomyositis makes the case juvenile
  sex: female                 # optional; with height, needed for doses on ideal body weight
  weight_kg: 70
  height_cm: 165              # optional; needed for mg/m² doses
  diagnosis: dermatomyositis  # dermatomyositis | juvenile_dermatomyositis | polymyositis | necrotizing_myopathy
  manifestations: [skin, muscle]
  severity: moderate          # mild | moderate | severe
  labs: {iga: unknown, tb: unknown, hepatitis: unknown}
""",
    "juvenile": """\
patient:
  age: 9                      # years
  sex: male
  weight_kg: 30
  height_cm: 132              # needed for mg/m² doses (methotrexate in JDM)
  diagnosis: juvenile_dermatomyositis
  manifestations: [skin, muscle]
  severity: moderate          # mild | moderate | severe
  labs: {iga: unknown, tb: unknown, hepatitis: unknown}
""",
}

_STAGES: dict[Population, str] = {
    "adult": """\
stages:
  - title: "A new diagnosis"
    narrative: |
      Write what the learner reads: the history, the examination, what has been found.
      Markdown works (**bold**, lists); raw HTML is never rendered.
    data:                     # optional: a lab table and trends to plot
      labs:
        - {test: CK, value: 4800, unit: U/L, reference: "< 200", flag: high}
    questions:
      - id: start-treatment
        kind: next_step       # next_step | prerequisites | monitoring | dose | ordering | reflection
        prompt: "Which treatment do you start?"
        options: [prednisone, rituximab, upadacitinib]   # agent/action ids; the logic grades each
        expect: prednisone    # what you believe is best; lint says if the logic disagrees
      - id: prednisone-dose
        kind: dose
        agent: prednisone
        unit: mg/day
        prompt: "She weighs 70 kg. What daily prednisone dose do you start (in mg)?"
        expect: 60
  - title: "Three months later"
    narrative: |
      What has happened since the first stage. The changes below apply to the patient before
      this stage's questions, and the answer keys follow them.
    changes:
      months_pass: 3
      start: [{agent: prednisone}]
    questions:
      - id: monitor-prednisone
        kind: monitoring
        prompt: "How will you follow her on prednisone? Select all that apply."
        options: [muscle_strength, ck_aldolase, aseptic_meningitis]
        expect: [muscle_strength, ck_aldolase]
      - id: reflect
        kind: reflection
        prompt: "What would make you escalate treatment at the next visit?"
        discussion: "Shown after the stage is submitted; reflections are not scored."
""",
    "juvenile": """\
stages:
  - title: "A new diagnosis"
    narrative: |
      Write what the learner reads: the history, the examination, what has been found.
      Markdown works (**bold**, lists); raw HTML is never rendered.
    data:                     # optional: a lab table and trends to plot
      labs:
        - {test: CK, value: 2600, unit: U/L, reference: "< 250", flag: high}
    questions:
      - id: start-treatment
        kind: next_step       # next_step | prerequisites | monitoring | dose | ordering | reflection
        multiple: true        # several answers: each pick adds or costs credit
        prompt: "Which treatment do you start? Select all that apply."
        options: [prednisone, methotrexate, rituximab, upadacitinib]   # agent/action ids
        expect: [prednisone, methotrexate]   # what you believe is best; lint says if the logic disagrees
  - title: "Three months later"
    narrative: |
      What has happened since the first stage. The changes below apply to the patient before
      this stage's questions, and the answer keys follow them.
    changes:
      months_pass: 3
      start: [{agent: prednisone}, {agent: methotrexate}]
    questions:
      - id: monitor-treatment
        kind: monitoring
        prompt: "How will you follow him on prednisone and methotrexate? Select all that apply."
        options: [muscle_strength, cbc, aseptic_meningitis]
        expect: [muscle_strength, cbc]
      - id: reflect
        kind: reflection
        prompt: "What would make you escalate treatment at the next visit?"
        discussion: "Shown after the stage is submitted; reflections are not scored."
""",
}


def scaffold(case_id: str, population: Population) -> str:
    """A commented two-stage case that validates and lints clean: the starting point of a new case."""
    if not valid_id(case_id):
        raise ValueError(f"case id {case_id!r} must be lower-case letters, digits, '-' or '_'")
    who = (
        "an adult with dermatomyositis" if population == "adult" else "a child with juvenile dermatomyositis"
    )
    header = f"""\
# A teaching case. AUTHORING.md explains every field; the editor completes them from the schema.
# The answer keys come from the logic, never from this file: write `expect:` with what you believe
# is right and `python -m logic validate` (or the Author page) says where the logic disagrees.
id: {case_id}                 # also the file name: {case_id}.yaml
title: "New case"
summary: "One or two sentences for the library card: {who}; what the learner decides."
population: {population}            # adult | juvenile (must match the patient)
difficulty: introductory      # introductory | intermediate | advanced
tags: [first-line]
objectives:
  - "What the learner should be able to do after this case."
author: "Your name"
references: [answer_treating_dm, content_notes]   # source ids; shown to learners by their labels
"""
    return with_modeline(header + _PATIENTS[population] + _STAGES[population])


_ID_LINE = re.compile(r"^id:[ \t]*(\S.*?)?[ \t]*(#.*)?$", re.MULTILINE)


def copy_case(text: str, new_id: str) -> str:
    """A case's text under a new id (the first top-level ``id:`` line replaced; comments kept)."""
    if not valid_id(new_id):
        raise ValueError(f"case id {new_id!r} must be lower-case letters, digits, '-' or '_'")
    replaced, count = _ID_LINE.subn(
        lambda m: f"id: {new_id}" + (f"  {m.group(2)}" if m.group(2) else ""), text, 1
    )
    if count == 0:
        replaced = f"id: {new_id}\n" + text
    return with_modeline(replaced)


def new_case_path(folder: Path, case_id: str) -> Path:
    """Where ``new-case`` writes: ``<folder>/<id>.yaml``; refuses a bad id or an existing file."""
    path = case_path(folder, case_id)
    if path.exists():
        raise ValueError(f"{path} already exists: choose another id, or edit that file")
    return path
