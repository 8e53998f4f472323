"""Households: household context, the household second pass, and beneficiary households."""
