import type { TestProject } from 'vitest/node';
import { startPostgres } from '../helpers/postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** the maintenance database of the run's PostgreSQL; each test server takes a fresh database of it */
    postgresAdminUrl: string;
  }
}

/**
 * One throwaway PostgreSQL for the whole run of the second configuration (vitest.config.ts, project
 * "mosquitto+postgres"): starting one per file would cost each file an initdb.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pg = await startPostgres();
  project.provide('postgresAdminUrl', pg.url);
  return () => pg.stop();
}
