"""Generated answers through a language model, and their verification."""
