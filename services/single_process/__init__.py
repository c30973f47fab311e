"""The single-process baseline: chatkit's server and the agent in one process, no queue.

The shape of OpenAI's own ChatKit samples, kept to measure the split against (`make bench`). It is
not a deployment option: it cannot scale out, and a process that dies takes its turns with it.
"""
