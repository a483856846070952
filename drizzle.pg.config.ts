import { defineConfig } from 'drizzle-kit';

// The PostgreSQL migrations (LOA_DB_URL=postgres://…); drizzle.config.ts keeps generating SQLite's.
export default defineConfig({
  dialect: 'postgresql',
  schema: './server/src/db/schema.pg.ts',
  out: './server/src/db/migrations-pg',
});
