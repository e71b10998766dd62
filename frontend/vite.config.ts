/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

// In `npm run dev` there is no generated config.json next to index.html, so the dev server
// answers it from CHORUS_API_URL (default: a local API on port 8000).
function devConfigJson(): Plugin {
  return {
    name: 'chorus-dev-config-json',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use('/config.json', (_req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ apiBaseUrl: process.env.CHORUS_API_URL ?? 'http://127.0.0.1:8000' }));
      });
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [react(), tailwindcss(), devConfigJson()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    testTimeout: 20_000,
  },
});
