/**
 * The load generator: N lightweight mqtt.js device clients in one process, driven by bench/run.ts over IPC.
 *
 * Every client speaks the device side of protocol v1 just far enough to be realistic on both targets, in two steps
 * that the orchestrator times separately:
 *   storm:     CONNECT (client id = username = cluster id, password = secret, retained will `{"state":"offline"}` on
 *              its status topic) → retained `{"state":"online"}` (QoS 1); "ready" at its PUBACK.
 *   subscribe: SUBSCRIBE own config/cmd/time-res plus its three area group topics (QoS 1) → birth (QoS 1); done at
 *              the birth's PUBACK. (Split off because aedes' in-memory retained store makes every SUBSCRIBE scan all
 *              retained messages: that step grows with N² and would otherwise swamp the connect figures.)
 * No time sync (the bare broker could not answer it), so telemetry carries `clockOffsetMs: null`.
 *
 * Telemetry is a round robin: message m goes to client m mod N at t0 + m·interval/N, so reports arrive as an even
 * stream. A client whose socket still holds more than MAX_BUFFERED bytes skips its turn (counted), which bounds
 * memory when the target cannot keep up (QoS 0 has no acknowledgement to bound in-flight messages with).
 *
 * With `subscriber: true` and no members (the bare-broker run starts a second process like that) one client subscribes
 * to `loa/v1/dev/+/telemetry` and measures publish → delivery latency from the `ts` field; it plays the part of the
 * server's in-process subscriber.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { quantiles, type Quantiles } from './stats.ts';

export interface Member {
  id: string;
  secret: string;
  /** area group ids (already `a-…`) the cluster follows */
  groups: string[];
}

export type ToClients =
  | { type: 'init'; url: string; members: Member[]; concurrency: number; connectRate: number; stormTimeoutMs: number; subscriber: boolean }
  | { type: 'storm' }
  | { type: 'subscribe'; timeoutMs: number }
  | { type: 'telemetry'; phase: string; intervalMs: number; durationMs: number; warmupMs?: number }
  | { type: 'stop' };

export interface StormResult {
  t0: number;
  /** first CONNECT attempt → every client CONNACKed (ms); null if not all made it before the deadline */
  connackAllMs: number | null;
  /** first CONNECT attempt → every client's SUBACK + status/birth PUBACKs (ms) */
  readyAllMs: number | null;
  connacked: number;
  ready: number;
  attempts: number;
  failures: number;
  /** distribution of individual CONNECT → CONNACK times (ms) */
  connectMs: Quantiles;
  /** messages devices had received when the step ended: retained ones (on SUBSCRIBE) and live ones */
  retainedReceived?: number;
  messagesReceived?: number;
}

export interface PhaseResult {
  phase: string;
  t0: number;
  durationMs: number;
  offered: number;
  sent: number;
  skipped: number;
  sentPerS: number;
  /** bare broker only: telemetry messages the subscriber received during the phase (+ 1.5 s grace), and latency */
  delivered: number | null;
  /** received per second between t0 + warmupMs and the end of the phase */
  deliveredPerS: number | null;
  deliveryMs: Quantiles | null;
  disconnects: number;
  connectedAtEnd: number;
}

export type FromClients =
  | { type: 'inited'; members: number }
  | { type: 'progress'; connacked: number; ready: number; elapsedMs: number }
  | { type: 'storm'; result: StormResult }
  | { type: 'subscribed'; result: StormResult }
  | { type: 'phase'; result: PhaseResult }
  | { type: 'error'; message: string };

const MAX_BUFFERED = 16 * 1024;
const statusTopic = (id: string) => `loa/v1/dev/${id}/status`;

function send(m: FromClients): void {
  process.send?.(m);
}

/** Catalog example with ts, seq and a little jitter; ts goes first so the subscriber can read it without JSON.parse. */
function telemetryPayload(seq: number, uptimeS: number): Buffer {
  const v = (226 + Math.random() * 4).toFixed(1);
  const t = (40 + Math.random() * 3).toFixed(1);
  return Buffer.from(
    `{"ts":${Date.now()},"seq":${seq},"mains":{"present":true,"voltageV":${v}},"backup":{"active":false,"batteryV":13.1,"batteryPct":96},` +
      `"relayTripped":false,"amp":{"temperatureC":${t}},"outputs":[{"index":0,"state":"ok"},{"index":1,"state":"ok"}],"volume":80,` +
      `"playing":null,"network":{"type":"4g","rssiDbm":-79},"storageFreeMb":3120,"uptimeS":${uptimeS},"clockOffsetMs":null}`,
  );
}

function birthPayload(id: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      protocol: 1,
      firmware: '2.4.1',
      hardware: 'LX-RX4G rev C',
      model: 'LX-400',
      serial: `SN-${id}`,
      outputs: [
        { index: 0, label: 'Loa 1', ratedW: 50 },
        { index: 1, label: 'Loa 2', ratedW: 50 },
      ],
      bootAt: Date.now() - 3_600_000,
      bootReason: 'power_on',
    }),
  );
}

interface Dev {
  m: Member;
  client: MqttClient | null;
  connacked: boolean;
  /** connected and announced online */
  ready: boolean;
  /** subscribed and birth acknowledged */
  subscribed: boolean;
  seq: number;
  bootAt: number;
}

class Fleet {
  private devs: Dev[] = [];
  private url = '';
  private concurrency = 500;
  private connectRate = 0;
  private stormTimeoutMs = 120_000;
  private subscriber: MqttClient | null = null;
  private subCount = 0;
  private subLat: number[] = [];
  private recordLatency = false;
  private disconnects = 0;
  /** messages the devices received: retained (config, on subscribe) and live (config pushed after birth, commands) */
  retainedReceived = 0;
  messagesReceived = 0;
  private stopping = false;

  init(o: Extract<ToClients, { type: 'init' }>): void {
    this.url = o.url;
    this.concurrency = o.concurrency;
    this.connectRate = o.connectRate;
    this.stormTimeoutMs = o.stormTimeoutMs;
    this.devs = o.members.map((m) => ({ m, client: null, connacked: false, ready: false, subscribed: false, seq: 0, bootAt: Date.now() }));
    if (o.subscriber) this.startSubscriber();
    else send({ type: 'inited', members: this.devs.length });
  }

  private startSubscriber(): void {
    const c = mqtt.connect(this.url, { clientId: 'bench-subscriber', clean: true, keepalive: 60, reconnectPeriod: 1000, connectTimeout: 30_000 });
    this.subscriber = c;
    c.on('message', (_topic, payload) => {
      this.subCount++;
      if (!this.recordLatency) return;
      // payload starts with {"ts":<digits>,
      const end = payload.indexOf(44); // ','
      const ts = Number(payload.toString('latin1', 6, end));
      if (ts > 0) this.subLat.push(Date.now() - ts);
    });
    c.once('connect', () =>
      c.subscribe('loa/v1/dev/+/telemetry', { qos: 0 }, (err) => {
        if (err) send({ type: 'error', message: `subscriber: ${err.message}` });
        else send({ type: 'inited', members: this.devs.length });
      }),
    );
  }

  /**
   * Opens one session: CONNECT (with will) → retained `{"state":"online"}` (QoS 1). Resolves at its PUBACK; rejects
   * on any failure. With `full`, also runs the subscribe step (used when a dropped device reconnects).
   */
  private connectOne(d: Dev, onConnack: (ms: number) => void, full = false): Promise<void> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const { id, secret } = d.m;
      const c = mqtt.connect(this.url, {
        clientId: id,
        username: id,
        password: secret,
        clean: true,
        keepalive: 60,
        reconnectPeriod: 0,
        connectTimeout: 30_000,
        protocolVersion: 4,
        will: { topic: statusTopic(id), payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
      });
      d.client = c;
      c.on('message', (_t, _p, packet) => {
        if (packet.retain) this.retainedReceived++;
        else this.messagesReceived++;
      });
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        c.removeAllListeners();
        c.on('error', () => {});
        c.end(true);
        d.client = null;
        reject(new Error(why));
      };
      c.on('error', (e) => fail(e.message));
      c.on('close', () => {
        if (!settled) return fail('closed before ready');
        if (!this.stopping) {
          // an established session dropped: count it and reconnect (not part of the storm figures)
          this.disconnects++;
          d.ready = false;
          d.connacked = false;
          d.subscribed = false;
          d.client = null;
          c.removeAllListeners();
          c.on('error', () => {});
          setTimeout(() => this.reconnectLoop(d), 1000 + Math.random() * 2000);
        }
      });
      c.once('connect', () => {
        onConnack(Date.now() - started);
        d.connacked = true;
        c.publish(statusTopic(id), '{"state":"online"}', { qos: 1, retain: true }, (err) => {
          if (err) return fail(err.message);
          if (!full) {
            settled = true;
            d.ready = true;
            return resolve();
          }
          this.subscribeOne(d).then(
            () => {
              settled = true;
              d.ready = true;
              resolve();
            },
            (e) => fail(String(e)),
          );
        });
      });
    });
  }

  /** SUBSCRIBE own cmd/config/time-res and the three area group topics (QoS 1), then the birth (QoS 1). */
  private subscribeOne(d: Dev): Promise<void> {
    return new Promise((resolve, reject) => {
      const c = d.client;
      if (!c) return reject(new Error('not connected'));
      const { id, groups } = d.m;
      const topics: Record<string, { qos: 1 }> = {
        [`loa/v1/dev/${id}/config`]: { qos: 1 },
        [`loa/v1/dev/${id}/cmd`]: { qos: 1 },
        [`loa/v1/dev/${id}/time/res`]: { qos: 1 },
      };
      for (const g of groups) topics[`loa/v1/grp/${g}/cmd`] = { qos: 1 };
      c.subscribe(topics, (err, granted) => {
        if (err) return reject(err);
        if (granted?.some((g) => g.qos === 128)) return reject(new Error('subscription refused'));
        c.publish(`loa/v1/dev/${id}/birth`, birthPayload(id), { qos: 1 }, (e) => {
          if (e) return reject(e);
          d.subscribed = true;
          resolve();
        });
      });
    });
  }

  private reconnectLoop(d: Dev): void {
    if (this.stopping) return;
    this.connectOne(d, () => {}, true).catch(() => setTimeout(() => this.reconnectLoop(d), 2000 + Math.random() * 3000));
  }

  /**
   * Runs `step` once for every device with at most `concurrency` in flight (and at most connectRate starts per
   * second when set); a failed device retries after 0.5–2 s. Stops at the deadline.
   */
  private async pool(step: (d: Dev, onFirstAck: (ms: number) => void) => Promise<void>, timeoutMs: number): Promise<StormResult> {
    const n = this.devs.length;
    const t0 = Date.now();
    const deadline = t0 + timeoutMs;
    let next = 0;
    let inFlight = 0;
    let acked = 0;
    let done = 0;
    let attempts = 0;
    let failures = 0;
    let ackAllAt = 0;
    let doneAllAt = 0;
    const ackMs: number[] = [];
    const retry: Dev[] = [];
    const bucket = Math.max(1, this.connectRate / 10);
    let tokens = this.connectRate > 0 ? bucket : Infinity;
    let lastRefill = t0;

    await new Promise<void>((resolve) => {
      const progress = setInterval(() => send({ type: 'progress', connacked: acked, ready: done, elapsedMs: Date.now() - t0 }), 1000);
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearInterval(progress);
        clearInterval(ticker);
        resolve();
      };
      const launch = (d: Dev) => {
        inFlight++;
        attempts++;
        let gotAck = false;
        step(d, (ms) => {
          gotAck = true;
          ackMs.push(ms);
          if (++acked === n) ackAllAt = Date.now();
        })
          .then(() => {
            inFlight--;
            if (++done === n) {
              doneAllAt = Date.now();
              finish();
            }
            pump();
          })
          .catch(() => {
            inFlight--;
            failures++;
            if (gotAck) acked--;
            // a refused or timed-out device retries after a short random back-off, like the firmware does
            setTimeout(() => {
              retry.push(d);
              pump();
            }, 500 + Math.random() * 1500);
            pump();
          });
      };
      const pump = () => {
        if (finished) return;
        if (Date.now() > deadline) return finish();
        if (this.connectRate > 0) {
          const now = Date.now();
          tokens = Math.min(tokens + ((now - lastRefill) / 1000) * this.connectRate, bucket);
          lastRefill = now;
        }
        while (inFlight < this.concurrency && tokens >= 1 && (retry.length || next < n)) {
          tokens--;
          launch(retry.length ? retry.shift()! : this.devs[next++]);
        }
      };
      const ticker = setInterval(pump, 20);
      pump();
    });
    return {
      t0,
      connackAllMs: ackAllAt ? ackAllAt - t0 : null,
      readyAllMs: doneAllAt ? doneAllAt - t0 : null,
      connacked: acked,
      ready: done,
      attempts,
      failures,
      connectMs: quantiles(ackMs),
      retainedReceived: this.retainedReceived,
      messagesReceived: this.messagesReceived,
    };
  }

  /** The reconnect storm: every device connects and announces itself online. */
  storm(): Promise<StormResult> {
    return this.pool((d, onAck) => this.connectOne(d, onAck), this.stormTimeoutMs);
  }

  /** After the storm: every device subscribes and sends its birth (connackAllMs/connectMs here: SUBACK+PUBACK). */
  subscribeAll(timeoutMs: number): Promise<StormResult> {
    return this.pool((d, onAck) => {
      const t = Date.now();
      if (d.subscribed) {
        onAck(0);
        return Promise.resolve();
      }
      return this.subscribeOne(d).then(() => onAck(Date.now() - t));
    }, timeoutMs);
  }

  async telemetry(phase: string, intervalMs: number, durationMs: number, warmupMs = 0): Promise<PhaseResult> {
    const n = this.devs.length;
    const t0 = Date.now();
    const end = t0 + durationMs;
    let m = 0;
    let sent = 0;
    let skipped = 0;
    const disconnects0 = this.disconnects;
    const sub0 = this.subCount;
    this.subLat = [];
    this.recordLatency = true;
    let subAtWarm = sub0;
    let warmAt = t0;
    const warm = setTimeout(() => {
      subAtWarm = this.subCount;
      warmAt = Date.now();
    }, warmupMs);
    let subAtEnd = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = Math.min(Date.now(), end);
        const due = Math.floor(((now - t0) * n) / intervalMs);
        for (; m < due; m++) {
          const d = this.devs[m % n];
          const c = d.client;
          if (!c || !d.ready || (c.stream?.writableLength ?? 0) > MAX_BUFFERED) {
            skipped++;
            continue;
          }
          c.publish(`loa/v1/dev/${d.m.id}/telemetry`, telemetryPayload(d.seq++, Math.floor((Date.now() - d.bootAt) / 1000) + 3600), { qos: 0 });
          sent++;
        }
        if (Date.now() >= end) {
          subAtEnd = this.subCount;
          clearTimeout(warm);
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(tick, 5);
    });
    // grace for in-flight deliveries to the subscriber
    if (this.subscriber) await new Promise((r) => setTimeout(r, 1500));
    this.recordLatency = false;
    const delivered = this.subscriber ? this.subCount - sub0 : null;
    return {
      phase,
      t0,
      durationMs,
      offered: m,
      sent,
      skipped,
      sentPerS: (sent / durationMs) * 1000,
      delivered,
      deliveredPerS: delivered === null ? null : ((subAtEnd - subAtWarm) / Math.max(1, end - warmAt)) * 1000,
      deliveryMs: this.subscriber ? quantiles(this.subLat) : null,
      disconnects: this.disconnects - disconnects0,
      connectedAtEnd: this.devs.reduce((k, d) => k + (d.ready ? 1 : 0), 0),
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const all = [...this.devs.map((d) => d.client), this.subscriber].filter((c): c is MqttClient => !!c);
    for (const c of all) {
      c.removeAllListeners();
      c.on('error', () => {});
      c.end(true);
    }
  }
}

const fleet = new Fleet();
process.on('message', (msg: ToClients) => {
  void (async () => {
    try {
      if (msg.type === 'init') fleet.init(msg);
      else if (msg.type === 'storm') send({ type: 'storm', result: await fleet.storm() });
      else if (msg.type === 'subscribe') send({ type: 'subscribed', result: await fleet.subscribeAll(msg.timeoutMs) });
      else if (msg.type === 'telemetry') send({ type: 'phase', result: await fleet.telemetry(msg.phase, msg.intervalMs, msg.durationMs, msg.warmupMs) });
      else if (msg.type === 'stop') {
        await fleet.stop();
        setTimeout(() => process.exit(0), 200);
      }
    } catch (e) {
      send({ type: 'error', message: String((e as Error)?.stack ?? e) });
    }
  })();
});
// the orchestrator going away must take this process with it
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(3), Number(process.env.BENCH_CLIENTS_MAX_MS ?? 30 * 60_000)).unref();
