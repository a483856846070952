// `npm start` runs this first (prestart): builds the console when web/dist is missing or older than its sources,
// so `npm install && npm start` works on a fresh clone and a pull with console changes rebuilds once.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('.', import.meta.url));
const newest = (p) => {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((f) => newest(join(p, f))));
};
const built = join(web, 'dist', 'index.html');
const sources = ['src', 'index.html', 'vite.config.ts', join('..', 'schemas', 'api')].map((p) => newest(join(web, p)));
if (!existsSync(built) || statSync(built).mtimeMs < Math.max(...sources)) {
  process.stdout.write('building the web console (web/dist)…\n');
  execFileSync(process.execPath, [join(web, '..', 'node_modules', 'vite', 'bin', 'vite.js'), 'build', web], { stdio: 'inherit' });
}
