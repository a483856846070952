/**
 * A cluster's life (docs/device-protocol.md §4): power on, boot, connect, birth, online; reboot and stop (planned:
 * offline status, DISCONNECT) or power cut (the broker publishes the will); the periodic work of a connection
 * (telemetry, time sync) and the battery watch.
 */
import { DEVICE_FEATURES, PROTOCOL_VERSION } from '../../schemas/device-protocol/index.ts';
import { codec, type RebootReason } from './cluster-types.ts';
import { ClusterOutbound } from './cluster-outbound.ts';

export abstract class ClusterLifecycle extends ClusterOutbound {
  /** Power on. Resolves at the first online + birth; rejects only if stopped before that. */
  start(): Promise<void> {
    if (!this.firstOnline) {
      let resolve!: () => void, reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(() => {});
      this.firstOnline = { promise, resolve, reject };
    }
    if (!this.running) {
      this.running = true;
      this.boot('power_on');
    }
    return this.firstOnline.promise;
  }

  /** Planned shutdown: offline status (retained), DISCONNECT, nothing left running. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.booting = false;
    this.playback.halt();
    await this.goOffline(true);
    this.halt();
  }

  /** Power cut: the TCP connection just dies (no DISCONNECT), so the broker publishes the will. */
  kill(): void {
    if (!this.running) return;
    this.running = false;
    this.booting = false;
    this.playback.halt();
    void this.session.close(false);
    this.halt();
  }

  /**
   * Reboot. `command` and `firmware_update` are planned: offline status, DISCONNECT. Anything else (watchdog,
   * crash, brownout …) is a sudden restart: the connection drops and the broker publishes the will.
   */
  async reboot(reason: RebootReason = 'unknown'): Promise<void> {
    if (!this.running || this.booting) return;
    this.booting = true;
    this.emit('rebooting', reason);
    // Power to the player and the modem goes; the manifest, content and unsent reports are in flash.
    this.playback.powerDown();
    await this.goOffline(reason === 'command' || reason === 'firmware_update');
    this.timers.boot = this.sched.after(this.o.bootDelayMs ?? 3000, () => {
      this.timers.boot = undefined;
      if (!this.running) return;
      this.booting = false;
      this.boot(reason);
    });
  }

  private boot(reason: RebootReason): void {
    this.bootReason = reason;
    this.bootAt = this.clock.nowMs();
    this.bootTrue = this.clock.trueNow();
    this.seq = 0;
    this.timeSync.offsetMs = null;
    this.timeSync.rttMs = null;
    this.identifyUntil = 0;
    this.counters.boots++;
    this.raise([{ type: 'reboot', reason }]);
    this.rescheduleBattery();
    this.playback.powerUp();
    this.session.open();
  }

  private async goOffline(clean: boolean): Promise<void> {
    if (clean && this.isOnline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        this.publishStatus('offline', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.timeSync.cancel();
    await this.session.close(clean);
  }

  private halt(): void {
    for (const k of Object.keys(this.timers) as Array<keyof typeof this.timers>) this.timers[k]?.();
    this.timers = {};
    this.timeSync.cancel();
    this.firstOnline?.reject(new Error(`cluster ${this.id} stopped before it came online`));
    this.firstOnline = null;
    this.emit('stopped');
  }

  // ---- connection ------------------------------------------------------------------------------------------------

  protected onConnected(): void {
    this.counters.connects++;
    this.emit('connected');
    const own = [this.topic('config'), this.topic('cmd'), this.topic('time/res'), this.topic('manifest')];
    this.session.subscribe(own, (granted) => {
      if (!granted || granted.some((q) => q === 128)) {
        this.counters.subscribeRefused++;
        this.log.warn({ clusterId: this.id, granted }, 'own topics refused; reconnecting');
        return this.session.drop('subscribe refused');
      }
      this.publishStatus('online');
      const birth = {
        protocol: PROTOCOL_VERSION,
        firmware: this.o.firmware ?? '2.4.1-sim',
        hardware: this.o.hardware ?? 'LX-RX4G sim',
        ...(this.o.model ? { model: this.o.model } : {}),
        ...(this.o.serial ? { serial: this.o.serial } : {}),
        outputs: this.o.outputs.map((x) => ({ ...x })),
        bootAt: this.bootAt,
        bootReason: this.bootReason,
        manifestVersion: this.playback.manifestVersion,
        ...(this.protocolMinor >= 2 ? { features: [...DEVICE_FEATURES] } : {}),
      };
      // Online only once the broker has the birth: MQTT keeps no order between QoS 0 and QoS 1 publishes, and the
      // server should never see telemetry from a device whose birth it has not had.
      const gen = this.session.gen;
      this.session.publish(this.topic('birth'), codec.birth.encode(birth), 1, false, (ok) => {
        if (gen !== this.session.gen) return;
        if (!ok) return this.session.drop('birth not delivered');
        this.isOnline = true;
        this.timeSync.start();
        this.flushOutbox();
        this.schedulePeriodic();
        if (this.o.telemetryOnConnect ?? true) this.sendTelemetry();
        this.emit('online');
        this.firstOnline?.resolve();
      });
    });
  }

  protected onDisconnected(reason: string): void {
    this.isOnline = false;
    this.groupSubs.reset();
    this.timeSync.cancel();
    this.timers.telemetry?.();
    this.timers.timeSync?.();
    this.timers.timeSyncRetry?.();
    this.timers.telemetry = this.timers.timeSync = this.timers.timeSyncRetry = undefined;
    this.outbox.resetInflight();
    this.counters.disconnects++;
    this.emit('disconnected', reason);
  }

  protected schedulePeriodic(): void {
    const phase = this.o.phase ?? 0;
    this.timers.telemetry?.();
    this.timers.telemetry = this.sched.every(this.telemetryIntervalS * 1000, () => this.sendTelemetry(), phase);
    this.timers.timeSync?.();
    this.timers.timeSync = this.sched.every(this.timeSyncIntervalS * 1000, () => this.timeSync.start(), phase);
  }

  get telemetryIntervalS(): number {
    return this.heldConfig?.telemetryIntervalS ?? this.o.telemetryIntervalS ?? 30;
  }
  get timeSyncIntervalS(): number {
    return this.heldConfig?.timeSyncIntervalS ?? this.o.timeSyncIntervalS ?? 600;
  }

  protected timeSyncNow(): void {
    this.timeSync.start();
  }

  protected rescheduleBattery(): void {
    this.timers.battery?.();
    this.timers.battery = undefined;
    const ms = this.state.msUntilBatteryLow();
    if (ms === null || !this.running) return;
    this.timers.battery = this.sched.after(ms, () => {
      this.timers.battery = undefined;
      this.raise(this.state.advance());
      this.rescheduleBattery();
    });
  }
}
