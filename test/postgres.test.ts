import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { and, eq, sql } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { LOCK_MIGRATIONS, LOCK_NAMESPACE, openPostgres, pingPostgres, type Postgres } from '../server/src/db/postgres.ts';
import * as schema from '../server/src/db/schema.pg.ts';
import { postgresAvailable, startPostgres, type PostgresServer } from './helpers/postgres.ts';

/**
 * PostgreSQL as the database (issue 13, LOA_DB_URL): the committed migrations build every table of schema.pg.ts,
 * values come back as the same JS types as on SQLite, and instances starting together migrate one at a time.
 */
const available = postgresAvailable();
if (!available) console.warn('test/postgres.test.ts skipped: no PostgreSQL under /usr/lib/postgresql/*/bin (apt-get install postgresql)');

const tables = (Object.values(schema) as unknown[]).filter((t): t is PgTable => t instanceof PgTable).map((t) => getTableConfig(t));
const journal = JSON.parse(readFileSync(new URL('../server/src/db/migrations-pg/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] };

let server: PostgresServer;
const opened: Postgres[] = [];
let n = 0;
/** A fresh database per test, so no test sees another's rows or migrations. */
const freshDb = () => server.createDatabase(`t${process.pid}_${++n}`);
const open = async (url: string) => {
  const p = await openPostgres(url);
  opened.push(p);
  return p;
};
const appliedMigrations = async (p: Postgres) => (await p.pool.query('select count(*)::int as n from drizzle.__drizzle_migrations')).rows[0].n as number;

describe.skipIf(!available)('on PostgreSQL', () => {
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await Promise.all(opened.map((p) => p.close().catch(() => {})));
    await server?.stop();
  });

  it('the migrations create every table, column and index of schema.pg.ts', async () => {
    const { pool } = await open(await freshDb());
    const got = (await pool.query(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`)).rows.map((r) => r.table_name);
    expect(got.sort()).toEqual(tables.map((t) => t.name).sort());
    const columns = (await pool.query(`select table_name, column_name, is_nullable from information_schema.columns where table_schema = 'public'`)).rows;
    for (const t of tables) {
      expect(
        columns.filter((c) => c.table_name === t.name).map((c) => [c.column_name, c.is_nullable === 'NO']).sort(),
        t.name,
      ).toEqual(t.columns.map((c) => [c.name, c.notNull]).sort());
    }
    const indexes = (await pool.query(`select indexname, indexdef from pg_indexes where schemaname = 'public'`)).rows;
    const names = new Set(indexes.map((i) => i.indexname));
    for (const t of tables) for (const i of t.indexes) expect(names, `${t.name}: ${i.config.name}`).toContain(i.config.name);
    expect(indexes.find((i) => i.indexname === 'telemetry_ts_brin')?.indexdef).toMatch(/USING brin \(ts\)/);
    expect(await appliedMigrations(opened[0])).toBe(journal.entries.length);
  });

  it('round-trips booleans, JSON, bigint ms timestamps and doubles as the JS values SQLite gives', async () => {
    const { db } = await open(await freshDb());
    const before = Date.now();
    const policy = { quietHours: { from: '22:00', to: '05:00' }, tz: 'Asia/Ho_Chi_Minh' };
    await db.insert(schema.areas).values({ id: 'dong-thanh', name: 'Đồng Thạnh', kind: 'commune', policy });
    const [area] = await db.select().from(schema.areas);
    expect(area.policy).toEqual(policy);
    // the column default, statement_timestamp() in ms, is a whole number near the client's clock
    expect(typeof area.createdAt).toBe('number');
    expect(Number.isInteger(area.createdAt)).toBe(true);
    expect(area.createdAt).toBeGreaterThanOrEqual(before - 5000);
    expect(area.createdAt).toBeLessThanOrEqual(Date.now() + 5000);

    await db.insert(schema.clusters).values({ id: 'c1', areaId: 'dong-thanh', name: 'Ấp 1', serial: 'SN-1', lat: 10.3601234, lon: 106.2789012 });
    const ts = 1_767_225_600_123; // 2026-01-01, past 2^31 many times over
    const telemetry = { mainsV: 228.5, batteryPct: 97, outputs: [{ index: 0, state: 'ok' }] };
    await db.insert(schema.clusterState).values({ clusterId: 'c1', online: true, lastSeen: ts, telemetry, telemetryAt: ts, malformedCount: 2 ** 40 });
    const [state] = await db.select().from(schema.clusterState).where(eq(schema.clusterState.clusterId, 'c1'));
    expect(state).toEqual({ clusterId: 'c1', online: true, lastSeen: ts, changedAt: null, birth: null, telemetry, telemetryAt: ts, faultCount: 0, malformedCount: 2 ** 40 });
    const [cluster] = await db.select({ lat: schema.clusters.lat, lon: schema.clusters.lon }).from(schema.clusters);
    expect(cluster).toEqual({ lat: 10.3601234, lon: 106.2789012 });

    await db.insert(schema.telemetry).values({ clusterId: 'c1', ts, mainsV: null, onBattery: true, batteryV: 12.6, batteryPct: 80.5, relayTripped: false, ampTempC: 41.25, rssiDbm: -71, volume: 70, faultyOutputs: 1 });
    const [row] = await db.select().from(schema.telemetry);
    expect(row).toMatchObject({ ts, mainsV: null, onBattery: true, relayTripped: false, batteryV: 12.6, volume: 70, clockOffsetMs: null });

    const item = { id: 'bc-1', startAt: ts, content: { url: '/c/1', sha256: 'ab'.repeat(32), size: 123_456 } };
    await db.insert(schema.manifestItems).values({ clusterId: 'c1', itemId: 'bc-1', broadcastId: 'bc-1', rev: 2 ** 33, item, expiresAt: ts + 48 * 3_600_000 });
    const [m] = await db.select().from(schema.manifestItems);
    expect(m).toEqual({ clusterId: 'c1', itemId: 'bc-1', broadcastId: 'bc-1', rev: 2 ** 33, removed: false, item, expiresAt: ts + 48 * 3_600_000 });

    // the identity key comes back as a number, as SQLite's autoincrement rowid does
    const [audit] = await db.insert(schema.auditLog).values({ at: ts, actorName: 'admin', action: 'area.create', details: { id: 'dong-thanh' } }).returning();
    expect(audit).toMatchObject({ id: 1, at: ts, details: { id: 'dong-thanh' } });
  });

  it('reads int8 and numeric from raw SQL as numbers, in and out of transactions, without touching pg globally', async () => {
    const { db, pool } = await open(await freshDb());
    const q = sql`select count(*) as n, 1767225600123::int8 as big, sum(x)::numeric as s, avg(x) as a from (values (1), (2)) v(x)`;
    const expected = { n: 1 * 2, big: 1_767_225_600_123, s: 3, a: 1.5 };
    expect((await db.execute(q)).rows[0]).toEqual(expected);
    expect(await db.transaction(async (tx) => (await tx.execute(q)).rows[0])).toEqual(expected);
    expect((await pool.query('select 9007199254740991::int8 as max')).rows[0].max).toBe(Number.MAX_SAFE_INTEGER);
    // past 2^53 a double would round: the query fails instead of answering a wrong number
    const err = await db.execute(sql`select 9007199254740993::int8 as x`).then(() => null, (e: Error) => e);
    expect(String((err?.cause as Error | undefined)?.message)).toMatch(/9007199254740993 is beyond Number.MAX_SAFE_INTEGER/);
    expect(pg.types.getTypeParser(20, 'text')('5')).toBe('5');
    await pingPostgres(db);
  });

  it('enforces the foreign keys (cascade, restrict) and the one-open-alarm partial unique index', async () => {
    const { db } = await open(await freshDb());
    await db.insert(schema.areas).values({ id: 'a', name: 'A', kind: 'commune' });
    await db.insert(schema.clusters).values({ id: 'c1', areaId: 'a', name: 'C1', serial: 'S1' });
    await db.insert(schema.clusterState).values({ clusterId: 'c1' });
    await expect(db.delete(schema.areas).where(eq(schema.areas.id, 'a'))).rejects.toThrow();
    const alarm = { clusterId: 'c1', type: 'mains-lost', severity: 'major', raisedAt: 1, lastAt: 1 };
    await db.insert(schema.alarms).values({ id: 'al1', ...alarm });
    await expect(db.insert(schema.alarms).values({ id: 'al2', ...alarm })).rejects.toThrow();
    await db.update(schema.alarms).set({ clearedAt: 2, ackedAt: 3 }).where(and(eq(schema.alarms.id, 'al1')));
    await db.insert(schema.alarms).values({ id: 'al2', ...alarm });
    await db.delete(schema.clusters).where(eq(schema.clusters.id, 'c1'));
    expect(await db.select().from(schema.clusterState)).toEqual([]);
    expect(await db.select().from(schema.alarms)).toEqual([]);
  });

  it('opens a database already migrated without applying anything again', async () => {
    const url = await freshDb();
    const first = await open(url);
    await first.db.insert(schema.jobs).values({ name: 'planner', dueAt: 1_767_225_600_000, intervalMs: 60_000 });
    await first.close();
    const second = await open(url);
    await pingPostgres(second.db);
    expect(await appliedMigrations(second)).toBe(journal.entries.length);
    expect(await second.db.select().from(schema.jobs)).toEqual([
      { name: 'planner', dueAt: 1_767_225_600_000, intervalMs: 60_000, attempts: 0, lastError: null, lastRunAt: null, lastOkAt: null, leaseUntil: null },
    ]);
  });

  it('two instances starting together on a fresh database both open it, migrated once', async () => {
    const url = await freshDb();
    const [a, b] = await Promise.all([open(url), open(url)]);
    await Promise.all([pingPostgres(a.db), pingPostgres(b.db)]);
    expect(await appliedMigrations(a)).toBe(journal.entries.length);
  });

  it('waits for the migration lock another instance holds', async () => {
    const url = await freshDb();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, LOCK_MIGRATIONS]);
      let done = false;
      const opening = open(url).then((p) => ((done = true), p));
      await new Promise((r) => setTimeout(r, 500));
      expect(done).toBe(false);
      await holder.query('select pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, LOCK_MIGRATIONS]);
      const p = await opening;
      expect(await appliedMigrations(p)).toBe(journal.entries.length);
    } finally {
      await holder.end();
    }
  });
});
