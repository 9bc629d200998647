import streamlit as st

st.title("reference")
st.info("Under construction.")
