import streamlit as st

st.title("pathways")
st.info("Under construction.")
