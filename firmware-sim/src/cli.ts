/**
 * npm run sim -- --fleet <file|demo> [--server URL] [--count N] [--fault SPEC]…
 * Runs a fleet of simulated clusters against a Loa Xã server until Ctrl-C (or --duration), printing progress on
 * stderr once a second. Exit codes: 0 normal stop, 1 runtime failure, 2 bad usage or fleet file.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FAULT_GRAMMAR, parseFault, type ParsedFault } from './faults.ts';
import { SimFleet, type FleetStats } from './fleet.ts';
import { demoFleetPath, FleetFileError, loadFleetFile } from './fleet-file.ts';
import type { Logger } from './types.ts';

const HELP = `Loa Xã device simulator — runs simulated loudspeaker clusters against a server.

Usage: npm run sim -- --fleet <file|demo> [options]

  --fleet FILE|demo     fleet file (schemas/fleet-file.ts); "demo" reads
                        \${LOA_DATA_DIR:-./data}/demo-fleet.json written by the server's demo mode
  --server URL          mqtt://host:1883 or mqtts://host:8883 (default: the fleet file's "server")
  --http URL            server HTTP base URL for content fetch, http(s)://host:port
                        (default: the fleet file's "http")
  --content-fetch MODE  http (default): every cluster downloads and verifies content itself;
                        assume: no HTTP, content counts as present after --assume-delay
                        (a simulation shortcut for large fleets)
  --assume-delay MS     delay of an assumed fetch (default 0)
  --count N             use the first N clusters of the file (error if it has fewer)
  --fault SPEC          inject a fault; repeat for several (grammar below)
  --connect-rate N      connection attempts started per second (default 100)
  --concurrency N       first connections in flight at once (default 50)
  --telemetry S         telemetry interval until the server's config arrives (default 30)
  --skew MS             random clock skew per cluster, uniform in ±MS (default 0)
  --drift PPM           random clock drift per cluster, uniform in ±PPM (default 0)
  --ca FILE             PEM file with the CA for mqtts://
  --insecure            do not verify the server's TLS certificate
  --duration S          stop cleanly after S seconds (default: run until Ctrl-C)
  --quiet               no progress line
  --verbose             device warnings (malformed messages, refused subscriptions) on stderr
  -h, --help            this text

${FAULT_GRAMMAR}
`;

class UsageError extends Error {}

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${v}"`);
  return Number(v);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      fleet: { type: 'string' },
      server: { type: 'string' },
      http: { type: 'string' },
      'content-fetch': { type: 'string' },
      'assume-delay': { type: 'string' },
      count: { type: 'string' },
      fault: { type: 'string', multiple: true },
      'connect-rate': { type: 'string' },
      concurrency: { type: 'string' },
      telemetry: { type: 'string' },
      skew: { type: 'string' },
      drift: { type: 'string' },
      ca: { type: 'string' },
      insecure: { type: 'boolean' },
      duration: { type: 'string' },
      quiet: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.fleet) throw new UsageError('--fleet is required (a fleet file, or "demo")');
  const faults: ParsedFault[] = (values.fault ?? []).map((f) => {
    try {
      return parseFault(f);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
  const count = int('count', values.count, 1);
  const connectRate = int('connect-rate', values['connect-rate'], 1);
  const concurrency = int('concurrency', values.concurrency, 1);
  const telemetry = int('telemetry', values.telemetry, 5);
  const skew = int('skew', values.skew, 0);
  const drift = int('drift', values.drift, 0);
  const duration = int('duration', values.duration, 1);
  const assumeDelay = int('assume-delay', values['assume-delay'], 0);
  const contentFetch = values['content-fetch'] ?? 'http';
  if (contentFetch !== 'http' && contentFetch !== 'assume') throw new UsageError(`--content-fetch must be http or assume, got "${contentFetch}"`);

  const path = values.fleet === 'demo' ? demoFleetPath() : values.fleet;
  const file = await loadFleetFile(path);
  if (count !== undefined && file.clusters.length < count) {
    throw new UsageError(`--count ${count} but ${path} has only ${file.clusters.length} cluster(s)`);
  }
  const members = count === undefined ? file.clusters : file.clusters.slice(0, count);
  if (members.length === 0) throw new UsageError(`${path}: the fleet has no clusters`);
  const url = values.server ?? file.server;
  if (!url) throw new UsageError(`no server: pass --server mqtt://host:port (${path} names none)`);
  if (!/^(mqtts?|wss?|tcp|ssl):\/\/[^/]+/.test(url)) throw new UsageError(`--server "${url}" is not an mqtt://, mqtts://, ws:// or wss:// URL`);
  const ca = values.ca ? readFileSync(values.ca) : undefined;
  const http = values.http ?? file.http;
  if (http !== undefined && !/^https?:\/\/[^/]+/.test(http)) throw new UsageError(`--http "${http}" is not an http:// or https:// URL`);

  const fleet = new SimFleet({
    url,
    members,
    connectRate,
    concurrency,
    skewMs: skew,
    driftPpm: drift,
    logger: values.verbose ? stderrLogger : undefined,
    http,
    cluster: {
      telemetryIntervalS: telemetry,
      contentFetch,
      ...(assumeDelay !== undefined ? { contentAssumeDelayMs: assumeDelay } : {}),
      ...(ca ? { ca } : {}),
      ...(values.insecure ? { rejectUnauthorized: false } : {}),
    },
  });
  const say = (msg: string) => process.stderr.write(`sim: ${msg}\n`);
  say(`${members.length} cluster(s) from ${path} → ${url}${http ? `, content from ${http}` : ''}${contentFetch === 'assume' ? ' (content fetch assumed)' : ''}`);

  const t0 = Date.now();
  let prev: FleetStats = fleet.stats();
  const progress = setInterval(() => {
    const s = fleet.stats();
    if (!values.quiet) {
      const secs = Math.round((Date.now() - t0) / 1000);
      say(
        `${secs}s online ${s.online}/${s.total} in groups ${s.inGroups} connecting ${s.connecting} offline ${s.started - s.online - s.connecting} telemetry ${s.telemetrySent - prev.telemetrySent}/s ` +
          `events ${s.eventsSent} (pending ${s.eventsPending}) replies ${s.repliesSent} disconnects ${s.disconnects} errors ${s.errors}` +
          (s.airingsReceived
            ? ` airings received ${s.airingsReceived} downloaded ${s.airingsDownloaded} started ${s.airingsStarted} finished ${s.airingsFinished} failed ${s.airingsFailed}`
            : ''),
      );
    }
    prev = s;
  }, 1000);

  const timers: NodeJS.Timeout[] = [];
  fleet.once('rampDone', () => {
    say(`connect ramp done in ${((Date.now() - t0) / 1000).toFixed(1)} s (${fleet.stats().online} online)`);
    for (const f of faults) {
      timers.push(
        setTimeout(() => {
          const hit = fleet.applyFault(f.fault, f.selection);
          say(`fault ${f.spec} applied to ${hit.length} cluster(s)`);
        }, f.afterMs),
      );
    }
  });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (why: string) => {
      if (stopping) {
        say('second interrupt: exiting without a clean stop');
        process.exit(130);
      }
      stopping = true;
      say(`${why}: stopping ${members.length} cluster(s) cleanly…`);
      timers.forEach(clearTimeout);
      await fleet.stop();
      clearInterval(progress);
      const s = fleet.stats();
      say(
        `stopped: telemetry ${s.telemetrySent}, events ${s.eventsSent}, replies ${s.repliesSent}, errors ${s.errors}` +
          (s.airingsReceived ? `, airings started ${s.airingsStarted} finished ${s.airingsFinished} failed ${s.airingsFailed}` : ''),
      );
      resolve(0);
    };
    process.on('SIGINT', () => void stop('interrupted'));
    process.on('SIGTERM', () => void stop('terminated'));
    if (duration) timers.push(setTimeout(() => void stop(`${duration} s elapsed`), duration * 1000));
    fleet.start();
  });
}

const stderrLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (o, m) => process.stderr.write(`warn: ${m ?? ''} ${JSON.stringify(o)}\n`),
  error: (o, m) => process.stderr.write(`error: ${m ?? ''} ${JSON.stringify(o)}\n`),
};

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const usage = err instanceof UsageError || err instanceof FleetFileError || (err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`sim: error: ${(err as Error)?.message ?? String(err)}\n`);
    if (usage) process.stderr.write('run with --help for usage\n');
    process.exit(usage ? 2 : 1);
  },
);
