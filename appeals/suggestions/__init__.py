"""Routing suggestions learned from the register (issue 30): the model trained on this
deployment's own routed and imported appeals, its versions in the default storage, its
measured accuracy, and the agencies and topic it suggests for an appeal's text."""
