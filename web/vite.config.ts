import { fileURLToPath } from "node:url";

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The fetch wrapper is one file, shared with the gateway's development page (which serves it
// without a build step), so it lives in the Python package and is bundled from there.
const turnFetch = fileURLToPath(
  new URL("../services/gateway/dev_page/static/turn-fetch.js", import.meta.url),
);

export default defineConfig({
  plugins: [react()],
  resolve: { alias: { "@taskchat/turn-fetch": turnFetch } },
  server: { fs: { allow: [".", turnFetch] } },
});
