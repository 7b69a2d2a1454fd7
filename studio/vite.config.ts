import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The built app ships inside the Python package (osop/studio/static), served by
// `osop studio`; nothing is fetched from elsewhere at run time.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../osop/studio/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
    sourcemap: false,
  },
});
