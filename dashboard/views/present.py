"""Present a live session (faculty): start one from any case, or resume one; then the projector view
(no sidebar, large type) with the presenter's controls."""

from sqlalchemy.exc import SQLAlchemyError

from dashboard import auth
from dashboard.live import presenter, style
from dashboard.live.context import store_or_none, unavailable

if (faculty := auth.require_faculty()) is not None:
    style.projector()
    store = store_or_none()
    try:
        if store is None:
            unavailable()
        elif (state := presenter.chosen_session(store)) is None:
            presenter.start_or_resume(store, faculty.email or faculty.name)
        else:
            presenter.projector(store, state)
    except SQLAlchemyError:
        unavailable()
