import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Same plugins and output settings as vite.config.ts, another entry: a minimal React app.
export default defineConfig({
  root: "bench/baseline",
  plugins: [react()],
  build: { outDir: "../../dist-baseline", emptyOutDir: true, sourcemap: false },
  logLevel: "warn",
});
