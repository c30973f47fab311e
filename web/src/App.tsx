import { TaskChat } from "./TaskChat";

/** The gateway as the browser reaches it; same site as this app (see docs/frontend.md). */
const GATEWAY_URL: string = import.meta.env.VITE_TASKCHAT_URL ?? "http://127.0.0.1:8000";

export function App() {
  return (
    <TaskChat
      gatewayUrl={GATEWAY_URL}
      domainKey={import.meta.env.VITE_CHATKIT_DOMAIN_KEY ?? "local-dev"}
    />
  );
}
