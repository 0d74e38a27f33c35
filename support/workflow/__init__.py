"""The agents' workflow: assignment, triage, expected reply time, signals, canned replies, CSAT and reports."""
