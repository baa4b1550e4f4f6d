"""Evaluation suite: YAML cases, metrics, reports, a LangChain baseline and the CI gate."""
