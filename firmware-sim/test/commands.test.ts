import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandReplySchema, payloadCodec } from '../../schemas/device-protocol/index.ts';
import { DeviceClock, SimCluster } from '../src/index.ts';
import { OUTPUTS, SECRET, TestBroker, sleep, waitFor } from './harness.ts';

let broker: TestBroker;
let c: SimCluster;
const ID = 'cum-cho';
const replies = () => broker.from(ID, 'reply');
const replyFor = (id: string) => waitFor(() => replies().find((r) => r.json.id === id), 2000, `reply to ${id}`);

beforeEach(async () => {
  broker = await TestBroker.start();
  // A device clock 5 s fast: expiry must be judged on the measured server time, not the raw device clock.
  c = new SimCluster({
    url: broker.url,
    id: ID,
    secret: SECRET,
    outputs: OUTPUTS,
    clock: new DeviceClock({ skewMs: 5000 }),
    reconnectPeriodMs: 30,
    bootDelayMs: 100,
  });
  await c.start();
  await waitFor(() => c.clockOffsetMs !== null, 2000, 'time sync');
});
afterEach(async () => {
  await c.stop();
  await broker.close();
});

describe('commands', () => {
  it('executes setVolume and replies ok (QoS 1, not retained) with the same id', async () => {
    const cmd = broker.command('setVolume', { volume: 35 });
    await broker.sendCommand({ cluster: ID }, cmd);
    const r = await replyFor(cmd.id);
    expect(r).toMatchObject({ qos: 1, retain: false, json: { id: cmd.id, result: 'ok' } });
    expect(payloadCodec(CommandReplySchema).decode(r.payload).ok).toBe(true);
    expect(c.volume).toBe(35);
    const t = c.sendTelemetry();
    expect(t?.volume).toBe(35);
  });

  it('rejects an expired command with reason expired and never executes it', async () => {
    const cmd = broker.command('setVolume', { volume: 5 }, -1000);
    await broker.sendCommand({ cluster: ID }, cmd);
    const r = await replyFor(cmd.id);
    expect(r.json).toMatchObject({ result: 'rejected', reason: 'expired' });
    expect(c.volume).not.toBe(5);
    expect(c.counters.commandsExecuted).toBe(0);
  });

  it('judges expiry by server time: a command valid for 2 more server seconds runs on a clock 5 s fast', async () => {
    // On the raw device clock this command expired 3 s ago; with the measured offset it is still valid.
    const cmd = broker.command('setVolume', { volume: 12 }, 2000);
    await broker.sendCommand({ cluster: ID }, cmd);
    expect((await replyFor(cmd.id)).json.result).toBe('ok');
    expect(c.volume).toBe(12);
  });

  it('executes a repeated command id once and answers the repeat with the first reply', async () => {
    const executed: string[] = [];
    c.on('executed', (cmd) => executed.push(cmd.id));
    const cmd = broker.command('setVolume', { volume: 40 });
    await broker.sendCommand({ cluster: ID }, cmd);
    await replyFor(cmd.id);
    await broker.sendCommand({ cluster: ID }, { ...cmd, args: { volume: 90 } });
    await waitFor(() => replies().filter((r) => r.json.id === cmd.id).length === 2, 2000, 'second reply');
    const [a, b] = replies().filter((r) => r.json.id === cmd.id);
    expect(b.payload.equals(a.payload)).toBe(true);
    expect(executed).toEqual([cmd.id]);
    expect(c.volume).toBe(40);
    expect(c.counters.duplicates).toBe(1);
  });

  it('rejects unknown commands and bad arguments, and a bad setOutput index', async () => {
    const unknown = broker.command('selfDestruct');
    const bad = broker.command('setVolume', { volume: 101 });
    const noArgs = broker.command('setOutput');
    const noOutput = broker.command('setOutput', { index: 5, enabled: false });
    for (const cmd of [unknown, bad, noArgs, noOutput]) await broker.sendCommand({ cluster: ID }, cmd);
    expect((await replyFor(unknown.id)).json).toMatchObject({ result: 'rejected', reason: 'unknown_command' });
    expect((await replyFor(bad.id)).json).toMatchObject({ result: 'rejected', reason: 'bad_args' });
    expect((await replyFor(noArgs.id)).json).toMatchObject({ result: 'rejected', reason: 'bad_args' });
    expect((await replyFor(noOutput.id)).json).toMatchObject({ result: 'rejected', reason: 'bad_args' });
    expect(c.counters.commandsExecuted).toBe(0);
  });

  it('answers a schema-invalid command that carries an id with rejected/malformed, and ignores one without', async () => {
    const broken = { id: 'cmd-broken', name: 'ping', issuedAt: 'yesterday' };
    await broker.sendCommand({ cluster: ID }, broken);
    await broker.sendCommand({ cluster: ID }, { name: 'ping' });
    expect((await replyFor('cmd-broken')).json).toMatchObject({ result: 'rejected', reason: 'malformed' });
    await sleep(50);
    expect(replies()).toHaveLength(1);
    expect(c.counters.malformed).toBe(2);
  });

  it('setOutput enabled=false reports the output as off; ping and identify reply ok', async () => {
    const off = broker.command('setOutput', { index: 1, enabled: false });
    const ping = broker.command('ping');
    const ident = broker.command('identify', { seconds: 3 });
    for (const cmd of [off, ping, ident]) await broker.sendCommand({ cluster: ID }, cmd);
    for (const cmd of [off, ping, ident]) expect((await replyFor(cmd.id)).json.result).toBe('ok');
    expect(c.outputs).toEqual([
      { index: 0, state: 'ok' },
      { index: 1, state: 'off' },
    ]);
    expect(c.sendTelemetry()?.outputs[1]).toEqual({ index: 1, state: 'off' });
    expect(c.identifying).toBe(true);
  });

  it('handles group commands and replies on its own reply topic', async () => {
    await broker.sendConfig(ID, { version: 1, groups: ['a-dong-thanh'] });
    await waitFor(() => c.groups.includes('a-dong-thanh'), 2000, 'group subscription');
    const cmd = broker.command('setVolume', { volume: 100 });
    await broker.sendCommand({ group: 'a-dong-thanh' }, cmd);
    expect((await replyFor(cmd.id)).topic).toBe(`loa/v1/dev/${ID}/reply`);
    expect(c.volume).toBe(100);
  });

  it('reboot: replies ok, goes offline cleanly, and returns with bootReason command and a reboot event', async () => {
    const cmd = broker.command('reboot');
    await broker.sendCommand({ cluster: ID }, cmd);
    await waitFor(() => broker.from(ID, 'birth').length === 2, 3000, 'second birth');
    const mine = broker.publishes.filter((p) => p.clientId === ID && !p.will);
    const iReply = mine.findIndex((p) => p.topic.endsWith('/reply') && p.json.id === cmd.id);
    const iOffline = mine.findIndex((p) => p.topic.endsWith('/status') && p.json.state === 'offline');
    expect(mine[iReply].json.result).toBe('ok');
    expect(iReply).toBeGreaterThanOrEqual(0);
    expect(iOffline).toBeGreaterThan(iReply);
    expect(mine[iOffline]).toMatchObject({ retain: true, qos: 1 });
    expect(broker.wills(ID)).toHaveLength(0);
    expect(broker.from(ID, 'birth')[1].json.bootReason).toBe('command');
    await waitFor(() => broker.from(ID, 'event').some((e) => e.json.type === 'reboot' && e.json.reason === 'command'), 2000, 'reboot event');
    // The reboot command is not run again when redelivered after the boot.
    await broker.sendCommand({ cluster: ID }, cmd);
    await waitFor(() => replies().filter((r) => r.json.id === cmd.id).length === 2, 2000, 'repeat reply');
    await sleep(200);
    expect(broker.from(ID, 'birth')).toHaveLength(2);
  });

  it('survives garbage on its command topics', async () => {
    await broker.publish(`loa/v1/dev/${ID}/cmd`, 'null');
    await broker.publish(`loa/v1/dev/${ID}/cmd`, { id: 'x', name: 'ping' });
    await broker.publish(`loa/v1/dev/${ID}/cmd`, { id: 'x', name: 'ping', issuedAt: 1, expiresAt: 'soon' });
    await waitFor(() => c.counters.malformed === 3, 2000, 'three malformed commands');
    expect((await replyFor('x')).json).toMatchObject({ result: 'rejected', reason: 'malformed' });
    const cmd = broker.command('ping');
    await broker.sendCommand({ cluster: ID }, cmd);
    expect((await replyFor(cmd.id)).json.result).toBe('ok');
  });
});
