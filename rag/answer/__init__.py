"""Answering: evidence, answerability and the extractive answer."""
