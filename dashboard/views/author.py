"""Author (faculty): write or change a case in one sitting. Start from a scaffold or any case, edit its
YAML, see every error and lint finding at its line and a preview of the case as the learner sees it
(with the answer keys the logic derives and the patient's place on the pathway), then save it as a draft
or publish it: the library and the player pick it up at once. The sections are in dashboard/authoring.py.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auth, icons
from dashboard import authoring as sections
from dashboard.context import get_kb

if (faculty := auth.require_faculty()) is not None:
    kb = get_kb()
    st.title("Author a case")
    st.caption(
        "Answer keys come from the logic, never from the file: write `expect:` with what you believe, and the "
        "checks below say where the logic disagrees. AUTHORING.md in the repository explains every field."
    )
    sections.start_panel()
    edit_col, check_col = st.columns([1, 1], gap="medium")
    with edit_col:
        text = sections.editor()
        with st.expander("Upload a case file"):
            sections.upload_panel(kb)
    checked = sections.checked_text(text, kb) if text.strip() else None
    with check_col:
        if checked is None:
            st.info(
                "Start from a scaffold or a case above, or paste a case into the editor.", icon=icons.AUTHOR
            )
        else:
            sections.problems_panel(checked)
            sections.save_panel(checked, kb)
    if checked is not None:
        st.divider()
        st.subheader("Preview: the case as the learner sees it", anchor=False)
        sections.preview(checked, kb)
