"""Decide: match / review / non-match for each partner record, and the review queue."""
