"""monitoring in the app: the select-all layout."""

from __future__ import annotations

from dashboard.questions.selection import SelectAllView
from logic.questions import MonitoringQuestion


class MonitoringView(SelectAllView[MonitoringQuestion]):
    pass
