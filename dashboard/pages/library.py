import streamlit as st

st.title("library")
st.info("Under construction.")
