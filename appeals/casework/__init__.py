"""Work on a registered appeal: routing to the competent agency, assignments, co-
executors' input, answers and their letters, ratings, re-review, mass appeals, the
inbox's counts."""
