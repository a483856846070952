import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Keeps the first seam of issue 13: repositories own all SQL. The SQL dialect (drizzle, better-sqlite3, raw SQL)
 * lives only in `server/src/db/` and `*.repo.ts`, and every table has exactly one repository that writes it, so
 * moving to async repositories over PostgreSQL changes those files and nothing else.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'server/src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const files = sources(SRC).map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }));
const isDbLayer = (path: string) => path.startsWith('server/src/db/') || path.endsWith('.repo.ts');
const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** What only the database layer may say. Chains may span lines (`this.db\n  .insert(…)`), hence `\s*`. */
const DB_CALLS: [string, RegExp][] = [
  ['imports the ORM or the driver', /from\s+['"](drizzle-orm[^'"]*|better-sqlite3)['"]/g],
  ['imports the schema', /from\s+['"][^'"]*\/db\/schema(\.ts)?['"]/g],
  ['runs a query on the database', /\b(db|tx)\s*\.\s*(select|selectDistinct|insert|update|delete|transaction|run|all|get|values|query|batch)\s*\(/g],
  ['uses the driver', /\$client\s*\.\s*(prepare|exec|transaction|pragma)\s*\(/g],
  ['builds SQL', /\bsql\s*(<[^>]*>)?\s*`/g],
  ['holds raw SQL', /['"`]\s*(select\s[^'"`]*\bfrom|insert\s+(or\s+\w+\s+)?into|update\s+\w+\s+set|delete\s+from)\s/gi],
];

describe('the database layer', () => {
  it('keeps every query in db/ and *.repo.ts', () => {
    const found: string[] = [];
    for (const f of files) {
      if (isDbLayer(f.path)) continue;
      for (const [what, re] of DB_CALLS) {
        for (const m of f.text.matchAll(re)) found.push(`${f.path}:${lineOf(f.text, m.index)} ${what}: ${m[0].trim()}`);
      }
    }
    expect(found, 'move these into the repository of their table').toEqual([]);
  });

  it('begins transactions only in the database layer (services through db/tx.ts)', () => {
    const found: string[] = [];
    for (const f of files) {
      if (isDbLayer(f.path)) continue;
      for (const m of f.text.matchAll(/(\bdb|\btx|\$client)\s*\.\s*transaction\s*\(/g)) found.push(`${f.path}:${lineOf(f.text, m.index)}`);
    }
    expect(found, 'use inTransaction() from db/tx.ts').toEqual([]);
  });

  // Repositories build queries and await them through `db.run`, so the same code runs on SQLite and PostgreSQL:
  // better-sqlite3's synchronous terminals and its driver are SQLite's alone (prepared statements go through
  // `db.sqlite`, with a query-builder twin for PostgreSQL).
  it('keeps repositories free of SQLite-only calls', () => {
    const found: string[] = [];
    // An MBTiles map is a SQLite file by its format (the operator's, read-only), not the server's database.
    for (const f of files.filter((x) => x.path.endsWith('.repo.ts') && x.path !== 'server/src/map/mbtiles.repo.ts')) {
      for (const m of f.text.matchAll(/\.\s*(all|get|run)\s*\(\s*\)|\$client|from\s+['"]better-sqlite3['"]|\bimport\s+\{[^}]*\}\s+from\s+['"][^'"]*\/db\/schema(\.ts)?['"]/g)) {
        if (/^import type/.test(f.text.slice(f.text.lastIndexOf('\n', m.index) + 1, m.index + 11))) continue;
        found.push(`${f.path}:${lineOf(f.text, m.index)} ${m[0].trim()}`);
      }
    }
    expect(found, 'await the builder through db.run; tables from db.t; import the schema for types only').toEqual([]);
  });

  it('gives services repositories, not the database', () => {
    const found = files.filter((f) => f.path.endsWith('.service.ts') && /from\s+['"][^'"]*\/db\/client(\.ts)?['"]/.test(f.text)).map((f) => f.path);
    expect(found, 'construct the repositories in services.ts and pass them in').toEqual([]);
  });

  // Tables in the schema that nothing writes yet (reserved for group publishing); each must stay unwritten to stay here.
  const UNWRITTEN = ['groups', 'group_members'];

  it('writes each table from exactly one repository', () => {
    const schema = readFileSync(join(SRC, 'db/schema.ts'), 'utf8');
    const tables = new Map([...schema.matchAll(/export const (\w+) = sqliteTable\(\s*'(\w+)'/g)].map((m) => [m[1], m[2]]));
    expect(tables.size).toBeGreaterThan(20);
    const writers = new Map<string, Set<string>>([...tables.values()].map((t) => [t, new Set<string>()]));
    for (const f of files) {
      if (f.path.startsWith('server/src/db/')) continue;
      // The query builder: `.insert(table)`, `.update(table)`, `.delete(table)`.
      for (const m of f.text.matchAll(/\.\s*(insert|update|delete)\s*\(\s*(\w+)\s*\)/g)) {
        const table = tables.get(m[2]);
        if (table) writers.get(table)!.add(f.path);
      }
      // Raw SQL in prepared statements.
      for (const m of f.text.matchAll(/\b(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from)\s+(\w+)\b/gi)) {
        if (writers.has(m[1])) writers.get(m[1])!.add(f.path);
      }
    }
    const wrong: string[] = [];
    for (const [table, by] of writers) {
      const expected = UNWRITTEN.includes(table) ? 0 : 1;
      const repos = [...by].filter((p) => p.endsWith('.repo.ts'));
      if (by.size !== expected || repos.length !== expected) wrong.push(`${table}: written by ${by.size ? [...by].join(', ') : 'nothing'}`);
    }
    expect(wrong, 'each table needs exactly one owning *.repo.ts; others go through it').toEqual([]);
  });
});
