import { ChatKit, useChatKit, type Entity, type Widgets } from "@openai/chatkit-react";
import { createTurnFetch } from "@taskchat/turn-fetch";
import { useMemo } from "react";

export type TaskChatProps = {
  /** The gateway as the browser reaches it, e.g. "https://api.example.com". */
  gatewayUrl: string;
  /** The domain key registered for this site with OpenAI ("local-dev" on localhost). */
  domainKey: string;
  className?: string;
};

/** A task as `GET /api/tasks/search` answers it. */
type FoundTask = {
  id: number;
  title: string;
  description: string | null;
  completed: boolean;
  due_date: string | null;
  priority: string | null;
};

const TASK_GROUP = "Tasks";

/** The session cookie goes with every request (`credentials: "include"`), including to a
 * gateway on another origin of the same site; it is httpOnly, so this code never sees it. */
async function searchTasks(gatewayUrl: string, query: string): Promise<FoundTask[]> {
  const url = new URL("/api/tasks/search", gatewayUrl);
  url.searchParams.set("q", query);
  const response = await fetch(url, { credentials: "include" });
  if (!response.ok) return [];
  const body = (await response.json()) as { tasks: FoundTask[] };
  return body.tasks;
}

/** An entity for the composer's @-mention list; the agent resolves `data.task_id` again, for
 * this user only, when the message is sent. */
function taskEntity(task: FoundTask): Entity {
  return {
    id: String(task.id),
    title: task.title,
    group: TASK_GROUP,
    interactive: true,
    icon: task.completed ? "check-circle-filled" : "check-circle",
    data: {
      task_id: String(task.id),
      status: task.completed ? "completed" : "pending",
      due_date: task.due_date ?? "",
      priority: task.priority ?? "",
      description: task.description ?? "",
    },
  };
}

/** What clicking a tagged task shows. */
function taskPreview(entity: Entity): Widgets.BasicRoot {
  const data = entity.data ?? {};
  const details = [
    data.status ? `Status: ${data.status}` : "",
    data.due_date ? `Due: ${data.due_date}` : "",
    data.priority ? `Priority: ${data.priority}` : "",
  ].filter(Boolean);
  return {
    type: "Basic",
    gap: 2,
    children: [
      { type: "Title", value: entity.title, size: "sm" },
      ...(data.description ? [{ type: "Text" as const, value: data.description }] : []),
      ...details.map((line) => ({ type: "Caption" as const, value: line })),
    ],
  };
}

export function TaskChat({ gatewayUrl, domainKey, className }: TaskChatProps) {
  // Stop cancels the turn on the server; a dropped connection re-joins it (turn-fetch.js).
  const turnFetch = useMemo(() => createTurnFetch(), []);
  const { control } = useChatKit({
    api: {
      url: new URL("/chatkit", gatewayUrl).toString(),
      domainKey,
      fetch: turnFetch,
      // Image attachments use the gateway's two-phase upload (POST /attachments/{id}/upload).
      uploadStrategy: { type: "two_phase" },
    },
    theme: {
      colorScheme: "light",
      radius: "round",
      density: "normal",
      color: { accent: { primary: "#2563eb", level: 2 }, grayscale: { hue: 220, tint: 6 } },
      typography: { baseSize: 15 },
    },
    startScreen: {
      greeting: "What needs doing?",
      prompts: [
        { label: "Add a task", prompt: "Add a task: buy milk" },
        { label: "My tasks", prompt: "List my tasks" },
      ],
    },
    composer: { placeholder: "Add, list, complete or delete tasks... (@ to mention one)" },
    entities: {
      onTagSearch: async (query) => (await searchTasks(gatewayUrl, query)).map(taskEntity),
      showComposerMenu: true,
      onRequestPreview: async (entity) => ({ preview: taskPreview(entity) }),
    },
    onError: ({ error }) => console.error("TaskChat:", error),
  });
  return <ChatKit control={control} className={className ?? "h-[640px] w-[420px]"} />;
}
