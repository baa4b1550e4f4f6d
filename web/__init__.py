"""The web faces of Styrdok: the intranet JSON API and the Gradio chat UI."""

import os

# Gradio reads this when it is imported: no usage reporting from an intranet server.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
# Its queue would otherwise rebuild a pandas table of up to 10 000 past events after every
# event, for a monitoring page Styrdok does not serve (and with calls pandas 3 deprecates,
# which as errors in the queue's worker aborted a streaming event). Read when a queue is made.
os.environ["GRADIO_ANALYTICS_CACHE_FREQUENCY"] = str(10**9)
