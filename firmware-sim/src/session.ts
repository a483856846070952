/**
 * One device's MQTT connection: CONNECT with the last will, reconnect with exponential backoff and jitter, and the
 * state of the radio link under it. Every publish and every received message passes through the Link, so network
 * impairment applies to all traffic alike. The protocol itself (what to send when) lives in SimCluster.
 *
 * A fresh mqtt.js client is made for every connection attempt with mqtt.js' own reconnect and resubscribe off: the
 * device owns retry timing (so a fleet can storm or stagger) and resubscribes itself after each CONNACK, and no
 * QoS 1 state leaks from one connection into the next — the Outbox decides what is sent again.
 */
import type { Socket } from 'node:net';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { Link } from './link.ts';
import type { Scheduler, Cancel } from './scheduler.ts';
import type { Logger } from './types.ts';

export interface SessionOptions {
  url: string;
  id: string;
  secret: string;
  ca?: string | Buffer | Array<string | Buffer>;
  rejectUnauthorized?: boolean;
  keepaliveS: number;
  connectTimeoutMs: number;
  reconnectPeriodMs: number;
  reconnectMaxMs: number;
  /** ± fraction applied to every reconnect delay, so a fleet that lost the broker together does not return together. */
  reconnectJitter: number;
  will: { topic: string; payload: Buffer };
  scheduler: Scheduler;
  random: () => number;
  logger: Logger;
}

export interface SessionHandlers {
  /** CONNACK received on connection `gen`. */
  up(gen: number): void;
  /** The connection that was up is gone. */
  down(reason: string): void;
  /** `lateMs`: how late this process handed the message over after the link delivered it (link.ts, Deliver). */
  message(topic: string, payload: Buffer, qos: 0 | 1 | 2, lateMs: number): void;
  connectError(err: Error): void;
  /** The radio link went down (or black) or came back: HTTP shares it. */
  link?(state: LinkState): void;
}

export type LinkState = 'up' | 'down' | 'blackhole';

export class Session {
  readonly link: Link;
  /** Increments per connection attempt; callbacks from older attempts are ignored. */
  gen = 0;
  linkState: LinkState = 'up';
  private client: MqttClient | null = null;
  private enabled = false;
  private isUp = false;
  private attempt = 0;
  private corked = false;
  private reconnectTimer: Cancel | null = null;
  private linkTimer: Cancel | null = null;
  private blackholeTimer: Cancel | null = null;

  constructor(
    private readonly o: SessionOptions,
    private readonly h: SessionHandlers,
  ) {
    this.link = new Link(o.random);
  }

  get connected(): boolean {
    return this.isUp;
  }

  /** Power on the modem: connect now and keep reconnecting until close(). */
  open(): void {
    this.enabled = true;
    this.attempt = 0;
    this.connectNow();
  }

  /**
   * Stop. `clean` sends DISCONNECT (the will is discarded); otherwise the socket is destroyed as on power loss and
   * the broker publishes the will.
   */
  async close(clean: boolean): Promise<void> {
    this.enabled = false;
    this.cancel('reconnectTimer');
    this.cancel('linkTimer');
    const c = this.client;
    let ended = false;
    if (c && clean && this.isUp && this.linkState === 'up') {
      ended = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 2000);
        c.end(false, {}, () => {
          clearTimeout(t);
          resolve(true);
        });
      });
    }
    // Anything not ended cleanly (still connecting, black-holed, DISCONNECT timed out) is torn down hard, so no
    // half-open client can come up later under this client id.
    this.teardown(clean ? 'closed' : 'killed', ended);
    this.link.clear();
  }

  /** Lose the connection without DISCONNECT and retry: after `delayMs` if given, else with backoff. */
  drop(reason: string, delayMs?: number): void {
    if (!this.client) return;
    this.teardown(reason, false);
    this.scheduleReconnect(delayMs);
  }

  /** `onWire` is told, as the message goes out, how late the link released it (link.ts, Deliver). */
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean, done?: (ok: boolean) => void, onWire?: (lateMs: number) => void): void {
    const gen = this.gen;
    const passed = this.link.pass('up', qos, (lateMs) => {
      const c = this.client;
      if (!c || gen !== this.gen || !this.isUp) return done?.(false);
      onWire?.(lateMs);
      c.publish(topic, payload, { qos, retain }, (err) => done?.(!err));
    });
    if (!passed) done?.(false);
  }

  /** Subscribe at QoS 1 on the current connection; `granted` holds the granted QoS per topic (128 = refused). */
  subscribe(topics: string[], done: (granted: number[] | null) => void): void {
    const c = this.client;
    const gen = this.gen;
    if (!c || !this.isUp || topics.length === 0) return done(topics.length ? null : []);
    c.subscribe(topics, { qos: 1 }, (err, granted, packet) => {
      if (gen !== this.gen) return;
      // mqtt.js reports any refused topic as an error for the whole SUBACK; the packet still has the codes per topic.
      const codes = packet?.granted;
      if (Array.isArray(codes) && codes.length === topics.length) {
        return done(codes.map((q) => (typeof q === 'number' ? q : 128)));
      }
      if (err || !granted) return done(null);
      done(topics.map((t) => granted.find((g) => g.topic === t)?.qos ?? 128));
    });
  }

  unsubscribe(topics: string[], done?: (ok: boolean) => void): void {
    const c = this.client;
    if (!c || !this.isUp || topics.length === 0) return done?.(topics.length === 0);
    c.unsubscribe(topics, (err) => done?.(!err));
  }

  /**
   * Take the radio link away. 'drop' loses the connection at once (the modem re-attaches, the broker sees the
   * socket close). 'blackhole' keeps the socket but nothing gets through either way, as on a dead cell: the broker
   * only notices by keepalive, and the device gives up after 1.5 keepalives like its TCP stack would.
   */
  linkDown(ms?: number, mode: 'drop' | 'blackhole' = 'drop'): void {
    this.cancel('linkTimer');
    this.cancel('reconnectTimer');
    if (mode === 'blackhole' && this.client && this.isUp) {
      this.linkState = 'blackhole';
      this.link.blackholed = true;
      const sock = this.client.stream as unknown as Socket;
      if (!this.corked && typeof sock.cork === 'function') {
        sock.cork();
        this.corked = true;
      }
      const gen = this.gen;
      this.blackholeTimer = this.o.scheduler.after(this.o.keepaliveS * 1500, () => {
        this.blackholeTimer = null;
        if (gen === this.gen && this.linkState === 'blackhole') this.teardown('keepalive timeout', false);
      });
    } else {
      this.linkState = 'down';
      if (this.client) this.teardown('link down', false);
    }
    if (ms !== undefined) this.linkTimer = this.o.scheduler.after(ms, () => this.linkUp());
    this.h.link?.(this.linkState);
  }

  linkUp(): void {
    this.cancel('linkTimer');
    if (this.linkState === 'up') return;
    const was = this.linkState;
    this.linkState = 'up';
    this.cancel('blackholeTimer');
    this.h.link?.('up');
    if (was === 'blackhole' && this.client) {
      // The connection survived: what was held on both sides flows now.
      this.uncork();
      this.link.release();
      return;
    }
    this.link.release();
    this.attempt = 0;
    this.scheduleReconnect();
  }

  private connectNow(): void {
    if (!this.enabled || this.client || this.linkState !== 'up') return;
    const gen = ++this.gen;
    const opts: IClientOptions = {
      clientId: this.o.id,
      username: this.o.id,
      password: this.o.secret,
      protocolVersion: 4,
      clean: true,
      keepalive: this.o.keepaliveS,
      reschedulePings: true,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      connectTimeout: this.o.connectTimeoutMs,
      will: { topic: this.o.will.topic, payload: this.o.will.payload, qos: 1, retain: true },
      timerVariant: 'native',
      ...(this.o.ca !== undefined ? { ca: this.o.ca as IClientOptions['ca'] } : {}),
      ...(this.o.rejectUnauthorized !== undefined ? { rejectUnauthorized: this.o.rejectUnauthorized } : {}),
    };
    let c: MqttClient;
    try {
      c = connect(this.o.url, opts);
    } catch (err) {
      this.h.connectError(err as Error);
      return this.scheduleReconnect();
    }
    this.client = c;
    c.on('connect', () => {
      if (gen !== this.gen) return;
      this.isUp = true;
      this.attempt = 0;
      this.h.up(gen);
    });
    c.on('message', (topic, payload, packet) => {
      this.link.pass('down', packet.qos === 0 ? 0 : 1, (lateMs) => {
        if (this.enabled) this.h.message(topic, payload, packet.qos, lateMs);
      });
    });
    c.on('error', (err) => {
      if (gen !== this.gen) return;
      if (!this.isUp) this.h.connectError(err);
      else this.o.logger.warn({ clusterId: this.o.id, err: err.message }, 'mqtt error');
    });
    c.on('close', () => {
      if (gen !== this.gen) return;
      this.teardown(this.isUp ? 'connection closed' : 'connect failed', false);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(delayMs?: number): void {
    if (!this.enabled || this.reconnectTimer || this.client) return;
    let delay = delayMs;
    if (delay === undefined) {
      const base = Math.min(this.o.reconnectMaxMs, this.o.reconnectPeriodMs * 2 ** Math.min(this.attempt, 16));
      const j = this.o.reconnectJitter;
      delay = base * (1 - j + 2 * j * this.o.random());
      this.attempt++;
    }
    this.reconnectTimer = this.o.scheduler.after(delay, () => {
      this.reconnectTimer = null;
      this.connectNow();
    });
  }

  /** Forget the current connection. `ended` means the client already sent DISCONNECT and closed. */
  private teardown(reason: string, ended: boolean): void {
    const c = this.client;
    if (!c) return;
    const wasUp = this.isUp;
    this.client = null;
    this.isUp = false;
    this.gen++;
    this.cancel('blackholeTimer');
    // Bytes corked during a black hole never reached the broker; destroying the socket discards them, as it should.
    this.corked = false;
    if (this.linkState === 'blackhole') this.linkState = 'down';
    c.removeAllListeners();
    c.on('error', () => {});
    if (!ended) c.end(true);
    this.link.clear();
    if (wasUp) this.h.down(reason);
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    const sock = this.client?.stream as unknown as Socket | undefined;
    if (sock && typeof sock.uncork === 'function' && !sock.destroyed) sock.uncork();
  }

  private cancel(k: 'reconnectTimer' | 'linkTimer' | 'blackholeTimer'): void {
    this[k]?.();
    this[k] = null;
  }
}
