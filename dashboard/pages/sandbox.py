import streamlit as st

st.title("sandbox")
st.info("Under construction.")
