import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

/** Writes .br and .gz beside each asset; the server sends them (preCompressed) to phones on a weak 4G link. */
function precompress(): Plugin {
  return {
    name: 'loa-precompress',
    apply: 'build',
    closeBundle() {
      const dir = fileURLToPath(new URL('./dist/assets/', import.meta.url));
      for (const f of readdirSync(dir)) {
        if (!/\.(js|css|svg)$/.test(f)) continue;
        const buf = readFileSync(join(dir, f));
        writeFileSync(join(dir, f + '.gz'), gzipSync(buf, { level: 9 }));
        writeFileSync(join(dir, f + '.br'), brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
      }
    },
  };
}

// Preact through the automatic JSX runtime; no framework plugin needed. Everything is bundled: no CDN, web font or
// run-time download.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [precompress()],
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2020', reportCompressedSize: true, chunkSizeWarningLimit: 200 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
