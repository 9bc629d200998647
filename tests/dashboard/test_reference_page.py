"""The reference page (AppTest) and its pure table rows."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.evidence_table import EVIDENCE_COLUMNS, evidence_rows, filter_evidence, summary
from dashboard.formulary_table import COLUMNS, filter_rows, formulary_rows
from logic.vocabulary import NO_DOSE
from tests.context import KB

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("views/reference.py").run()
    assert not at.exception
    return at


def test_rows_one_per_agent_with_all_columns():
    rows = formulary_rows(KB)
    assert len(rows) == len(KB.agents) == 20
    assert all(tuple(r) == COLUMNS for r in rows)
    by_name = {r["Agent"]: r for r in rows}
    mtx = by_name["Methotrexate"]
    assert "15–20 mg/m²/week" in mtx["Adult regimen"] and "15–20 mg/m²/week" in mtx["JDM regimen"]
    assert mtx["Maximum"] == "Adult: maximum 40 mg/week; JDM: maximum 40 mg/week"
    assert by_name["Prednisone"]["Maximum"] == "Adult: usually at most 60 mg/day"
    assert by_name["Intravenous immunoglobulin (IVIG)"]["Maximum"] == (
        "Adult: no maximum in the sources; JDM: no maximum in the sources"
    )
    assert "of ideal body weight" in by_name["Intravenous immunoglobulin (IVIG)"]["Adult regimen"]
    assert by_name["Prednisone"]["JDM regimen"] == NO_DOSE
    assert "Check serum IgA" in by_name["Intravenous immunoglobulin (IVIG)"]["Prerequisites"]
    assert all(r["Sources"] for r in rows if r["Adult regimen"] != NO_DOSE)


def test_filter_rows_every_word_case_insensitive():
    rows = formulary_rows(KB)
    assert filter_rows(rows, "") == rows
    tnf = filter_rows(rows, "tnf")
    assert {r["Agent"] for r in tnf} == {"Infliximab", "Adalimumab", "Etanercept"}
    assert {r["Agent"] for r in filter_rows(rows, "TNF infusion")} == {"Infliximab"}
    assert filter_rows(rows, "zzz-nothing") == []


def _cards(at: AppTest) -> list[str]:
    return [
        m.value.split("**")[1]
        for m in at.markdown
        if m.value.startswith("**") and " · " in m.value.split("\n")[0]
    ]


def test_page_lists_all_agents_as_cards_and_search_filters():
    at = _page()
    assert [t.value for t in at.title] == ["Reference"]
    assert not at.dataframe or all(
        "Strength" in d.value.columns for d in at.dataframe
    )  # no wide formulary table
    assert set(_cards(at)) == {a.name for a in KB.agents.values()} and len(_cards(at)) == 20
    at.text_input(key="ref_search").input("calcineurin").run()
    assert not at.exception
    assert set(_cards(at)) == {"Tacrolimus", "Ciclosporin"}
    assert any("2 of 20 agents" in c.value for c in at.caption)
    card = next(m.value for m in at.markdown if m.value.startswith("**Tacrolimus**"))
    assert f"- Adult regimen: {NO_DOSE}" in card and "- Monitoring: Complete blood count" in card
    at.text_input(key="ref_search").input("methotrexate").run()
    card = next(m.value for m in at.markdown if m.value.startswith("**Methotrexate**"))
    assert "- Maximum: Adult: maximum 40 mg/week" in card


def test_agent_detail_and_actions():
    at = _page()
    at.selectbox(key="ref_agent").set_value("ivig").run()
    assert not at.exception
    assert [s.value for s in at.subheader] == ["Intravenous immunoglobulin (IVIG)"]
    text = "\n".join(m.value for m in at.markdown)
    assert "schedule:" in text and "doi.org" in text
    assert "**Cautions**" in text and "**Faculty notes**" in text
    for action in KB.actions.values():
        assert action.name in text


def test_evidence_rows_every_claim_with_source_strength_implementer_and_check():
    rows = evidence_rows(KB)
    assert len(rows) == len(KB.claims) >= 90
    assert all(tuple(r) == EVIDENCE_COLUMNS for r in rows)
    assert all(r["Check"].startswith("pass") for r in rows), [
        r for r in rows if not r["Check"].startswith("pass")
    ]
    labels = {s.label for s in KB.sources.values()}
    assert all(any(r["Source"].startswith(label) for label in labels) for r in rows)
    ceiling = next(r for r in rows if "maximum of 40 mg/week" in r["Claim"])
    assert ceiling["Strength"] == "recommend"
    assert "Methotrexate adult dose ceiling" in ceiling["Implemented by"]
    assert "Reference answer: upadacitinib for DM already on IVIG" in ceiling["Source"]
    # A teacher reads plain words: no internal ids, file names or codes anywhere in the table.
    text = " ".join(" ".join(r.values()) for r in rows)
    for word in (
        "seed",
        "answer_",
        "rule:",
        "regimen:",
        ".txt",
        "S0",
        "S1",
        "S2",
        "S3",
        "S4",
        "conservative_choice",
    ):
        assert word not in text, word


def test_filter_evidence_by_words_and_strength():
    rows = evidence_rows(KB)
    ibw = filter_evidence(rows, "ideal body weight")
    assert ibw and all("ideal body weight" in " ".join(r.values()).lower() for r in ibw)
    silent = filter_evidence(rows, "", ["sources silent"])
    assert silent and {r["Source"] for r in silent} == {KB.sources["conservative_choice"].label}
    assert filter_evidence(rows, "zzz-nothing") == []
    assert summary(rows) == f"{sum(len(c.checks) for c in KB.claims)} checks, every one passes"


def test_evidence_view_searchable_register_on_the_page():
    at = _page()
    assert any(t.label == "Evidence" for t in at.tabs)
    table = next(d for d in at.dataframe if "Strength" in d.value.columns).value
    assert list(table.columns) == list(EVIDENCE_COLUMNS)
    assert len(table) == len(KB.claims)
    assert set(table["Check"].str.split(" ").str[0]) == {"pass"}
    at.text_input(key="evidence_search").input("tuberculosis").run()
    assert not at.exception
    table = next(d for d in at.dataframe if "Strength" in d.value.columns).value
    assert 0 < len(table) < len(KB.claims)
    assert all("tuberculosis" in " ".join(row).lower() for row in table.astype(str).values.tolist())
    at.text_input(key="evidence_search").input("").run()
    at.multiselect(key="evidence_strength").set_value(["consider"]).run()
    table = next(d for d in at.dataframe if "Strength" in d.value.columns).value
    assert len(table) > 5 and set(table["Strength"]) == {"consider"}
    assert any("claims" in c.value and "every one passes" in c.value for c in at.caption)
    first = table["Claim"].iloc[0]
    at.selectbox(key="evidence_claim").set_value(first).run()
    detail = "\n".join(m.value for m in at.markdown)
    assert f"**{first}**" in detail and "Strength: *consider*" in detail and "Implemented by:" in detail
