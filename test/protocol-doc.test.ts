/**
 * docs/device-protocol.md is the public contract vendors build firmware against. These tests keep it equal to what
 * the generator makes from the catalog, and keep the catalog itself coherent: examples valid against their own
 * schemas, topic patterns inside the topic grammar, every channel documented.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../schemas/device-protocol/catalog.ts';
import { payloadCodec } from '../schemas/device-protocol/codec.ts';
import { CommandArgsSchemas, COMMAND_NAMES, type CommandName } from '../schemas/device-protocol/commands.ts';
import { DEVICE_DOWN, DEVICE_UP, parseTopic } from '../schemas/device-protocol/topics.ts';
import { BROKER, BROKER_SOURCES, DOC_PATH, fieldRows, firstDifference, renderProtocolDoc, slug } from '../scripts/gen-protocol-doc.ts';

const CLUSTER_ID = 'cl-7k2m9xq4ta';
const GROUP_ID = 'a-dong-thanh';
const concrete = (topic: string) => topic.replace('{clusterId}', CLUSTER_ID).replace('{groupId}', GROUP_ID);

describe('docs/device-protocol.md', () => {
  it('is exactly what the generator renders (run `npm run docs:protocol` after changing the catalog or template)', () => {
    const committed = readFileSync(DOC_PATH, 'utf8');
    const diff = firstDifference(renderProtocolDoc(), committed);
    expect(diff, diff ? `stale at line ${diff.line}: run \`npm run docs:protocol\` and commit the result` : '').toBeNull();
  });

  it('renders deterministically', () => {
    expect(renderProtocolDoc()).toBe(renderProtocolDoc());
  });

  it('has a section for every catalog topic, with its example and behaviour', () => {
    const doc = renderProtocolDoc();
    for (const t of CATALOG) {
      expect(doc).toContain(`| \`${t.topic}\` | ${t.direction} | ${t.qos} | ${t.retain ? 'yes' : 'no'} |`);
      expect(doc).toContain(JSON.stringify(t.example, null, 2));
      for (const b of t.behaviour) expect(doc).toContain(`- ${b}`);
    }
  });

  it('documents every command name', () => {
    const doc = renderProtocolDoc();
    for (const name of COMMAND_NAMES) expect(doc).toMatch(new RegExp('^\\| `' + name + '` \\|', 'm'));
  });

  it('rejects templates with unknown placeholders', () => {
    expect(() => renderProtocolDoc('## 5. Topics\n{{NO_SUCH_VALUE}}\n<!-- @generate topic-reference -->')).toThrow(/NO_SUCH_VALUE/);
    expect(() => renderProtocolDoc('## 5. Topics\n<!-- @generate no-such-block -->\n<!-- @generate topic-reference -->')).toThrow(/no-such-block/);
  });
});

describe('topic catalog', () => {
  it.each(CATALOG.map((t) => [t.topic, t] as const))('example of %s passes its own schema', (_, t) => {
    const decoded = payloadCodec(t.schema).decode(JSON.stringify(t.example));
    expect(decoded.ok ? 'ok' : decoded.error).toBe('ok');
  });

  it('command examples carry arguments valid for their command', () => {
    for (const t of CATALOG.filter((c) => c.channel === 'cmd' || c.channel === 'group-cmd')) {
      const cmd = t.example as { name: string; args?: Record<string, unknown> };
      expect(COMMAND_NAMES).toContain(cmd.name);
      const args = payloadCodec(CommandArgsSchemas[cmd.name as CommandName]).decode(JSON.stringify(cmd.args ?? {}));
      expect(args.ok ? 'ok' : args.error, `${t.topic} args`).toBe('ok');
    }
  });

  it.each(CATALOG.map((t) => [t.topic, t] as const))('%s parses with parseTopic once ids are substituted', (_, t) => {
    const parsed = parseTopic(concrete(t.topic));
    if (t.channel === 'group-cmd' || t.channel === 'group-play') {
      expect(parsed).toEqual({ kind: 'group', groupId: GROUP_ID, channel: t.channel.slice('group-'.length) });
    } else {
      expect(parsed).toEqual({ kind: 'device', clusterId: CLUSTER_ID, channel: t.channel });
    }
  });

  it('has an entry, with the right direction, for every channel in DEVICE_UP and DEVICE_DOWN', () => {
    const byChannel = new Map(CATALOG.map((t) => [t.channel, t]));
    for (const c of DEVICE_UP) expect(byChannel.get(c)?.direction, `catalog entry for up channel ${c}`).toBe('device → server');
    for (const c of DEVICE_DOWN) expect(byChannel.get(c)?.direction, `catalog entry for down channel ${c}`).toBe('server → device');
    expect(byChannel.get('group-cmd')?.direction).toBe('server → device');
    expect(byChannel.get('group-play')?.direction).toBe('server → device');
    expect(CATALOG).toHaveLength(new Set(CATALOG.map((t) => t.channel)).size);
  });

  it('lets a device retain only where the broker allows it (status)', () => {
    for (const t of CATALOG.filter((c) => c.direction === 'device → server')) expect(t.retain, t.topic).toBe(t.channel === 'status');
  });
});

describe('broker facts restated in the doc', () => {
  const root = new URL('../', import.meta.url);
  it.each(BROKER_SOURCES.map((s) => [s.fact, s] as const))('%s matches its source', (fact, src) => {
    const m = src.pattern.exec(readFileSync(new URL(src.file, root), 'utf8'));
    expect(m, `${src.pattern} not found in ${src.file}: update BROKER_SOURCES and BROKER in scripts/gen-protocol-doc.ts`).not.toBeNull();
    expect(Number(m![1].replace(/_/g, '')) / (src.unit ?? 1)).toBe(BROKER[fact]);
  });

  it('the broker does not override the aedes connect timeout', () => {
    expect(readFileSync(new URL('server/src/mqtt/broker.ts', root), 'utf8')).not.toMatch(/connectTimeout/);
  });
});

describe('generator helpers', () => {
  it('walks nested objects, arrays, enums and nullable unions', () => {
    const telemetry = CATALOG.find((t) => t.channel === 'telemetry')!;
    const rows = new Map(fieldRows(telemetry.schema).map((r) => [r.path, r]));
    expect(rows.get('mains.voltageV')).toMatchObject({ type: 'number or null', required: true, constraints: '0 – 500' });
    expect(rows.get('outputs[].state')).toMatchObject({ type: 'string (enum)', constraints: 'one of `ok`, `open`, `short`, `overload`, `off`' });
    expect(rows.get('playing')).toMatchObject({ type: 'object or null' });
    expect(rows.get('playing.title')).toMatchObject({ required: false, constraints: 'length ≤ 200' });
    expect(rows.get('seq')).toMatchObject({ required: false });
  });

  it('makes GitHub-style anchors', () => {
    expect(slug('5.10 Time sync response')).toBe('510-time-sync-response');
    expect(slug('3.2 Disconnected or refused?')).toBe('32-disconnected-or-refused');
    expect(slug('Loa Xã `v1`')).toBe('loa-xã-v1');
  });
});
