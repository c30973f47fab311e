"""A turn, as the gateway sees it: admitted (or refused) in one place, queued, relayed, settled.

`admission` checks and takes, in one Redis script, everything a turn needs before it is queued (a
stream slot, one of today's messages, the thread's turn lock, with a live worker and room in the
queue); a refused turn took nothing, and `refusals` decides how each refusal is answered.
`streams` queues an admitted turn, relays its events (`relay`) and settles how its stream ended,
in one place; `resume` re-joins a turn's stream with `Last-Event-ID`; `cancelling` cancels a turn
for its author; `stream_slots` bounds the streams a user holds; `notifier` hands each relay what
its turn's worker publishes; `error_events` builds every event the gateway writes into a stream.
See docs/turns.md.
"""
