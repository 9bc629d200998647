"""The reference page (AppTest) and its pure table rows."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.formulary_table import COLUMNS, NO_DOSE, filter_rows, formulary_rows
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
    assert mtx["Maximum"] == "Adult: 40 mg/week"
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


def test_page_lists_all_agents_and_search_filters():
    at = _page()
    assert [t.value for t in at.title] == ["Reference"]
    table = at.dataframe[0].value
    assert len(table) == 20
    assert set(table["Agent"]) == {a.name for a in KB.agents.values()}
    at.text_input(key="ref_search").input("calcineurin").run()
    assert not at.exception
    names = set(at.dataframe[0].value["Agent"])
    assert names == {"Tacrolimus", "Ciclosporin"}
    assert any("2 of 20 agents" in c.value for c in at.caption)


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
