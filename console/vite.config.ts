import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The operator console: built into dist/console, served by the service at `/` (src/console/console-assets.ts).
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [preact()],
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    // No inline scripts or data: URLs, so a strict Content-Security-Policy (default-src 'self') holds.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
