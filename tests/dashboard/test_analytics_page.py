"""The faculty Analytics page and the cohort exports (AppTest): what a course director sees first, the
cohort, dates and first attempts, the case on the flowchart; learners and guests refused by the page
itself, whatever the URL, query parameter or session state says. The main view also runs against a
real PostgreSQL server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import analytics as an
from dashboard import auth
from dashboard.demo_cohort import make_demo_cohort
from dashboard.store import CohortInfo, Store
from dashboard.store_analytics import Scope
from dashboard.store_base import database_url
from logic import load_knowledge_base, load_library

from .conftest import app_text, sign_in_faculty, sign_up
from .test_auth_pages import PASSCODE, open_page, refused, started

REPO = Path(__file__).resolve().parents[2]
KB = load_knowledge_base()
LIBRARY = load_library([REPO / "cases"], KB)
CASES = [LIBRARY.cases["myositis-after-failed-immunosuppression"], LIBRARY.cases["iga-deficient-before-ivig"]]


@pytest.fixture
def cohorts(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, CohortInfo]]:
    """Year 4 (6 simulated learners, 2 cases) and Nurses (2 learners, 1 case), in the page's database."""
    monkeypatch.setenv("MYOTUTOR_FACULTY_PASSCODE", PASSCODE)
    store = Store(database_url())
    try:
        yield {
            "year4": make_demo_cohort(store, CASES, KB, learners=6, name="Year 4", variant=5),
            "nurses": make_demo_cohort(
                store, CASES[:1], KB, learners=2, name="Nurses", variant=6, complete_rate=1.0
            ),
        }
    finally:
        store.close()


def faculty(app: Callable[[], AppTest], **query: str) -> AppTest:
    at = started(app)
    sign_in_faculty(at, PASSCODE)
    for k, v in query.items():
        at.query_params[k] = v
    return open_page(at, "analytics")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def download_labels(at: AppTest) -> list[str]:
    return [el.proto.label for el in at.get("download_button")]


def test_the_first_screen_says_where_the_group_goes_wrong(
    app: Callable[[], AppTest], cohorts: dict[str, CohortInfo]
) -> None:
    at = faculty(app)
    assert not at.exception and not at.error
    assert at.selectbox(key="an_cohort").value == cohorts["nurses"].id  # the newest cohort first
    at.selectbox(key="an_cohort").set_value(cohorts["year4"].id).run()
    assert at.query_params["cohort"] == str(cohorts["year4"].id)
    assert metrics(at)["Learners who played"] == "6"
    assert {"Attempts completed", "Mean score", "Unsafe answers", "Confident and unsafe"} <= set(metrics(at))
    sentence = at.markdown[0].value
    assert sentence.startswith(("**Most often answered unsafely:**", "**No unsafe answers."))
    [troubles, cases] = at.dataframe
    top = troubles.value.iloc[0]
    assert top["Where"].split(" · ")[0] in sentence.replace("\\", "")
    assert set(troubles.value["Open"]) <= {f"player?case={c.case.id}" for c in CASES}
    assert (
        list(troubles.value["Unsafe"]) == sorted(troubles.value["Unsafe"], reverse=True) or top["Unsafe"] > 0
    )
    assert sorted(cases.value["Case"]) == sorted(c.case.title for c in CASES)
    assert list(cases.value["Learners"]) == [6, 6]
    # The case of the top question is opened below, on the flowchart and question by question.
    assert at.selectbox(key="an_case").value in top["Open"]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    flowchart = next(
        c for c in charts if any(s.get("name", "").startswith("box:") for s in c["layout"].get("shapes", ()))
    )
    names = [a.get("name", "") for a in flowchart["layout"]["annotations"]]
    assert any(n.startswith("count:") for n in names)
    assert len(charts) >= 1 + 1 + 3  # the trouble chart, the flowchart, a chart per question with answers
    assert download_labels(at) == ["Answers (CSV)", "Attempts (CSV)", "xAPI statements (JSON lines)"]
    assert [s.value for s in at.subheader] == [
        "Where the group goes wrong",
        "All cases",
        "Case by case",
        "Export",
    ]


def test_the_cohort_comes_from_the_link_and_nothing_of_another_cohort_shows(
    app: Callable[[], AppTest], cohorts: dict[str, CohortInfo]
) -> None:
    at = faculty(app, cohort=str(cohorts["nurses"].id))  # the link on the Cohorts page
    assert at.selectbox(key="an_cohort").value == cohorts["nurses"].id
    assert metrics(at)["Learners who played"] == "2"
    assert list(at.dataframe[1].value["Case"]) == [CASES[0].case.title]  # the nurses played one case
    everyone = faculty(app, cohort="0")
    assert metrics(everyone)["Learners who played"] == "8"
    bogus = faculty(app, cohort="99999")  # no such cohort: the first one, no error
    assert not bogus.exception and bogus.selectbox(key="an_cohort").value == cohorts["nurses"].id


def test_dates_and_first_attempts(app: Callable[[], AppTest], cohorts: dict[str, CohortInfo]) -> None:
    at = faculty(app, cohort=str(cohorts["year4"].id))
    every = metrics(at)["Attempts completed"]
    at.toggle(key="an_first").set_value(True).run()
    assert at.expander[0].label.endswith("first attempts only")
    first = at.dataframe[1].value
    assert list(first["Learners"]) == [6, 6] and metrics(at)["Attempts completed"] != "" and every
    at.date_input(key="an_from").set_value(date.today() + timedelta(days=1)).run()
    assert not at.metric and any("Nobody has played" in i.value for i in at.info)
    at.date_input(key="an_to").set_value(date.today() - timedelta(days=1)).run()  # the wrong way round
    assert any("other way round" in w.value for w in at.warning) and metrics(at)["Learners who played"] == "6"


def test_the_flowchart_opens_at_the_stage_most_of_the_group_left_the_recommended_step(
    app: Callable[[], AppTest], cohorts: dict[str, CohortInfo]
) -> None:
    at = faculty(app, cohort=str(cohorts["year4"].id))
    case = CASES[0].case
    at.selectbox(key="an_case").set_value(case.id).run()
    store = Store(database_url())
    try:
        flows = an.stage_flows(case, store.answer_choices(Scope(cohorts["year4"].id), case.id), KB)
    finally:
        store.close()
    worst = an.worst_flow(flows)
    assert worst is not None
    assert at.session_state[f"an_stage:{case.id}"] == worst.stage_index
    adult = KB.pathways["adult"]
    assert an.flow_summary(worst, adult, KB) in [m.value for m in at.markdown]
    flowchart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"box:' in c.proto.spec)
    shown = {
        a["name"][6:]: a["text"]
        for a in flowchart["layout"]["annotations"]
        if a.get("name", "").startswith("count:")
    }
    for step, n in worst.counts.items():
        assert shown[step].startswith(f"<b>{n}</b>")
    other = next(f for f in flows if f.stage_index != worst.stage_index)
    at.session_state[f"an_stage:{case.id}"] = other.stage_index
    at.run()
    assert an.flow_summary(other, adult, KB) in [m.value for m in at.markdown]


def test_a_learner_is_refused_by_url_query_parameter_and_forged_state(
    app: Callable[[], AppTest], cohorts: dict[str, CohortInfo]
) -> None:
    at = started(app)
    sign_up(at, "Mallory")

    def nothing_shown(at: AppTest) -> None:
        assert refused(at), [e.value for e in at.error]
        assert (
            not at.metric
            and not at.dataframe
            and not at.get("plotly_chart")
            and not at.get("download_button")
        )
        text = app_text(at)
        assert "Year 4" not in text and "Where the group goes wrong" not in text

    nothing_shown(open_page(at, "analytics"))  # /analytics
    at.query_params["cohort"] = str(cohorts["year4"].id)
    at.query_params["role"] = "faculty"
    nothing_shown(open_page(at, "analytics"))
    token = at.session_state[auth.TOKEN_KEY]
    at.session_state[auth.USER_KEY] = (token, auth.User("faculty", "Mallory", via="passcode"))
    at.session_state[auth.RUN_USER_KEY] = auth.User("faculty", "Mallory", via="passcode")
    at.session_state[auth.OIDC_KEY] = ("prof@example.org", 1)
    at.session_state["an_cohort"] = cohorts["year4"].id
    nothing_shown(open_page(at, "analytics"))
    assert at.session_state["_pages"]["analytics"].visibility == "hidden"


def test_a_guest_is_refused(app: Callable[[], AppTest], cohorts: dict[str, CohortInfo]) -> None:
    at = started(app)
    open_page(at, "analytics")
    assert refused(at) and not at.metric and not at.dataframe


def test_the_cohorts_page_exports_each_cohort_and_links_its_analytics(
    app: Callable[[], AppTest], cohorts: dict[str, CohortInfo]
) -> None:
    at = started(app)
    sign_in_faculty(at, PASSCODE)
    open_page(at, "cohorts")
    assert download_labels(at) == ["Answers (CSV)", "Attempts (CSV)", "xAPI statements (JSON lines)"] * 2
    links = [el.proto for el in at.get("page_link")]
    analytics = [link for link in links if link.label.startswith("Analytics")]
    assert sorted(link.query_string for link in analytics) == sorted(
        f"cohort={c.id}" for c in cohorts.values()
    )


@pytest.mark.postgres
def test_the_page_on_postgresql(
    app: Callable[[], AppTest], postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .conftest import wipe

    wipe(postgres_url)
    # A URL of its own, so that the app's cached Store (one per URL) is this database's, migrated now.
    url = f"{postgres_url}?application_name=analytics-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MYOTUTOR_DATABASE_URL", url)
    monkeypatch.setenv("MYOTUTOR_FACULTY_PASSCODE", PASSCODE)
    store = Store(url)
    try:
        made = make_demo_cohort(store, CASES, KB, learners=4, name="Year 4", variant=7)
        at = faculty(app, cohort=str(made.id))
        assert not at.exception and metrics(at)["Learners who played"] == "4"
        assert len(at.dataframe) == 2 and at.get("plotly_chart")
    finally:
        store.close()
        wipe(postgres_url)
