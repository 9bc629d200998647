"""Live session, for the room's phones: join with the code (or the QR code's link), then answer what the
presenter opens. No sidebar; large tap targets."""

import streamlit as st

from dashboard.live import learner, style
from dashboard.live.context import UNAVAILABLE, store_or_none

style.phone()
store = store_or_none()
if store is None:
    st.warning(UNAVAILABLE)
elif (found := learner.find_seat(store)) is None:
    learner.join_form()
else:
    learner.seat_view(store, found[0])
