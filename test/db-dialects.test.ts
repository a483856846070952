import { describe, expect, expectTypeOf, it } from 'vitest';
import { getTableConfig as pgConfig, PgDialect, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, SQLiteSyncDialect, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { SQL } from 'drizzle-orm';
import * as sqlite from '../server/src/db/schema.ts';
import * as pg from '../server/src/db/schema.pg.ts';

/**
 * schema.ts (SQLite) and schema.pg.ts (PostgreSQL, issue 13) describe one database: the code is typed against the
 * SQLite tables and runs on either, so a table, column, key or index added to one and not the other fails here.
 */

/** Indexes only PostgreSQL has, each with the reason it has no SQLite twin. */
const PG_ONLY_INDEXES: Record<string, string> = {
  // retention deletes by ts across all clusters; SQLite keeps doing that with a scan of its (cluster_id, ts) index
  telemetry_ts_brin: 'telemetry',
};

/**
 * Which PostgreSQL column types may stand for a SQLite one: the JS value must be the same (number, boolean,
 * string, parsed JSON), so the row types match at run time, not only at compile time.
 */
const TYPE_TWINS: Record<string, string[]> = {
  SQLiteText: ['PgText'],
  SQLiteTextJson: ['PgJsonb'],
  SQLiteBoolean: ['PgBoolean'],
  SQLiteInteger: ['PgInteger', 'PgBigInt53'],
  SQLiteReal: ['PgDoublePrecision'],
};

const sqliteTables = (Object.entries(sqlite) as [string, unknown][]).filter((e): e is [string, SQLiteTable] => e[1] instanceof SQLiteTable);
const pgTables = (Object.entries(pg) as [string, unknown][]).filter((e): e is [string, PgTable] => e[1] instanceof PgTable);

const pgDialect = new PgDialect();
const sqliteDialect = new SQLiteSyncDialect();

type Cfg = ReturnType<typeof sqliteConfig> | ReturnType<typeof pgConfig>;
const names = (cols: { name: string }[]) => cols.map((c) => c.name);

/** One dialect's table reduced to what both must agree on, in a form `toEqual` compares. */
function describeTable(cfg: Cfg, render: (s: SQL) => string) {
  const columnPk = cfg.columns.filter((c) => c.primary).map((c) => [c.name]);
  const uniques = [
    ...cfg.columns.filter((c) => c.isUnique).map((c) => ({ name: c.uniqueName, columns: [c.name], where: null })),
    ...cfg.uniqueConstraints.map((u) => ({ name: u.getName(), columns: names(u.columns), where: null })),
    ...cfg.indexes.filter((i) => i.config.unique).map((i) => indexShape(i.config, render)),
  ].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const indexes = cfg.indexes
    .filter((i) => !i.config.unique && !((i.config.name ?? '') in PG_ONLY_INDEXES))
    .map((i) => indexShape(i.config, render))
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const foreignKeys = cfg.foreignKeys
    .map((fk) => {
      const r = fk.reference();
      return {
        columns: names(r.columns),
        table: (r.foreignTable as unknown as { [k: symbol]: string })[Symbol.for('drizzle:Name')],
        foreignColumns: names(r.foreignColumns),
        // drizzle leaves the rule undefined when the schema names none; both databases then take "no action"
        onDelete: fk.onDelete ?? 'no action',
        onUpdate: fk.onUpdate ?? 'no action',
      };
    })
    .sort((a, b) => a.columns.join().localeCompare(b.columns.join()));
  return {
    columns: cfg.columns.map((c) => ({ name: c.name, notNull: c.notNull, hasDefault: c.hasDefault })).sort((a, b) => a.name.localeCompare(b.name)),
    primaryKey: [...columnPk, ...cfg.primaryKeys.map((k) => names(k.columns))],
    uniques,
    indexes,
    foreignKeys,
  };
}

function indexShape(config: { name?: string; columns: unknown[]; where?: SQL }, render: (s: SQL) => string) {
  return {
    name: config.name,
    columns: config.columns.map((c) => (c as { name?: string }).name ?? '(expression)'),
    where: config.where ? render(config.where) : null,
  };
}

/** Every table a schema module exports, as its select or insert row type. */
type Rows<M, kind extends 'select' | 'insert'> = {
  [K in keyof M as M[K] extends SQLiteTable | PgTable ? K : never]: M[K] extends { $inferSelect: infer S; $inferInsert: infer I } ? (kind extends 'select' ? S : I) : never;
};

const renderSqlite = (s: SQL) => sqliteDialect.sqlToQuery(s).sql;
const renderPg = (s: SQL) => pgDialect.sqlToQuery(s).sql;

describe('the SQLite and PostgreSQL schemas', () => {
  it('export the same tables under the same names', () => {
    expect(sqliteTables.length).toBeGreaterThan(20);
    expect(pgTables.map(([k, t]) => [k, pgConfig(t).name]).sort()).toEqual(sqliteTables.map(([k, t]) => [k, sqliteConfig(t).name]).sort());
  });

  for (const [key, table] of sqliteTables) {
    const name = sqliteConfig(table).name;
    describe(name, () => {
      const twin = (pg as Record<string, unknown>)[key] as PgTable | undefined;
      it('has a PostgreSQL twin', () => expect(twin).toBeInstanceOf(PgTable));
      if (!(twin instanceof PgTable)) return;
      const s = sqliteConfig(table);
      const p = pgConfig(twin);

      it('has the same columns, nullability and defaults', () => {
        expect(describeTable(p, renderPg).columns).toEqual(describeTable(s, renderSqlite).columns);
      });

      it('maps each property to the same column, of a type that reads back as the same JS value', () => {
        const props = (t: object) =>
          Object.entries(t as Record<string, { name: string; columnType: string }>)
            .filter(([, c]) => typeof c?.columnType === 'string')
            .map(([k, c]) => [k, c.name, c.columnType] as const);
        const pgProps = new Map(props(twin).map(([k, col, type]) => [k, { col, type }]));
        const sqliteProps = props(table);
        expect([...pgProps.keys()].sort()).toEqual(sqliteProps.map(([k]) => k).sort());
        for (const [k, col, type] of sqliteProps) {
          expect(pgProps.get(k)?.col, `${name}.${k}`).toBe(col);
          expect(TYPE_TWINS[type], `${name}.${k}: no PostgreSQL twin known for ${type}`).toBeDefined();
          expect(TYPE_TWINS[type], `${name}.${k} is ${type} in SQLite`).toContain(pgProps.get(k)?.type);
        }
      });

      it('has the same primary key', () => {
        expect(describeTable(p, renderPg).primaryKey).toEqual(describeTable(s, renderSqlite).primaryKey);
      });

      it('has the same unique constraints and unique indexes (with their conditions)', () => {
        expect(describeTable(p, renderPg).uniques).toEqual(describeTable(s, renderSqlite).uniques);
      });

      it('has the same indexes', () => {
        expect(describeTable(p, renderPg).indexes).toEqual(describeTable(s, renderSqlite).indexes);
      });

      it('has the same foreign keys with the same on-delete rules', () => {
        expect(describeTable(p, renderPg).foreignKeys).toEqual(describeTable(s, renderSqlite).foreignKeys);
      });
    });
  }

  it('has PostgreSQL-only indexes only where listed, on the tables named', () => {
    const extra = pgTables.flatMap(([, t]) => {
      const cfg = pgConfig(t);
      const sqliteTwin = sqliteTables.find(([, st]) => sqliteConfig(st).name === cfg.name);
      const known = new Set(sqliteTwin ? sqliteConfig(sqliteTwin[1]).indexes.map((i) => i.config.name ?? '') : []);
      return cfg.indexes.filter((i) => !known.has(i.config.name ?? '')).map((i) => [i.config.name ?? '(unnamed)', cfg.name]);
    });
    expect(Object.fromEntries(extra)).toEqual(PG_ONLY_INDEXES);
    expect(pgConfig(pg.telemetry).indexes.find((i) => i.config.name === 'telemetry_ts_brin')?.config.method).toBe('brin');
  });

  it('give the same TypeScript row and insert types, table by table', () => {
    // checked by tsc (npm run typecheck), where a mismatch is a compile error naming the table; no-ops at run time
    expectTypeOf<Rows<typeof pg, 'select'>>().toEqualTypeOf<Rows<typeof sqlite, 'select'>>();
    // which columns an insert may leave out (defaults, identity and autoincrement keys) must agree too
    expectTypeOf<Rows<typeof pg, 'insert'>>().toEqualTypeOf<Rows<typeof sqlite, 'insert'>>();
  });
});
