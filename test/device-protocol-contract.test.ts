/**
 * The document vendors build firmware from, read the way a vendor reads it: parse docs/device-protocol.md (as
 * committed) and hold it against the payload schemas. Every JSON example in the topic reference must validate against
 * its topic's schema, and every field table must list exactly the schema's fields with the schema's required-ness —
 * one table per form for a union payload. The checks parse the Markdown and walk the JSON Schema independently of the
 * generator, so a generator that drops fields (as it once dropped whole unions) fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CATALOG } from '../schemas/device-protocol/catalog.ts';
import { DOC_PATH } from '../scripts/gen-protocol-doc.ts';

type Json = { [k: string]: any };

interface TopicSection {
  heading: string;
  /** field tables between **Payload** and **Example**, as [path, required] rows; null for the "no fields" sentence */
  tables: { path: string; required: boolean }[][];
  noFields: boolean;
  /** ```json blocks outside <details> (the examples) */
  examples: string[];
}

/** The `### 5.N …` sections of the topic reference, in order. */
function topicSections(doc: string): TopicSection[] {
  const start = doc.search(/^## 5\. /m);
  const end = doc.slice(start + 1).search(/^## 6\. /m) + start + 1;
  const parts = doc.slice(start, end).split(/^### /m).slice(1);
  return parts.map((part) => {
    const lines = part.split('\n');
    const heading = lines[0];
    const tables: { path: string; required: boolean }[][] = [];
    const examples: string[] = [];
    let noFields = false;
    let inPayload = false;
    let inDetails = false;
    let table: { path: string; required: boolean }[] | null = null;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      if (line === '**Payload**') inPayload = true;
      else if (line.startsWith('**') && line.endsWith('**')) inPayload = false;
      if (line.startsWith('<details>')) inDetails = true;
      if (line.startsWith('</details>')) inDetails = false;
      if (line === '```json') {
        const close = lines.indexOf('```', i + 1);
        if (!inDetails) examples.push(lines.slice(i + 1, close).join('\n'));
        i = close;
        continue;
      }
      if (!inPayload) continue;
      if (/^_No fields/.test(line)) noFields = true;
      if (line.startsWith('| ')) {
        const cells = line.slice(2, -2).split(/ (?<!\\)\| /);
        if (cells[0] === 'Field') {
          table = [];
          tables.push(table);
        } else if (table && !/^---/.test(cells[0])) {
          table.push({ path: cells[0].replace(/^`|`$/g, ''), required: cells[2] === 'yes' });
        }
      } else table = null;
    }
    return { heading, tables, noFields, examples };
  });
}

/** [path, required] for every field of an object schema, depth first: `a.b` for objects, `a[].b` for arrays of objects. */
function schemaFields(s: Json, prefix = ''): { path: string; required: boolean }[] {
  const out: { path: string; required: boolean }[] = [];
  const required = new Set<string>(s.required ?? []);
  for (const [name, sub] of Object.entries<Json>(s.properties ?? {})) {
    out.push({ path: prefix + name, required: required.has(name) });
    let inner = sub;
    if (inner.anyOf) {
      const nonNull = (inner.anyOf as Json[]).filter((o) => o.type !== 'null');
      inner = nonNull.length === 1 ? nonNull[0] : {};
    }
    if (inner.type === 'object' && inner.properties) out.push(...schemaFields(inner, `${prefix}${name}.`));
    if (inner.type === 'array' && inner.items?.type === 'object' && inner.items.properties) {
      out.push(...schemaFields(inner.items, `${prefix}${name}[].`));
    }
  }
  return out;
}

/** The object forms of a payload schema: itself, or each member of a top-level union. */
const formsOf = (schema: TSchema): Json[] => {
  const s: Json = JSON.parse(JSON.stringify(schema));
  return s.anyOf ? s.anyOf : [s];
};

/** Everything wrong with the document's topic reference, as readable lines; empty when it matches the schemas. */
function contractProblems(doc: string): string[] {
  const problems: string[] = [];
  const sections = topicSections(doc);
  if (sections.length !== CATALOG.length) problems.push(`${sections.length} topic sections for ${CATALOG.length} catalog topics`);
  CATALOG.forEach((t, i) => {
    const sec = sections[i];
    if (!sec) return;
    const where = `§${sec.heading}`;
    if (!sec.heading.endsWith(t.title)) problems.push(`${where}: expected the section of ${t.title}`);
    // Examples
    const check = TypeCompiler.Compile(t.schema);
    if (sec.examples.length === 0) problems.push(`${where}: no JSON example`);
    for (const text of sec.examples) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        problems.push(`${where}: example is not JSON: ${(e as Error).message}`);
        continue;
      }
      if (!check.Check(value)) {
        const e = check.Errors(value).First();
        problems.push(`${where}: example fails ${t.topic}'s schema at ${e?.path || '/'}: ${e?.message}`);
      }
    }
    // Field tables
    const forms = formsOf(t.schema);
    const expected = forms.map((f) => schemaFields(f));
    if (expected.every((f) => f.length === 0)) {
      if (!sec.noFields || sec.tables.length) problems.push(`${where}: payload has no fields but the doc shows a table`);
      return;
    }
    if (sec.noFields) problems.push(`${where}: says "no fields" but the schema has ${expected.flat().length}`);
    if (sec.tables.length !== forms.length) {
      problems.push(`${where}: ${sec.tables.length} field table(s) for ${forms.length} payload form(s)`);
      return;
    }
    expected.forEach((fields, k) => {
      const got = sec.tables[k].map((r) => `${r.path}${r.required ? '' : '?'}`);
      const want = fields.map((r) => `${r.path}${r.required ? '' : '?'}`);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        problems.push(`${where}, table ${k + 1}: fields ${JSON.stringify(got)}, schema ${JSON.stringify(want)}`);
      }
    });
  });
  return problems;
}

// LOA_PROTOCOL_DOC: check another rendering of the doc (e.g. an older commit's) instead of the committed one.
const committed = readFileSync(process.env.LOA_PROTOCOL_DOC ?? DOC_PATH, 'utf8');

describe('docs/device-protocol.md against the payload schemas', () => {
  it('finds a section, an example and a field table for every catalog topic', () => {
    const sections = topicSections(committed);
    expect(sections.map((s) => s.heading.replace(/^5\.\d+ /, ''))).toEqual(CATALOG.map((t) => t.title));
    for (const s of sections) {
      expect(s.examples.length, s.heading).toBeGreaterThan(0);
      expect(s.tables.length + (s.noFields ? 1 : 0), s.heading).toBeGreaterThan(0);
    }
  });

  it('every JSON example validates and every field table lists exactly the schema fields, with their required-ness', () => {
    expect(contractProblems(committed)).toEqual([]);
  });

  it('flags a union payload documented as having no fields (the old §5.13 defect)', () => {
    const i = CATALOG.findIndex((t) => t.channel === 'group-play');
    const sec = topicSections(committed)[i];
    const start = committed.indexOf(`### ${sec.heading}`);
    const from = committed.indexOf('**Payload**', start) + '**Payload**'.length;
    const to = committed.indexOf('**Example**', from);
    const broken = committed.slice(0, from) + '\n\n_No fields: the payload is the empty object `{}`._\n\n' + committed.slice(to);
    expect(contractProblems(broken).join('\n')).toMatch(/Group play orders: says "no fields"/);
  });

  it('flags a missing field, a wrong required flag and an invalid example', () => {
    const broken = committed
      .replace(/^\| `seq` \| integer \| no \|/m, '| `seq` | integer | yes |')
      .replace(/^\| `uptimeS` \|.*\n/m, '')
      .replace('"result": "ok"', '"result": "maybe"');
    const problems = contractProblems(broken).join('\n');
    expect(problems).toMatch(/Telemetry, table 1/);
    expect(problems).toMatch(/Command replies: example fails/);
  });

  it('emits no empty cross-reference', () => {
    expect(committed).not.toMatch(/See also: *\./);
  });

  it('lists in §1.3 every field that may be fractional (typed number)', () => {
    const para = committed.slice(committed.indexOf('### 1.3'), committed.indexOf('### 1.4'));
    for (const t of CATALOG) {
      for (const form of formsOf(t.schema)) {
        for (const f of schemaFields(form)) {
          let s: Json = form;
          for (const part of f.path.split('.')) {
            const key = part.replace('[]', '');
            s = s.properties[key];
            if (s.anyOf) s = (s.anyOf as Json[]).find((o) => o.type !== 'null') ?? s;
            if (part.endsWith('[]')) s = s.items;
          }
          if (s.type === 'number') expect(para, `${t.channel} ${f.path}`).toContain('`' + f.path + '`');
        }
      }
    }
  });
});
