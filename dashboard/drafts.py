"""Drafts: cases under review, in the cases folder's ``drafts/``, shown to faculty only.

The library and the player ask ``library_for(faculty)``: learners get the published cases; faculty also
get every draft whose id no published case uses, marked as a draft. A draft that revises a published
case (same id) is listed on the library page for faculty and opens on the Author page, where its
preview shows it as learners will see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import icons
from dashboard.context import cases_dir, get_library
from dashboard.wording import count
from logic import Library, LoadedCase
from logic.casefiles import DRAFTS

DRAFT_BADGE = ":orange-badge[Draft · faculty only]"


def drafts_dir(folder: Path | None = None) -> Path:
    return (cases_dir() if folder is None else folder) / DRAFTS


def is_draft(loaded: LoadedCase) -> bool:
    return loaded.path.parent.name == DRAFTS


def get_drafts() -> Library:
    folder = drafts_dir()
    return get_library(folder) if folder.is_dir() else Library()


def library_for(faculty: bool) -> Library:
    """What this viewer may play: the published cases, and for faculty the drafts with ids of their own."""
    published = get_library()
    if not faculty:
        return published
    drafts = get_drafts()
    if not drafts.cases and not drafts.errors:
        return published
    merged = Library(cases=dict(published.cases), errors=[*published.errors, *drafts.errors])
    for case_id, loaded in drafts.cases.items():
        merged.cases.setdefault(case_id, loaded)
    return merged


def revisions_section(pages: Mapping[str, Any]) -> None:
    """For faculty: drafts that revise a published case (same id), each opening on the Author page."""
    published, drafts = get_library(), get_drafts()
    revising = sorted(c for c in drafts.cases if c in published.cases)
    if not revising:
        return
    with st.expander(
        f"{icons.DRAFT} {count(len(revising), 'draft revision')} of published cases (faculty only)"
    ):
        for case_id in revising:
            st.markdown(f"{DRAFT_BADGE} **{drafts.cases[case_id].case.title}** (`{case_id}`)")
        st.page_link(pages["author"], label="Open them on the Author page", icon=icons.AUTHOR)
