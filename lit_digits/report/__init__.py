"""Pictures of a run (curves, learning rates, mistakes, confusion) and of a recipe's schedule."""
