"""Text analysis: words, stems, compounds, language, sentences."""
