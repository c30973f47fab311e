"""A turn, as the gateway sees it: admitted (or refused) in one place, queued, relayed.

`admission` takes everything a turn needs before it is queued (a stream slot, one of today's
messages, the thread's turn lock) after checking the gateway is not draining and a worker is alive
and the queue has room, in one Redis script; a refused turn took nothing. `streams` queues an
admitted turn and relays its events (`relay`), and settles how it ended in one place; `resume`
re-joins a turn's stream with `Last-Event-ID`; `notifier` hands each relay what its turn's worker
publishes; `error_events` builds every error event the gateway sends, with its message.
"""
