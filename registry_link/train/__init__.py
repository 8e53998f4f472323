"""Train: estimate the model's m and u probabilities (EM over agreement patterns, pair-free u)."""
