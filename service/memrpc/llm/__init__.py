"""The optional language model the background jobs use when the server is
given one (`--llm-url`): fact extraction, abstractive summaries and
contradiction checks. Without one, every job has a path that needs none."""
