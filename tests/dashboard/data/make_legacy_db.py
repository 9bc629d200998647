"""How legacy-0001.db was made: run with the code of main at commit 523a877 (before migrations),
e.g. `cd <a checkout of 523a877> && .venv/bin/python <this file> /tmp/legacy-0001.db`. Kept for the
record; the tests only read the committed file (copied to a temporary folder first)."""

import sys

from dashboard.store import Store

store = Store(f"sqlite:///{sys.argv[1]}")
ada, grace, ada2 = store.learner("Ada Lovelace"), store.learner("Grace Hopper"), store.learner("ada lovelace")
a = store.open_attempt(ada, "myositis-after-failed-immunosuppression")
store.save_stage(
    a.id, {"next-agent": "ivig", "before-ivig": ["check_iga", "ivig_premedication"], "ivig-dose": 136.0}, 1
)
store.save_stage(
    a.id,
    {
        "ivig-monitoring": ["headache"],
        "ivig-month-one": "continue_and_reassess",
        "after-ivig": "rituximab",
        "reflect": "Thrombosis matters.",
    },
    3,
)
store.complete(a.id, 87.5, {"escalation": 90.0, "safety": 100.0, "dosing": 100.0, "monitoring": 50.0})
b = store.open_attempt(ada, "myositis-after-failed-immunosuppression")
store.save_stage(b.id, {"next-agent": "rituximab"}, 1)
store.open_attempt(grace, "jdm-refractory-after-jak-failure")
store.restart(grace, "jdm-refractory-after-jak-failure")
store.open_attempt(ada2, "myositis-after-failed-immunosuppression")
store.close()
