"""The case player, along its seams, all without page code except ``page.py``:

- ``progress``: a learner's progress through one case (session state): stages shown, submitted, restart;
- ``answers``: a stage form's widget keys and answers (each kind's view reads its own widgets);
- ``memo``: process-wide memos of stage plans, figures and scored answers, per case file version;
- ``results``: the running score, the end-of-case tables (with certainty) and the path on the flowchart;
- ``page``: the Streamlit sections the player page is made of (each can be run alone by AppTest).
"""
