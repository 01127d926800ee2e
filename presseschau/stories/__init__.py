"""Stories: articles about the same event from different outlets, grouped (rank 4: below publish)."""
