import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb } from '../server/src/db/client.ts';
import { SqliteDb } from '../server/src/db/sqlite.ts';
import Database from 'better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';

/**
 * SQLite's one connection under async repositories (server/src/db/sqlite.ts): a transaction spans awaits, so what
 * runs beside it must neither join it nor see it half done.
 */
function db() {
  return createDb(':memory:');
}

const area = (id: string) => ({ id, name: id, kind: 'commune' as const });

async function names(d: ReturnType<typeof db>): Promise<string[]> {
  const { areas } = d.t;
  return (await d.run(undefined, (q) => q.select({ id: areas.id }).from(areas))).map((r) => r.id).sort();
}

describe('SQLite transactions over awaits', () => {
  it('commits together, or rolls back together when the callback throws', async () => {
    const d = db();
    const { areas } = d.t;
    await d.transaction(async (tx) => {
      await d.run(tx, (q) => q.insert(areas).values(area('a')));
      await d.run(tx, (q) => q.insert(areas).values(area('b')));
    });
    await expect(
      d.transaction(async (tx) => {
        await d.run(tx, (q) => q.insert(areas).values(area('c')));
        throw new Error('cut short');
      }),
    ).rejects.toThrow('cut short');
    expect(await names(d)).toEqual(['a', 'b']);
  });

  it('a write made beside an open transaction waits for it, and survives its rollback', async () => {
    const d = db();
    const { areas } = d.t;
    let inside!: () => void;
    const paused = new Promise<void>((r) => (inside = r));
    let resume!: () => void;
    const gate = new Promise<void>((r) => (resume = r));
    const tx = d.transaction(async (t) => {
      await d.run(t, (q) => q.insert(areas).values(area('in-tx')));
      inside();
      await gate; // the transaction is open across this await
      throw new Error('rolled back');
    });
    await paused;
    let besideDone = false;
    const beside = d.run(undefined, (q) => q.insert(areas).values(area('beside'))).then(() => (besideDone = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(besideDone).toBe(false); // it did not run inside the open transaction
    resume();
    await expect(tx).rejects.toThrow('rolled back');
    await beside;
    expect(await names(d)).toEqual(['beside']);
  });

  it('a read beside an open transaction does not see its uncommitted rows', async () => {
    const d = db();
    const { areas } = d.t;
    let resume!: () => void;
    const gate = new Promise<void>((r) => (resume = r));
    let wrote!: () => void;
    const written = new Promise<void>((r) => (wrote = r));
    const tx = d.transaction(async (t) => {
      await d.run(t, (q) => q.insert(areas).values(area('pending')));
      wrote();
      await gate;
    });
    await written;
    const read = names(d);
    resume();
    await tx;
    expect(await read).toEqual(['pending']); // read after the commit, not in the middle
  });

  it('runs concurrent transactions one after another, even when several were waiting for the same one', async () => {
    const d = db();
    const { areas } = d.t;
    const order: string[] = [];
    let resume!: () => void;
    const gate = new Promise<void>((r) => (resume = r));
    const first = d.transaction(async (t) => {
      order.push('first:begin');
      await gate;
      await d.run(t, (q) => q.insert(areas).values(area('first')));
      order.push('first:end');
    });
    const waiters = ['x', 'y', 'z'].map((id) =>
      d.transaction(async (t) => {
        order.push(`${id}:begin`);
        await new Promise((r) => setTimeout(r, 5)); // gives the others every chance to barge in
        await d.run(t, (q) => q.insert(areas).values(area(id)));
        order.push(`${id}:end`);
      }),
    );
    resume();
    await Promise.all([first, ...waiters]);
    // each begin is followed by its own end: no two were open at once
    for (let i = 0; i < order.length; i += 2) expect(order[i + 1]).toBe(order[i].replace(':begin', ':end'));
    expect(await names(d)).toEqual(['first', 'x', 'y', 'z']);
  });

  it('a nested transaction is a savepoint: its failure undoes only its own writes', async () => {
    const d = db();
    const { areas } = d.t;
    await d.transaction(async (tx) => {
      await d.run(tx, (q) => q.insert(areas).values(area('outer')));
      await expect(
        d.transaction(async (inner) => {
          await d.run(inner, (q) => q.insert(areas).values(area('inner')));
          throw new Error('inner failed');
        }, tx),
      ).rejects.toThrow('inner failed');
      await d.run(tx, (q) => q.update(areas).set({ name: 'kept' }).where(eq(areas.id, 'outer')));
    });
    expect(await names(d)).toEqual(['outer']);
  });

  it('warns when a transaction holds the connection while a query waits on it (a query not given its transaction)', async () => {
    const warnings: string[] = [];
    const sqlite = new Database(':memory:');
    migrate(new SqliteDb(sqlite).q, { migrationsFolder: fileURLToPath(new URL('../server/src/db/migrations', import.meta.url)) });
    const d = new SqliteDb(sqlite, (m) => warnings.push(m), 50);
    const { areas } = d.t;
    await expect(
      d.transaction(async () => {
        // the mistake: a query inside the callback without its tx waits for the transaction that waits for it
        const stuck = d.run(undefined, (q) => q.select().from(areas));
        await Promise.race([stuck, new Promise((r) => setTimeout(r, 200))]);
        throw new Error('gave up');
      }),
    ).rejects.toThrow('gave up');
    expect(warnings.join('\n')).toMatch(/held the connection/);
  });

  it('a query that throws rejects its promise and leaves the connection usable', async () => {
    const d = db();
    const { areas } = d.t;
    await d.run(undefined, (q) => q.insert(areas).values(area('a')));
    await expect(d.run(undefined, (q) => q.insert(areas).values(area('a')))).rejects.toThrow(/UNIQUE/);
    await expect(d.transaction(async (tx) => d.run(tx, (q) => q.insert(areas).values(area('a'))))).rejects.toThrow(/UNIQUE/);
    expect(d.sqlite.inTransaction).toBe(false);
    await d.run(undefined, (q) => q.insert(areas).values(area('b')));
    expect(await names(d)).toEqual(['a', 'b']);
  });
});
