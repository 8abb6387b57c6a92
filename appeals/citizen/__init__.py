"""What a citizen does with an appeal after filing it: adds to it, withdraws it."""
