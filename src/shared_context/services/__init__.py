"""Use cases, each implemented once; every transport calls these."""
