import { parse } from 'csv-parse/sync';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CreateClusterSchema, type CreateCluster } from '../../../schemas/api/clusters.ts';
import { AppError } from '../shared/errors.ts';

const check = TypeCompiler.Compile(CreateClusterSchema);
export interface RowError {
  line: number;
  field: string;
  message: string;
}

export const MAX_IMPORT_ROWS = 20_000;

/** CSV columns: id?, name, areaId, serial, model, hardwareVersion, firmwareVersion, lat, lon, installedOn, notes, outputs (count), outputLabels (a|b|c), ratedW. */
function fromCsvRecord(r: Record<string, string>): unknown {
  const num = (v?: string) => (v === undefined || v === '' ? undefined : Number(v));
  const str = (v?: string) => (v === undefined || v === '' ? undefined : v);
  const labels = str(r.outputLabels)?.split('|').map((l) => l.trim());
  const count = num(r.outputs) ?? labels?.length ?? 4;
  const ratedW = num(r.ratedW);
  const outputs = Number.isInteger(count) && count >= 0 && count <= 64
    ? Array.from({ length: count }, (_, i) => ({ index: i, label: labels?.[i] || `Loa ${i + 1}`, ...(ratedW !== undefined ? { ratedW } : {}) }))
    : count;
  const out: Record<string, unknown> = { name: r.name, areaId: r.areaId, serial: r.serial, outputs };
  for (const k of ['id', 'model', 'hardwareVersion', 'firmwareVersion', 'installedOn', 'notes']) if (str(r[k]) !== undefined) out[k] = r[k];
  for (const k of ['lat', 'lon']) if (str(r[k]) !== undefined) out[k] = num(r[k]);
  return out;
}

function validate(rows: { line: number; value: unknown }[]): CreateCluster[] {
  const errors: RowError[] = [];
  for (const { line, value } of rows) {
    for (const e of check.Errors(value)) {
      errors.push({ line, field: e.path.replace(/^\//, '') || '(row)', message: e.message });
      break;
    }
  }
  if (errors.length) throw new AppError(422, `line ${errors[0].line}: ${errors[0].field}: ${errors[0].message}`, errors[0].field, errors);
  if (!rows.length) throw new AppError(400, 'the import holds no clusters', 'body');
  if (rows.length > MAX_IMPORT_ROWS) throw new AppError(413, `at most ${MAX_IMPORT_ROWS} clusters per import`, 'body');
  return rows.map((r) => r.value as CreateCluster);
}

/** Parses and validates a whole CSV import; line numbers count the header as line 1. */
export function parseCsvImport(text: string): { rows: CreateCluster[]; lines: number[] } {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true, info: true, bom: true });
  } catch (e) {
    throw new AppError(400, `CSV could not be read: ${(e as Error).message}`, 'body');
  }
  const rows = records.map((r) => ({ line: r.info.lines, value: fromCsvRecord(r.record) }));
  return { rows: validate(rows), lines: rows.map((r) => r.line) };
}

/** JSON import: an array of clusters (or {clusters: [...]}); "line" is the 1-based array position. */
export function parseJsonImport(body: unknown): { rows: CreateCluster[]; lines: number[] } {
  const list = Array.isArray(body) ? body : (body as { clusters?: unknown })?.clusters;
  if (!Array.isArray(list)) throw new AppError(400, 'expected a JSON array of clusters or {"clusters": [...]}', 'body');
  const rows = list.map((value, i) => ({ line: i + 1, value }));
  return { rows: validate(rows), lines: rows.map((r) => r.line) };
}
