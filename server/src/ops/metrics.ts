import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one server process. A registry per instance keeps parallel test apps apart. */
export class Metrics {
  readonly registry = new Registry();
  readonly clustersOnline = new Gauge({ name: 'loa_clusters_online', help: 'Clusters currently online', registers: [this.registry] });
  readonly clustersTotal = new Gauge({ name: 'loa_clusters_total', help: 'Clusters registered', registers: [this.registry] });
  readonly mqttIn = new Counter({ name: 'loa_mqtt_messages_in_total', help: 'Device messages received, by channel', labelNames: ['channel'], registers: [this.registry] });
  readonly mqttHandlerErrors = new Counter({ name: 'loa_mqtt_handler_errors_total', help: 'Device messages whose handler failed (contained: the message is acknowledged and counted)', labelNames: ['channel'], registers: [this.registry] });
  readonly mqttRejected = new Counter({ name: 'loa_mqtt_messages_rejected_total', help: 'Device messages or connections refused, by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly telemetryDropped = new Counter({ name: 'loa_telemetry_rows_dropped_total', help: 'Telemetry time-series rows dropped because the write buffer was full (the latest state is still kept)', registers: [this.registry] });
  readonly backlogErrors = new Counter({ name: 'loa_backlog_errors_total', help: 'Delivery work done after the answer that failed: group play orders, manifest rows, airing log, manifest pushes (a broadcast without its airing log is delivered again at start-up)', registers: [this.registry] });
  readonly telemetryRows = new Counter({ name: 'loa_telemetry_rows_written_total', help: 'Telemetry rows persisted', registers: [this.registry] });
  readonly telemetryPersistLatency = new Summary({
    name: 'loa_telemetry_persist_latency_seconds',
    help: 'From a device publishing telemetry (its clock corrected by its measured offset) to the row being committed',
    percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 60,
    ageBuckets: 3,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'loa_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'loa_process_' });
  }
}
