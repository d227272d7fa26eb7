"""The framework examples in examples/, run for real against real servers."""
