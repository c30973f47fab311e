// @ts-check
/**
 * A `fetch` for ChatKit that tells the user's stop from a dropped connection.
 *
 * ChatKit.js stops an answer by aborting its request; a phone changing networks drops it. The
 * server cannot tell the two apart, so this wrapper says which it was:
 *
 * - stop: the request's `AbortSignal` fires. The caller sees the abort at once, as with the
 *   browser's fetch; the wrapper then sends `POST /chatkit/turns/{turn id}/cancel` (the turn id
 *   comes from the `X-Turn-Id` response header, waited for if the stop came before it) and only
 *   then closes the connection.
 * - drop: reading the stream fails without an abort. The wrapper re-joins the same turn with
 *   `GET /chatkit/turns/{turn id}/events` and `Last-Event-ID` (the id of the last complete event
 *   it passed on) and stitches the rest into the same response. Only whole SSE events are passed on, and the
 *   server sends exactly the events after that id, so nothing is shown twice.
 *
 * Dictation (`input.transcribe`) goes to `/chatkit/transcribe`, the one route whose body limit
 * fits an audio clip. Other requests that are not streams (JSON answers) pass through untouched.
 * The same file is served
 * to the gateway's development page and bundled into the web package (web/src/TaskChat.tsx).
 */

/**
 * @typedef {object} TurnFetchOptions
 * @property {typeof fetch} [fetch] The underlying fetch (default: the global one).
 * @property {() => Record<string, string>} [headers] Extra headers for every request, e.g. a
 *   Bearer token; the session cookie goes along anyway (`credentials: "include"`).
 * @property {number} [maxRejoins] How many times one answer may re-join after drops (default 5).
 * @property {number} [rejoinDelayMs] Wait before the first re-join; doubles each time (default 250).
 * @property {number} [cancelTimeoutMs] How long a stop's cancel request may take before the
 *   wrapper gives up on it and closes the connection anyway, which the server takes for a dropped
 *   connection (default 10000).
 * @property {(event: TurnFetchEvent) => void} [onEvent] Told about stops and re-joins (for logs
 *   and tests).
 */

/**
 * @typedef {{ type: "stop", turnId: string, status: number }
 *   | { type: "rejoin", turnId: string, lastEventId: string, attempt: number }
 *   | { type: "rejoin_failed", turnId: string, reason: string }} TurnFetchEvent
 */

const EVENT_BOUNDARY = /\r?\n\r?\n/;

/**
 * The id of an SSE event (its `id:` line), or null.
 * @param {string} frame
 * @returns {string | null}
 */
function eventIdOf(frame) {
  for (const line of frame.split(/\r?\n/)) {
    if (line.startsWith("id:")) return line.slice(3).trim();
  }
  return null;
}

/**
 * @param {number} ms
 * @returns {Promise<void>}
 */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A turn's route (`cancel` or `events`), next to the ChatKit endpoint the request went to.
 * @param {string} requestUrl
 * @param {string} turnId
 * @param {"cancel" | "events"} route
 * @returns {string}
 */
export function turnUrl(requestUrl, turnId, route) {
  const url = new URL(requestUrl, globalThis.location?.href);
  // `/chatkit` and `/api/chatkit` are the same endpoint; a proxy's path prefix is kept.
  const base = url.pathname.replace(/\/(api\/)?chatkit\/?$/, "");
  url.pathname = `${base}/chatkit/turns/${turnId}/${route}`;
  url.search = "";
  return url.toString();
}

/**
 * Whether a ChatKit request body is dictation (`input.transcribe`), which has a route of its own.
 * @param {RequestInit | undefined} init
 * @returns {boolean}
 */
export function isTranscription(init) {
  const body = init?.body;
  if (typeof body !== "string" || !body.includes("input.transcribe")) return false;
  try {
    return JSON.parse(body)?.type === "input.transcribe";
  } catch {
    return false;
  }
}

/**
 * The dictation route next to the ChatKit endpoint the request went to.
 * @param {string} requestUrl
 * @returns {string}
 */
export function transcribeUrl(requestUrl) {
  const url = new URL(requestUrl, globalThis.location?.href);
  url.pathname = `${url.pathname.replace(/\/(api\/)?chatkit\/?$/, "")}/chatkit/transcribe`;
  url.search = "";
  return url.toString();
}

/**
 * @param {TurnFetchOptions} [options]
 * @returns {typeof fetch}
 */
export function createTurnFetch(options = {}) {
  const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const maxRejoins = options.maxRejoins ?? 5;
  const rejoinDelayMs = options.rejoinDelayMs ?? 250;
  const cancelTimeoutMs = options.cancelTimeoutMs ?? 10_000;
  const notify = options.onEvent ?? (() => {});

  /**
   * @param {RequestInit | undefined} init
   * @param {AbortSignal} signal
   * @param {Record<string, string>} [extra]
   * @returns {RequestInit}
   */
  function withAuth(init, signal, extra = {}) {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries({ ...(options.headers?.() ?? {}), ...extra })) {
      headers.set(name, value);
    }
    return { ...init, headers, signal, credentials: "include" };
  }

  /** @type {typeof fetch} */
  async function turnFetch(input, init) {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    // ChatKit.js may pass its AbortSignal in `init` or on a Request.
    const callerSignal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    if (isTranscription(init)) {
      const signal = callerSignal ?? new AbortController().signal;
      return baseFetch(transcribeUrl(url), withAuth(init, signal));
    }
    // The wrapper owns the connection: a stop must first send the cancel, then abort.
    const connection = new AbortController();
    /** @type {string | null} */
    let turnId = null;
    let stopped = false;
    /** @type {((reason: unknown) => void) | null} */
    let failBody = null;
    /** @type {(reason: unknown) => void} */
    let rejectStopped = () => {};
    /** @type {Promise<never>} */
    const stoppedBeforeAnswer = new Promise((_, reject) => {
      rejectStopped = reject;
    });
    stoppedBeforeAnswer.catch(() => {});
    if (callerSignal?.aborted) throw callerSignal.reason ?? new DOMException("Aborted", "AbortError");
    const answer = baseFetch(input, withAuth(init, connection.signal));

    const stop = async () => {
      if (stopped) return;
      stopped = true;
      // To the caller a stop is over at once, as with the browser's own fetch: the answer (or its
      // body, if it is being read) fails with the abort now. What follows is the wrapper's own
      // business, done in the background: the turn runs on until the server hears of the stop.
      const reason = callerSignal?.reason ?? new DOMException("Aborted", "AbortError");
      rejectStopped(reason);
      failBody?.(reason);
      // Stopped before the answer's headers came: the turn may already be queued, so wait for its
      // id rather than let it run to the end unseen.
      const id = turnId ?? (await answer.then((r) => r.headers.get("X-Turn-Id"), () => null));
      if (id !== null) {
        try {
          const cancelled = await baseFetch(
            turnUrl(url, id, "cancel"),
            withAuth({ method: "POST" }, AbortSignal.timeout(cancelTimeoutMs)),
          );
          notify({ type: "stop", turnId: id, status: cancelled.status });
        } catch {
          // The cancel could not be sent: the turn finishes on the server and a reload shows it.
        }
      }
      connection.abort(reason);
    };
    callerSignal?.addEventListener("abort", () => void stop(), { once: true });

    const first = await Promise.race([answer, stoppedBeforeAnswer]);
    turnId = first.headers.get("X-Turn-Id");
    const isStream = (first.headers.get("Content-Type") ?? "").startsWith("text/event-stream");
    if (!isStream || first.body === null || turnId === null) return first;
    const streamTurnId = turnId;

    const encoder = new TextEncoder();
    /** @type {string | null} */
    let lastEventId = null;
    /** @type {ReadableStreamDefaultReader<Uint8Array> | null} */
    let reader = first.body.getReader();
    let decoder = new TextDecoder();
    let pending = "";
    let rejoins = 0;

    /** @returns {Promise<boolean>} whether a re-joined stream is ready to read */
    const rejoin = async () => {
      while (rejoins < maxRejoins && !stopped) {
        rejoins += 1;
        await sleep(rejoinDelayMs * 2 ** (rejoins - 1));
        if (stopped) return false;
        const after = lastEventId ?? `${streamTurnId}:0`;
        notify({ type: "rejoin", turnId: streamTurnId, lastEventId: after, attempt: rejoins });
        try {
          // The turn's event stream, after the last event passed on (no request body needed).
          const again = await baseFetch(
            turnUrl(url, streamTurnId, "events"),
            withAuth({ method: "GET" }, connection.signal, { "Last-Event-ID": after }),
          );
          if (again.ok && again.body !== null) {
            reader = again.body.getReader();
            decoder = new TextDecoder();
            pending = "";  // a partial event from the lost connection is sent again whole
            return true;
          }
          notify({ type: "rejoin_failed", turnId: streamTurnId, reason: `HTTP ${again.status}` });
          // 404: expired or not ours. 429 (the old stream may still hold the user's slot until
          // the server notices it is gone) and 5xx are worth another try.
          if (again.status >= 400 && again.status < 500 && again.status !== 429) return false;
        } catch (error) {
          if (stopped) return false;
          notify({ type: "rejoin_failed", turnId: streamTurnId, reason: String(error) });
        }
      }
      return false;
    };

    const body = new ReadableStream({
      start(controller) {
        failBody = (reason) => controller.error(reason);
      },
      async pull(controller) {
        for (;;) {
          if (reader === null) {
            controller.close();
            return;
          }
          /** @type {ReadableStreamReadResult<Uint8Array>} */
          let chunk;
          try {
            chunk = await reader.read();
          } catch (error) {
            if (stopped || callerSignal?.aborted) {
              controller.error(callerSignal?.reason ?? error);
              return;
            }
            // The connection dropped, not the user: the turn runs on; pick it up again.
            if (await rejoin()) continue;
            controller.error(error);
            return;
          }
          if (stopped) return;  // the body already failed with the abort
          if (chunk.done) {
            controller.close();
            return;
          }
          pending += decoder.decode(chunk.value, { stream: true });
          const parts = pending.split(EVENT_BOUNDARY);
          pending = parts.pop() ?? "";
          if (parts.length === 0) continue;
          for (const frame of parts) {
            const id = eventIdOf(frame);
            if (id !== null) lastEventId = id;
          }
          controller.enqueue(encoder.encode(parts.map((frame) => frame + "\n\n").join("")));
          return;
        }
      },
      cancel() {
        void reader?.cancel().catch(() => {});
      },
    });
    return new Response(body, { status: first.status, statusText: first.statusText, headers: first.headers });
  }

  return turnFetch;
}
