// @ts-check
/**
 * A small ChatKit client of our own, for when ChatKit.js cannot load (it is served only from
 * OpenAI's CDN: air-gapped sites, CI). It speaks the same protocol to the same endpoint through
 * the same fetch wrapper (turn-fetch.js): a thread list, streamed answers, tool activity
 * (workflows and progress updates), the task widget's buttons, and stop.
 */

/**
 * @typedef {{ [key: string]: any }} Json
 * @typedef {{ apiUrl: string, fetch: typeof fetch }} FallbackOptions
 */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attributes]
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/**
 * The SSE events in `text`, and what is left of an event not yet complete.
 * @param {string} text
 * @returns {[Json[], string]}
 */
function parseEvents(text) {
  const frames = text.split(/\r?\n\r?\n/);
  const rest = frames.pop() ?? "";
  /** @type {Json[]} */
  const events = [];
  for (const frame of frames) {
    const data = frame
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).trimStart())
      .join("\n");
    if (data) events.push(JSON.parse(data));
  }
  return [events, rest];
}

/**
 * @param {HTMLElement} root
 * @param {FallbackOptions} options
 */
export function mountFallback(root, options) {
  const threadList = h("ul", { id: "threads" });
  const newThread = h("button", { id: "new-thread", type: "button" }, ["New chat"]);
  const messages = h("div", { id: "messages", "aria-live": "polite" });
  const progress = h("p", { id: "progress" });
  const composer = h("textarea", { id: "composer", rows: "2", placeholder: "Add, list, complete or delete tasks..." });
  const send = h("button", { id: "send", type: "submit" }, ["Send"]);
  const stop = h("button", { id: "stop", type: "button", disabled: "" }, ["Stop"]);
  const status = h("p", { id: "status" });
  const form = h("form", { id: "composer-form" }, [composer, send, stop]);
  root.replaceChildren(
    h("div", { class: "fallback" }, [
      h("nav", {}, [newThread, threadList]),
      h("main", {}, [messages, progress, status, form]),
    ]),
  );

  /** @type {string | null} */
  let threadId = null;
  /** @type {AbortController | null} */
  let running = null;
  /** @type {Map<string, Json>} */
  const items = new Map();

  /**
   * @param {Json} request
   * @param {AbortSignal} [signal]
   */
  async function post(request, signal) {
    const response = await options.fetch(options.apiUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request),
      signal,
    });
    if (!response.ok) {
      const detail = await response.json().then((b) => b.detail, () => response.statusText);
      throw new Error(`${response.status}: ${detail}`);
    }
    return response;
  }

  async function refreshThreads() {
    const page = await (await post({ type: "threads.list", params: { limit: 20, order: "desc" } })).json();
    threadList.replaceChildren(
      ...page.data.map((/** @type {Json} */ thread) => {
        const open = h("button", { type: "button", "data-thread-id": thread.id }, [thread.title ?? "(untitled)"]);
        open.onclick = () => void openThread(thread.id);
        return h("li", thread.id === threadId ? { class: "current" } : {}, [open]);
      }),
    );
  }

  /** @param {string} id */
  async function openThread(id) {
    const thread = await (await post({ type: "threads.get_by_id", params: { thread_id: id } })).json();
    threadId = id;
    items.clear();
    messages.replaceChildren();
    for (const item of thread.items.data) render(item);
    await refreshThreads();
  }

  /**
   * A widget's component tree: its text, and a button for each action.
   * @param {Json} node
   * @param {string} itemId
   * @returns {Node}
   */
  function widgetNode(node, itemId) {
    if (node.type === "Button") {
      const button = h("button", { type: "button", class: "widget-button" }, [node.label ?? "?"]);
      button.onclick = () => void pressed(node.onClickAction, itemId);
      return button;
    }
    const text = node.value ?? node.title ?? node.text;
    const children = Array.isArray(node.children) ? node.children.map((/** @type {Json} */ c) => widgetNode(c, itemId)) : [];
    return h("div", { class: `widget-${String(node.type).toLowerCase()}` }, typeof text === "string" ? [text, ...children] : children);
  }

  /** @param {Json} item */
  function render(item) {
    items.set(item.id, item);
    /** @type {HTMLElement | null} */
    let element = null;
    if (item.type === "user_message") {
      const text = item.content.map((/** @type {Json} */ p) => (p.type === "input_tag" ? `@${p.text}` : p.text)).join("");
      element = h("div", { class: "message user" }, [text]);
    } else if (item.type === "assistant_message") {
      element = h("div", { class: "message assistant" }, [item.content.map((/** @type {Json} */ p) => p.text).join("")]);
    } else if (item.type === "workflow") {
      const tasks = item.workflow.tasks.map((/** @type {Json} */ task) =>
        h("li", { class: `task ${task.status_indicator ?? ""}` }, [task.title ?? task.content ?? task.type]),
      );
      // A reasoning workflow holds the model's thought summaries: open while the model thinks,
      // collapsed once chatkit ends it (it sets a summary when the answer starts).
      const reasoning = item.workflow.type === "reasoning";
      const done = Boolean(item.workflow.summary);
      const label = reasoning ? (done ? "Thought about it" : "Thinking...") : done ? "Worked on it" : "Working...";
      const details = h("details", { class: reasoning ? "workflow reasoning" : "workflow" }, [
        h("summary", {}, [label]),
        h("ul", {}, tasks),
      ]);
      details.open = reasoning ? !done : item.workflow.expanded !== false;
      element = details;
    } else if (item.type === "widget") {
      element = h("div", { class: "widget" }, [widgetNode(item.widget, item.id)]);
    }
    const old = messages.querySelector(`[data-item-id="${CSS.escape(item.id)}"]`);
    if (element === null) return;
    element.dataset.itemId = item.id;
    if (old) old.replaceWith(element);
    else messages.append(element);
  }

  /** @param {Json} event */
  function handle(event) {
    switch (event.type) {
      case "thread.created":
        threadId = event.thread.id;
        break;
      case "thread.item.added":
      case "thread.item.done":
      case "thread.item.replaced":
        render(event.item);
        break;
      case "thread.item.updated": {
        const item = items.get(event.item_id);
        const update = event.update;
        if (!item) break;
        if (update.type === "assistant_message.content_part.added") item.content[update.content_index] = update.content;
        if (update.type === "assistant_message.content_part.text_delta") item.content[update.content_index].text += update.delta;
        if (update.type === "assistant_message.content_part.done") item.content[update.content_index] = update.content;
        if (update.type === "workflow.task.added" || update.type === "workflow.task.updated") item.workflow.tasks[update.task_index] = update.task;
        if (update.type === "widget.root.updated") item.widget = update.widget;
        render(item);
        break;
      }
      case "progress_update":
        progress.textContent = event.text;
        progress.dataset.last = event.text;  // kept after the turn: what the last tool did
        break;
      case "error":
        status.textContent = event.message ?? "Something went wrong.";
        break;
    }
  }

  /**
   * Send a streaming request and show its events as they arrive.
   * @param {Json} request
   */
  async function stream(request) {
    running = new AbortController();
    stop.disabled = false;
    send.disabled = true;
    status.textContent = "";
    try {
      const response = await post(request, running.signal);
      if (response.body === null) return;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffered = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const [events, rest] = parseEvents(buffered + decoder.decode(value, { stream: true }));
        buffered = rest;
        events.forEach(handle);
      }
    } catch (error) {
      status.textContent = running.signal.aborted ? "Stopped." : String(error);
    } finally {
      running = null;
      stop.disabled = true;
      send.disabled = false;
      progress.textContent = "";
      messages.dataset.idle = "true";
      await refreshThreads().catch(() => {});
    }
  }

  /**
   * @param {Json} action
   * @param {string} itemId
   */
  async function pressed(action, itemId) {
    if (threadId === null) return;
    const params = { thread_id: threadId, item_id: itemId, action: { type: action.type, payload: action.payload } };
    if (action.streaming === false) {
      const answer = await (await post({ type: "threads.sync_custom_action", params })).json();
      if (answer.updated_item) render(answer.updated_item);
    } else {
      await stream({ type: "threads.custom_action", params });
    }
  }

  form.onsubmit = (event) => {
    event.preventDefault();
    const text = composer.value.trim();
    if (!text || running) return;
    composer.value = "";
    messages.dataset.idle = "false";
    const input = { content: [{ type: "input_text", text }], attachments: [], inference_options: {} };
    void stream(
      threadId === null
        ? { type: "threads.create", params: { input } }
        : { type: "threads.add_user_message", params: { thread_id: threadId, input } },
    );
  };
  stop.onclick = () => running?.abort();
  newThread.onclick = () => {
    threadId = null;
    items.clear();
    messages.replaceChildren();
  };
  void refreshThreads().catch((error) => {
    status.textContent = String(error);
  });
}
