"""The web faces of Styrdok: the intranet JSON API and the Gradio chat UI."""

import os

# Gradio reads this when it is imported: no usage reporting from an intranet server.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
