/**
 * Summarises a V8 .heapsnapshot: self size and count by node type and constructor name, largest first.
 *
 *   node --max-old-space-size=16000 --import tsx bench/heap.ts <file.heapsnapshot> [--top 30]
 *
 * (The snapshot of a server holding 10,000 sessions is a few hundred MB of JSON; parsing needs several GB.)
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  strings: string[];
}

export function summariseHeap(file: string, top = 30): string {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const stride = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const agg = new Map<string, { bytes: number; count: number }>();
  const byType = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += stride) {
    const type = types[s.nodes[i + iType]];
    const size = s.nodes[i + iSize];
    total += size;
    byType.set(type, (byType.get(type) ?? 0) + size);
    let name = s.strings[s.nodes[i + iName]];
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(strings)';
    else if (type === 'code') name = '(compiled code)';
    else if (type === 'array') name = `(array) ${name.length > 40 ? '' : name}`.trim();
    else if (type === 'closure') name = '(closures)';
    else if (type === 'hidden' || type === 'object shape') name = `(${type})`;
    if (name.length > 60) name = name.slice(0, 57) + '…';
    const key = `${type}\t${name}`;
    const e = agg.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += size;
    e.count++;
    agg.set(key, e);
  }
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  const lines = [`Heap snapshot ${file}: ${mb(total)} MB in ${(s.nodes.length / stride).toLocaleString('en-US')} objects`, '', '| node type | MB |', '|---|---:|'];
  for (const [t, b] of [...byType].sort((a, b) => b[1] - a[1])) lines.push(`| ${t} | ${mb(b)} |`);
  lines.push('', '| type | constructor / name | MB | count |', '|---|---|---:|---:|');
  for (const [k, e] of [...agg].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
    const [t, n] = k.split('\t');
    lines.push(`| ${t} | ${n.replace(/\|/g, '\\|')} | ${mb(e.bytes)} | ${e.count.toLocaleString('en-US')} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node --max-old-space-size=16000 --import tsx bench/heap.ts <file.heapsnapshot> [--top N]\n');
    process.exit(2);
  }
  const i = process.argv.indexOf('--top');
  process.stdout.write(summariseHeap(file, i > 0 ? Number(process.argv[i + 1]) : 30) + '\n');
}
