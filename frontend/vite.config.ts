/// <reference types="vitest/config" />
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

// ReDoc's sidebar shows a logo it loads from its CDN; vendored, the URL becomes an empty inline
// image (the page's CSP would block the CDN anyway). The build fails if the bundle changes so
// much that the rewrite no longer applies, so an upgrade cannot bring the external load back.
const REWRITES: Record<string, [string, string][]> = {
  'redoc.standalone.js': [
    ['https://cdn.redoc.ly/redoc/logo-mini.svg', 'data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E'],
  ],
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
        const from = join(packageDir, source.split('/').slice(1).join('/'));
        const rewrites = REWRITES[name] ?? [];
        if (rewrites.length === 0) {
          copyFileSync(from, join(target, name));
          continue;
        }
        let text = readFileSync(from, 'utf8');
        for (const [search, replacement] of rewrites) {
          if (!text.includes(search)) throw new Error(`${source}: '${search}' not found; review the rewrite`);
          text = text.split(search).join(replacement);
        }
        writeFileSync(join(target, name), text);
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
