"""Grading on submit: a hub service grades each new submission in the exchange's inbound folder and releases
its feedback to the student who made it (docs/hub.md, "Feedback on submit").

inbound  which entries of the inbound folder are submissions, and which must be refused unread
queue    the service's own SQLite ledger: every submission once, in order, through a restart
policy   the instructor's settings in nbgrader_config.py: hourly limit, size limit, hidden tests
grader   one round: collect the ready submissions, grade them on the course's engine, release feedback
"""
