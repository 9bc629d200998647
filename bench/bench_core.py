"""Core benchmark: loading + validating + linting a large case library, and recommend() throughput.

Run from the repository root:  .venv/bin/python bench/bench_core.py [--cases 1000] [--patients 6000]

Speed is measured here and only here (never asserted in timed tests). Every ratio is against a floor
measured in the same run on the same files, so the numbers travel between machines:

  (a) floor  : read each file and yaml.load(text, Loader=yaml.CSafeLoader), nothing else
  (b) library: logic.load_library([folder], KB) (safe read, alias check, pydantic validation, story check)
               plus logic.lint_case() on every loaded case (stage plans, answer keys, expect checks)
  (c) recommend() over varied Patient objects (caches of doses/monitoring cleared before each repeat)

Cases are generated from a seed: varied patients (ages, weights, diagnoses, manifestations, current and
failed agents, labs), 2-4 stages with story changes, and every question kind, with options drawn from
the knowledge base and chosen with the logic so the files are valid and mostly lint-clean.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from logic import (
    Patient,
    lint_case,
    load_knowledge_base,
    load_library,
    monitoring_for,
    recommend,
    validation_context,
)
from logic.cases import Case
from logic.knowledge import MANIFESTATIONS as KNOWN_MANIFESTATIONS
from logic.questions.ordering import UNSEQUENCED_STEPS

try:
    from logic import lint_library
except ImportError:  # older logic/: lint_case in a loop
    lint_library = None

SEED = 20240611
TARGET_LIBRARY_RATIO = 2.0
TARGET_PATIENTS_PER_S = 5000.0

KB = load_knowledge_base()  # the benchmark's composition point
CONTEXT = validation_context(KB)
ADULT_DIAGNOSES = ("dermatomyositis", "polymyositis", "necrotizing_myopathy")
MANIFESTATIONS = KNOWN_MANIFESTATIONS
# Plausible treatment histories, in the order they are usually tried.
CHAINS = (
    ("prednisone", "methotrexate", "ivig", "rituximab", "cyclophosphamide"),
    ("prednisone", "azathioprine", "mycophenolate_mofetil", "ivig", "tacrolimus"),
    ("prednisone", "methotrexate", "mycophenolate_mofetil", "rituximab", "infliximab"),
    ("prednisone", "hydroxychloroquine", "methotrexate", "ivig", "tofacitinib"),
    ("methylprednisolone", "prednisone", "methotrexate", "ivig", "abatacept"),
)
LAB_VALUES = {
    "iga": ("normal", "deficient", "unknown"),
    "tb": ("negative", "positive", "unknown"),
    "hepatitis": ("negative", "positive", "unknown"),
}
REFERENCES = tuple(KB.sources)


# --------------------------------------------------------------------------- generation


def random_patient(rng: random.Random) -> dict[str, Any]:
    juvenile = rng.random() < 0.3
    diagnosis = "juvenile_dermatomyositis" if juvenile else rng.choice(ADULT_DIAGNOSES)
    age = rng.randint(3, 17) if juvenile else rng.randint(18, 84)
    if juvenile:  # around a typical child of that age (weight ~ 2 x age + 8 kg, height ~ 6 x age + 77 cm)
        weight = round((2 * age + 8) * rng.uniform(0.8, 1.4), 1)
        height = round((6 * age + 77) * rng.uniform(0.92, 1.08), 0)
    else:
        weight, height = round(rng.uniform(42, 125), 1), round(rng.uniform(148, 195), 0)
    manifestations = ["muscle"] if rng.random() < 0.85 else []
    if diagnosis in ("dermatomyositis", "juvenile_dermatomyositis") or rng.random() < 0.2:
        manifestations.append("skin")
    manifestations += rng.sample(MANIFESTATIONS[2:], k=rng.choice((0, 0, 0, 1, 1, 2)))
    chain = rng.choice(CHAINS)
    n_failed = rng.choice((0, 0, 1, 1, 2, 3))
    failed = list(chain[1 : 1 + n_failed]) if n_failed else []
    current = []
    if rng.random() < 0.8:
        current.append({"agent": chain[0], "months": rng.choice((0, 1, 3, 5, 8, 12))})
    patient: dict[str, Any] = {
        "age": age,
        "sex": rng.choice(("female", "male")),
        "weight_kg": weight,
        "diagnosis": diagnosis,
        "manifestations": list(dict.fromkeys(manifestations)),
        "severity": rng.choice(("mild", "moderate", "moderate", "severe")),
        "current": current,
        "failed": failed,
        "labs": {k: rng.choice(v) for k, v in LAB_VALUES.items()},
    }
    if rng.random() < 0.9:
        patient["height_cm"] = height
    if rng.random() < 0.1:
        patient["infections"] = True
    if rng.random() < 0.07:
        patient["cytopenias"] = True
    return patient


def random_change(rng: random.Random, patient: Patient) -> dict[str, Any]:
    """The story moves on: time passes, something fails or starts, labs come back."""
    change: dict[str, Any] = {"months_pass": rng.choice((1, 2, 3, 6))}
    rec = recommend(patient, KB)
    candidates = [
        o.id
        for o in rec.options
        if o.kind == "agent" and o.grade in ("recommended", "acceptable") and o.id not in patient.current_ids
    ]
    current = [c for c in patient.current_ids if "glucocorticoid" not in KB.agents[c].tags]
    if current and rng.random() < 0.6:
        change["fail"] = [rng.choice(current)]
    if candidates and rng.random() < 0.8:
        change["start"] = [{"agent": rng.choice(candidates), "months": 0}]
    if rng.random() < 0.5:
        change["labs"] = {k: rng.choice(v[:2]) for k, v in LAB_VALUES.items() if rng.random() < 0.5}
    if rng.random() < 0.2:
        change["add_manifestations"] = [rng.choice(MANIFESTATIONS[2:])]
    if rng.random() < 0.15:
        change["severity"] = rng.choice(("mild", "moderate", "severe"))
    if rng.random() < 0.1:
        change["weight_kg"] = round(patient.weight_kg * rng.uniform(0.9, 1.1), 1)
    return change


def _distractors(rng: random.Random, pool: list[str], exclude: set[str], k: int) -> list[str]:
    choices = [p for p in pool if p not in exclude]
    return rng.sample(choices, k=min(k, len(choices)))


def random_question(rng: random.Random, qid: str, kind: str, patient: Patient) -> dict[str, Any] | None:
    rec = recommend(patient, KB)
    if kind == "next_step":
        best = rec.with_grade("recommended") or rec.with_grade("acceptable")
        if not best:
            return None
        answer = rng.choice(best)
        others = _distractors(
            rng, list(rec.with_grade("not_recommended", "unsafe")), {answer}, rng.randint(2, 4)
        )
        if len(others) < 1:
            others = _distractors(rng, list(KB.option_ids), {answer, *best}, 3)
        options = [answer, *others]
        rng.shuffle(options)
        q = {"id": qid, "kind": kind, "prompt": "Which is the recommended next step?", "options": options}
        if rng.random() < 0.5:
            q["expect"] = answer
        if rng.random() < 0.3:
            q["certainty"] = True
        return q
    if kind == "prerequisites":
        with_prereqs = [o for o in rec.options if o.kind == "agent" and o.prerequisites]
        if not with_prereqs:
            return None
        option = rng.choice(with_prereqs)
        missing = list(option.prerequisites)
        options = missing + _distractors(rng, list(KB.actions), set(missing), rng.randint(1, 3))
        rng.shuffle(options)
        q = {
            "id": qid,
            "kind": kind,
            "agent": option.id,
            "prompt": f"Before starting {option.name}, which are needed? Select all that apply.",
            "options": options,
        }
        if rng.random() < 0.5:
            q["expect"] = missing
        return q
    if kind == "monitoring":
        agents = list(patient.current_ids) or [rng.choice(list(KB.agents))]
        advice = [m.id for m in monitoring_for(tuple(agents), KB)]
        if not advice:
            return None
        correct = rng.sample(advice, k=min(len(advice), rng.randint(1, 3)))
        options = correct + _distractors(rng, list(KB.monitoring), set(advice), rng.randint(1, 3))
        if len(options) < 2:
            options = advice[:2] if len(advice) >= 2 else options + ["cbc", "lft"][: 2 - len(options)]
        options = list(dict.fromkeys(options))
        rng.shuffle(options)
        q = {"id": qid, "kind": kind, "prompt": "What do you monitor?", "options": options}
        if not patient.current_ids or rng.random() < 0.5:
            q["agents"] = agents  # without `agents`, the key is what the patient is on at this stage
        return q
    if kind == "ordering":
        pathway = KB.pathways[patient.population]
        layers = pathway.layers()
        earliest: dict[str, int] = {}
        for step in pathway.steps:
            if step.kind not in UNSEQUENCED_STEPS:
                for option in (*step.agents, *step.actions):
                    earliest[option] = min(earliest.get(option, 99), layers[step.id])
        by_layer: dict[int, list[str]] = {}
        for option, layer in earliest.items():
            by_layer.setdefault(layer, []).append(option)
        picked_layers = rng.sample(sorted(by_layer), k=min(len(by_layer), rng.randint(3, 4)))
        if len(picked_layers) < 3:
            return None
        order = [rng.choice(sorted(by_layer[layer])) for layer in sorted(picked_layers)]
        options = order[:]
        rng.shuffle(options)
        q = {"id": qid, "kind": kind, "prompt": "Put these in the pathway's order.", "options": options}
        if rng.random() < 0.5:
            q["expect"] = order
        if rng.random() < 0.3:
            q["certainty"] = True
        return q
    if kind == "dose":
        dosed = [o for o in rec.options if o.kind == "agent" and o.dose is not None]
        if not dosed:
            return None
        option = rng.choice(dosed)
        assert option.dose is not None
        q = {
            "id": qid,
            "kind": kind,
            "agent": option.id,
            "unit": option.dose.unit,
            "prompt": f"What dose of {option.name}, in {option.dose.unit}?",
        }
        if rng.random() < 0.5:
            q["expect"] = round((option.dose.low + option.dose.high) / 2, 2)
        return q
    return {
        "id": qid,
        "kind": "reflection",
        "prompt": "What would you tell a colleague?",
        "discussion": "Weigh the evidence and the patient's own goals.",
    }


KINDS = ("next_step", "next_step", "prerequisites", "monitoring", "dose", "ordering", "reflection")


def random_case(rng: random.Random, index: int) -> dict[str, Any]:
    patient_data = random_patient(rng)
    n_stages = rng.randint(2, 4)
    stages: list[dict[str, Any]] = []
    patient = Patient.model_validate(patient_data, context=CONTEXT)
    for s in range(n_stages):
        stage: dict[str, Any] = {
            "title": f"Stage {s + 1}",
            "narrative": f"Visit {s + 1}. Weakness **persists**; CK {rng.randint(200, 9000)} U/L.",
            "data": {
                "labs": [
                    {
                        "test": "CK",
                        "value": rng.randint(150, 9000),
                        "unit": "U/L",
                        "reference": "< 200",
                        "flag": "high",
                    }
                ],
                "series": [
                    {
                        "name": "CK",
                        "unit": "U/L",
                        "points": [[m, rng.randint(200, 9000)] for m in range(0, 6, 2)],
                    }
                ],
            },
        }
        if s > 0:
            change = random_change(rng, patient)
            stage["changes"] = change
            # Keep the story valid: apply through the case model and fall back to time passing only.
            try:
                probe = Case.model_validate(
                    _case_dict(index, patient_data, [*stages, stage], rng_refs=()), context=CONTEXT
                )
                patient = probe.patients(KB)[-1]
            except Exception:
                stage["changes"] = {"months_pass": change["months_pass"]}
                probe = Case.model_validate(
                    _case_dict(index, patient_data, [*stages, stage], rng_refs=()), context=CONTEXT
                )
                patient = probe.patients(KB)[-1]
        questions = []
        offered: set[str] = set()  # a stage offers each option once (lint)
        for k in range(rng.randint(1, 3)):
            q = random_question(rng, f"s{s + 1}-q{k + 1}", rng.choice(KINDS), patient)
            if q is not None and not offered & set(q.get("options", ())):
                offered |= set(q.get("options", ()))
                questions.append(q)
        stage["questions"] = questions
        stages.append(stage)
    refs = tuple(rng.sample(REFERENCES, k=min(3, len(REFERENCES))))
    return _case_dict(index, patient_data, stages, rng_refs=refs)


def _case_dict(
    index: int, patient: dict[str, Any], stages: list[dict[str, Any]], rng_refs: tuple[str, ...]
) -> dict[str, Any]:
    population = Patient.model_validate(patient, context=CONTEXT).population
    return {
        "id": f"bench-case-{index:04d}",
        "title": f"Benchmark case {index}",
        "summary": "Generated for the benchmark.",
        "population": population,
        "difficulty": ("introductory", "intermediate", "advanced")[index % 3],
        "tags": ["bench"],
        "objectives": ["Choose the next step."],
        "author": "bench_core.py",
        "references": list(rng_refs),
        "patient": patient,
        "stages": stages,
    }


def generate(folder: Path, n: int, seed: int = SEED) -> dict[str, int]:
    rng = random.Random(seed)
    stats: Counter[str] = Counter()
    for i in range(n):
        data = random_case(rng, i)
        stats[f"stages={len(data['stages'])}"] += 1
        for stage in data["stages"]:
            for q in stage["questions"]:
                stats[q["kind"]] += 1
        text = yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)
        (folder / f"bench-case-{i:04d}.yaml").write_text(text, encoding="utf-8")
    return dict(stats)


def random_patients(n: int, seed: int = SEED + 1) -> list[Patient]:
    """Varied patients, also moved through a random story change, all validated up front."""
    rng = random.Random(seed)
    out: list[Patient] = []
    while len(out) < n:
        out.append(Patient.model_validate(random_patient(rng), context=CONTEXT))
    return out


# --------------------------------------------------------------------------- timing


def best_of(
    fn: Callable[[], object], repeats: int, before: Callable[[], None] | None = None
) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), times


def floor_parse(files: list[Path]) -> None:
    for path in files:
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def load_and_lint(folder: Path) -> tuple[int, int, int]:
    """What `python -m logic validate` does: load + validate every file, then lint every case."""
    library = load_library([folder], KB)
    if lint_library is not None:  # lint_case over the library (with the cyclic GC paused)
        lint = len(lint_library(library, KB))
    else:
        lint = sum(len(lint_case(loaded, KB)) for loaded in library.cases.values())
    return len(library.cases), len(library.errors), lint


def clear_recommend_caches() -> None:
    """The dose and monitoring memos hang off the knowledge base: empty them."""
    KB.doses.clear()
    KB.engine.clear_memo()


def recommend_all(patients: list[Patient]) -> None:
    for p in patients:
        recommend(p, KB)


def profile(fn: Callable[[], object], top: int = 15) -> str:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    out.write("--- by cumulative time, logic/ only ---\n")
    stats.sort_stats("cumulative").print_stats(r"logic[/\\]", top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--patients", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile every measurement, not only misses")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="myotutor-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        stats = generate(folder, args.cases)
        files = sorted(folder.glob("*.yaml"))
        total_bytes = sum(p.stat().st_size for p in files)
        print(
            f"generated {len(files)} case files ({total_bytes / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f}s; "
            + ", ".join(f"{k}: {v}" for k, v in sorted(stats.items()))
        )

        # Correctness first: every generated file must load; lint findings are counted.
        loaded, errors, lint = load_and_lint(folder)
        library = load_library([folder], KB)
        for error in library.errors[:5]:
            print(f"  error: {error}")
        lint_messages: Counter[str] = Counter()
        for lc in library.cases.values():
            for finding in lint_case(lc, KB):
                lint_messages[finding.message.split(" but ")[0].split(":")[0][:60]] += 1
        print(f"loaded {loaded}/{len(files)} cases, {errors} load errors, {lint} lint findings")
        for message, count in lint_messages.most_common(5):
            print(f"  lint x{count}: {message}")

        floor_s, floor_runs = best_of(lambda: floor_parse(files), args.repeats)
        lib_s, lib_runs = best_of(lambda: load_and_lint(folder), max(3, args.repeats - 2))
        ratio = lib_s / floor_s

        patients = random_patients(args.patients)
        rec_cold_s, _ = best_of(lambda: recommend_all(patients), args.repeats, before=clear_recommend_caches)
        rec_warm_s, _ = best_of(lambda: recommend_all(patients), args.repeats)
        per_s = len(patients) / rec_cold_s
        per_s_warm = len(patients) / rec_warm_s

        n = len(files)
        rows = [
            (
                "(a) floor: read + yaml CSafeLoader, per file",
                f"{floor_s / n * 1e3:.3f} ms ({floor_s:.2f} s total)",
                "-",
                "-",
            ),
            (
                "(b) load_library + lint_library (lint_case on each), per file",
                f"{lib_s / n * 1e3:.3f} ms ({lib_s:.2f} s total)",
                "-",
                "-",
            ),
            (
                "(b)/(a) ratio",
                f"{ratio:.2f}x",
                f"<= {TARGET_LIBRARY_RATIO:g}x",
                "yes" if ratio <= TARGET_LIBRARY_RATIO else "NO",
            ),
            (
                f"(c) recommend() throughput, {len(patients)} patients, caches cleared",
                f"{per_s:,.0f} patients/s ({rec_cold_s / len(patients) * 1e6:.0f} us each)",
                f">= {TARGET_PATIENTS_PER_S:,.0f}/s",
                "yes" if per_s >= TARGET_PATIENTS_PER_S else "NO",
            ),
            ("(c') recommend() throughput, warm caches", f"{per_s_warm:,.0f} patients/s", "-", "-"),
            (
                "files loaded / load errors / lint findings",
                f"{loaded}/{n} / {errors} / {lint}",
                f"{n}/{n} / 0 / -",
                "yes" if loaded == n and errors == 0 else "NO",
            ),
        ]
        print()
        print(
            f"Python {sys.version.split()[0]}, best of {args.repeats} (library: best of {max(3, args.repeats - 2)})"
        )
        print()
        print("| metric | value | target | met? |")
        print("|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print()
        print(
            "runs (s): floor "
            + ", ".join(f"{t:.2f}" for t in floor_runs)
            + "; library "
            + ", ".join(f"{t:.2f}" for t in lib_runs)
            + f"; library median {statistics.median(lib_runs):.2f}"
        )

        if ratio > TARGET_LIBRARY_RATIO or args.profile:
            print("\n### profile: load_library + lint_case (top by own time)\n")
            print(profile(lambda: load_and_lint(folder)))
        if per_s < TARGET_PATIENTS_PER_S or args.profile:
            clear_recommend_caches()
            print("\n### profile: recommend() (top by own time)\n")
            print(profile(lambda: recommend_all(patients)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
