import 'reflect-metadata';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config/app-config';

/** Process entry: load configuration, start the app, stop cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  // `on`, not `once`: a second signal during the drain must not fall back to the default (kill).
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('Failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
