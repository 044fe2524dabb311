"""One config and one command per experiment: train, benchmark, plot (arrive with later issues)."""
