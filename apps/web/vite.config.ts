import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const here = import.meta.dirname;

// Relative base: the same files work at `/`, under `/chat/` or behind any prefix a gateway mounts them at.
export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: {
      input: { main: resolve(here, 'index.html'), chat: resolve(here, 'chat/index.html') },
    },
  },
});
