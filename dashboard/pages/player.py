import streamlit as st

st.title("player")
st.info("Under construction.")
