import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { startDemo } from './demo/start-demo.ts';
import { seedDemoTimetable } from './demo/demo-timetable.ts';
import { ffmpegChoice } from './content/ffmpeg.ts';

/** Reads config, builds the app, listens, handles signals — nothing else. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(e.message + '\n');
      process.exit(2);
    }
    throw e;
  }
  const app = await buildApp({ config });
  app.log.info({ ffmpeg: ffmpegChoice() }, 'transcoding with this ffmpeg');
  await app.listen({ host: config.LOA_HTTP_HOST, port: config.LOA_HTTP_PORT });
  const mqtt = await app.loa.startMqtt();
  app.log.info({ mqttPort: mqtt.port, mqttTlsPort: mqtt.tlsPort, ws: '/mqtt' }, 'MQTT broker listening');
  const httpPort = (app.server.address() as { port: number }).port;
  // Signals are handled from here on, before the demo starts: a SIGTERM while it starts still stops cleanly.
  let demo: Awaited<ReturnType<typeof startDemo>> | null = null;
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000).unref();
    await demo?.stop();
    await app.close();
    clearTimeout(force);
    app.log.info('stopped cleanly');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  demo = config.LOA_DEMO ? await startDemo(app, mqtt.port, httpPort) : null;
  // Speech for the demo's programmes takes a few seconds: made in the background, the server is up meanwhile.
  if (demo) seedDemoTimetable(app.loa.services, 'dong-thanh').then((n) => n && app.log.info({ programmes: n }, 'demo timetable seeded'), (err) => app.log.warn({ err }, 'demo timetable not seeded'));
}

main().catch((err) => {
  process.stderr.write(`fatal: ${err?.stack ?? err}\n`);
  process.exit(1);
});
