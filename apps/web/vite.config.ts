import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const here = import.meta.dirname;
// `pnpm --filter @chat/web dev` passes these through so the page, REST and sockets share one origin.
const api = process.env['CHAT_API'] ?? 'http://localhost:8081';
const gateway = process.env['CHAT_GATEWAY'] ?? 'http://localhost:8080';

// Relative base: the same files work at `/`, under `/chat/` or behind any prefix a gateway mounts them at.
export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: {
    proxy: {
      '/api': api,
      '/openapi.json': api,
      '/dev': gateway,
      '/ws': { target: gateway, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: {
      input: { main: resolve(here, 'index.html'), chat: resolve(here, 'chat/index.html') },
    },
  },
});
