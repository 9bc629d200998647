"""``python -m logic``: validate cases, recommend for a patient, score answers, check the claim register,
print the case schema and the question kinds."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from .authoring import check_text, copy_case, new_case_path, scaffold
from .casefiles import atomic_write
from .cases import Case
from .claims import register_rows, run_register
from .ids import validation_context
from .knowledge import KnowledgeBase, load_knowledge_base
from .library import CaseError, load_case, load_library, validation_errors
from .lint import lint_library
from .patient import Patient
from .questions import kinds_table
from .recommend import recommend
from .schema import SCHEMA_FILE, schema_text
from .scoring import score_case
from .vocabulary import CALIBRATION_LABELS, CONFIDENT_UNSAFE_WARNING, POPULATIONS, STEP_KIND_LABELS
from .yamlsource import YamlSourceError, read_yaml

DEFAULT_CASES = Path("cases")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m logic",
        description="myotutor core: validate cases, grade options for a patient, score answers. For teaching only.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "validate", help="validate and lint case files", description="Validate and lint case files."
    )
    p.add_argument("paths", nargs="*", type=Path, help="case files or folders (default: cases/)")
    p.add_argument(
        "--no-lint", action="store_true", help="check the schema only, not agreement with the logic"
    )

    p = sub.add_parser(
        "recommend",
        help="grade every agent and action for a patient",
        description="Grade options for a patient.",
    )
    p.add_argument("patient", type=Path, help="a YAML file holding the patient block")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser(
        "score", help="score a learner's answers to a case", description="Score answers to a case."
    )
    p.add_argument("case", type=Path, help="the case file")
    p.add_argument(
        "answers",
        type=Path,
        help="YAML mapping question id -> choice id(s) or a number ({answer: ..., certainty: 1-4} where asked)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser(
        "claims",
        help="run the claim register's checks",
        description="Print every clinical claim of the sources with pass/fail of its checks; exit 1 on any failure.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--failed", action="store_true", help="list only the claims whose checks fail")

    p = sub.add_parser(
        "schema",
        help="write the JSON Schema of a case file (cases/case.schema.json)",
        description="Write the case JSON Schema, documented, with the knowledge base's ids as enums.",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_CASES / SCHEMA_FILE,
        help="where to write it (default: %(default)s)",
    )
    p.add_argument("--stdout", action="store_true", help="print it instead of writing it")

    p = sub.add_parser(
        "new-case",
        help="write a commented scaffold (or a copy of a case) under a new id",
        description="Write cases/<ID>.yaml: a commented two-stage scaffold that validates, or a copy of a case.",
    )
    p.add_argument("id", help="the new case's id: lower-case letters, digits, '-' or '_'")
    p.add_argument("--population", choices=POPULATIONS, default="adult", help="adult or juvenile")
    p.add_argument("--from", dest="source", type=Path, help="copy this case file instead")
    p.add_argument(
        "--folder", type=Path, default=DEFAULT_CASES, help="the cases folder (default: %(default)s)"
    )
    sub.add_parser(
        "kinds",
        help="print the table of question kinds (as in the README)",
        description="Print the question kinds as a Markdown table.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {
        "validate": _validate,
        "recommend": _recommend,
        "score": _score,
        "claims": _claims,
        "schema": _schema,
        "new-case": _new_case,
        "kinds": _kinds,
    }[args.command]
    kb = load_knowledge_base()  # the CLI's one composition point: every command is given this
    return handler(args, kb)


def _validate(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    paths = args.paths or [DEFAULT_CASES]
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        print(f"{p}: no such file or folder", file=sys.stderr)
    library = load_library([p for p in paths if p.exists()], kb)
    problems: list[CaseError] = list(library.errors)
    if not args.no_lint:
        problems.extend(lint_library(library, kb))
    for problem in sorted(problems, key=lambda e: (str(e.path), e.line, e.column)):
        print(problem)
    checked = len(library.cases) + len({e.path for e in library.errors})
    print(
        f"{checked} file(s) checked, {len(library.cases)} case(s) loaded, {len(problems)} problem(s)",
        file=sys.stderr,
    )
    return 1 if problems or missing else 0


def _load_patient(path: Path, kb: KnowledgeBase) -> Patient | None:
    try:
        source = read_yaml(path)
    except YamlSourceError as exc:
        print(f"{path}:{exc.line}:{exc.column}: {exc.message}", file=sys.stderr)
        return None
    data = source.data.get("patient", source.data) if isinstance(source.data, dict) else source.data
    prefix: list[str | int] = (
        ["patient"] if isinstance(source.data, dict) and "patient" in source.data else []
    )
    try:
        return Patient.model_validate(data, context=validation_context(kb))
    except ValidationError as exc:
        for error in validation_errors(exc, source, prefix):
            print(error, file=sys.stderr)
        return None


def _recommend(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    patient = _load_patient(args.patient, kb)
    if patient is None:
        return 1
    rec = recommend(patient, kb)
    if args.json:
        print(json.dumps(rec.as_json(), indent=2, ensure_ascii=False))
        return 0
    print(f"population: {rec.population}   step: {STEP_KIND_LABELS[rec.position]}")
    for option in rec.options:
        extra = []
        if option.prerequisites:
            extra.append("first: " + ", ".join(option.prerequisites))
        if option.dose:
            extra.append(option.dose.text)
        print(f"  {option.grade:16} {option.id:26} {option.why}")
        for line in extra:
            print(f"  {'':16} {'':26} {line}")
    return 0


def _score(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    loaded, errors = load_case(args.case, kb)
    if loaded is None:
        for error in errors:
            print(error, file=sys.stderr)
        return 1
    try:
        answers_source = read_yaml(args.answers)
    except YamlSourceError as exc:
        print(f"{args.answers}:{exc.line}:{exc.column}: {exc.message}", file=sys.stderr)
        return 1
    answers = answers_source.data
    if not isinstance(answers, dict):
        print(f"{args.answers}:1:1: answers must map question ids to choices", file=sys.stderr)
        return 1
    case: Case = loaded.case
    known = {q.id for _, q in case.questions()}
    unknown = [k for k in answers if k not in known]
    for k in unknown:
        line, col = answers_source.position([k])
        print(f"{args.answers}:{line}:{col}: unknown question id {k!r}", file=sys.stderr)
    if unknown:
        return 1
    result = score_case(case, {str(k): v for k, v in answers.items()}, kb)
    if args.json:
        print(
            json.dumps(
                {
                    "case": case.id,
                    "total": result.total,
                    "stages": list(result.stage_scores),
                    "categories": result.category_scores,
                    "unsafe": list(result.unsafe),
                    "confident_unsafe": list(result.confident_unsafe),
                    "questions": [
                        {
                            "id": r.question_id,
                            "kind": r.kind,
                            "points": r.points,
                            "max_points": r.max_points,
                            "unsafe": r.unsafe,
                            "certainty": r.certainty,
                            "calibration": r.calibration,
                            "best": list(r.best),
                            "best_text": r.best_text,
                            "why": r.why,
                            "sources": list(r.sources),
                        }
                        for r in result.results
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    print(f"{case.title}: {result.total:g}/100")
    for r in result.results:
        flag = "  UNSAFE" if r.unsafe else ""
        if r.calibration is not None:
            flag += f"  certainty {r.certainty}: {CALIBRATION_LABELS[r.calibration].lower()}"
        if r.scored:
            print(
                f"  stage {r.stage_index + 1} {r.question_id:24} {r.points:+g}/{r.max_points:g}{flag}   best: {r.best_text}"
            )
    for category, value in result.category_scores.items():
        print(f"  {category:12} {value:g}")
    if result.confident_unsafe:
        print(f"  {CONFIDENT_UNSAFE_WARNING} ({', '.join(result.confident_unsafe)})")
    return 0


def _claims(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    results = run_register(kb)
    failed = [r for r in results if not r.passed]
    checks = sum(len(r.checks) for r in results)
    if args.json:
        print(
            json.dumps(
                {
                    "claims": len(results),
                    "checks": checks,
                    "failed": [r.claim.id for r in failed],
                    "register": [
                        {
                            "id": r.claim.id,
                            "source": r.claim.source,
                            "source_label": kb.sources[r.claim.source].label,
                            "where": r.claim.where.model_dump(),
                            "claim": r.claim.claim,
                            "kind": r.claim.kind,
                            "strength": r.claim.strength,
                            "implemented_by": list(r.claim.implemented_by),
                            "passed": r.passed,
                            "failures": list(r.failures),
                        }
                        for r in results
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 1 if failed else 0
    shown = failed if args.failed else list(results)
    rows = register_rows(kb, shown)
    width = max((len(r.claim.id) for r in shown), default=10)
    for result, row in zip(shown, rows, strict=True):
        status = "pass" if result.passed else "FAIL"
        print(f"{status:4}  {result.claim.id:{width}}  {row['Strength']:15}  {row['Source']}: {row['Claim']}")
        for failure in result.failures:
            print(f"{'':4}  {'':{width}}  {failure}")
    print(
        f"{len(results)} claims, {checks} checks: "
        + (f"{len(failed)} claim(s) FAIL" if failed else "all pass"),
        file=sys.stderr,
    )
    return 1 if failed else 0


def _schema(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    text = schema_text(kb)
    if args.stdout:
        print(text, end="")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _new_case(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    try:
        path = new_case_path(args.folder, args.id)
        if args.source is None:
            text = scaffold(args.id, args.population)
        else:
            loaded, errors = load_case(args.source, kb)
            if loaded is None:
                for error in errors:
                    print(error, file=sys.stderr)
                return 1
            text = copy_case(loaded.source.text, args.id)
    except (ValueError, OSError) as exc:
        print(f"new-case: {exc}", file=sys.stderr)
        return 1
    checked = check_text(text, path, kb)
    if not checked.ok:  # a scaffold or copy that does not load is a bug here, never the author's
        for error in checked.problems:
            print(error, file=sys.stderr)
        return 1
    atomic_write(path, text)
    print(f"wrote {path}: edit it, then run python -m logic validate {path}")
    return 0


def _kinds(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    print(kinds_table())
    return 0
