/// <reference types="vitest/config" />
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// The gateway's API documentation pages (/docs: Swagger UI, /redoc: ReDoc) run on these files,
// vendored from their npm packages into dist/api-docs/ at build time: no CDN, served offline.
const API_DOCS_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'swagger-ui-dist/swagger-ui.css',
  'swagger-ui-bundle.js': 'swagger-ui-dist/swagger-ui-bundle.js',
  'redoc.standalone.js': 'redoc/bundles/redoc.standalone.js',
};

function apiDocsAssets(): Plugin {
  const require = createRequire(import.meta.url);
  let outDir = 'dist';
  return {
    name: 'ascep-api-docs-assets',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const target = join(outDir, 'api-docs');
      mkdirSync(target, { recursive: true });
      for (const [name, source] of Object.entries(API_DOCS_ASSETS)) {
        const packageDir = dirname(require.resolve(`${source.split('/')[0]}/package.json`));
        copyFileSync(join(packageDir, source.split('/').slice(1).join('/')), join(target, name));
      }
    },
  };
}

// The dev server forwards API calls and Socket.IO to the gateway, so the app always talks to one
// origin (the same as in production, where the gateway serves the built files itself).
const gateway = process.env.ASCEP_GATEWAY_URL ?? 'http://127.0.0.1:5000';

export default defineConfig({
  plugins: [react(), apiDocsAssets()],
  server: {
    port: 5173,
    proxy: {
      '/api': { target: gateway, changeOrigin: true },
      '/socket.io': { target: gateway, changeOrigin: true, ws: true },
    },
  },
  build: {
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 300,
    reportCompressedSize: true,
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
});
