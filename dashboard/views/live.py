"""Live session, for the room's phones: join with the code (or the QR code's link), then answer what the
presenter opens. No sidebar; large tap targets."""

from sqlalchemy.exc import SQLAlchemyError

from dashboard.live import learner, style
from dashboard.live.context import store_or_none, unavailable

style.phone()
store = store_or_none()
try:
    if store is None:
        unavailable()
    elif (found := learner.find_seat(store)) is None:
        learner.join_form()
    else:
        learner.seat_view(store, found[0])
except SQLAlchemyError:
    unavailable()
