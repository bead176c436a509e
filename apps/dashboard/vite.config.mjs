// @ts-check
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The dashboard, built into dist/dashboard, which the monitor serves at `/`. */
export default defineConfig({
  root,
  base: '/',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // no inline <script> for the CSP: the modulepreload polyfill is not needed by our browsers
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    chunkSizeWarningLimit: 700,
  },
  // `npm run dev:dashboard` against a service started with `npm start`
  server: {
    proxy: { '/v1': 'http://127.0.0.1:3000' },
  },
});
