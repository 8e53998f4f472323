"""Score: match weights and probabilities of compared pairs, wide or narrow."""
