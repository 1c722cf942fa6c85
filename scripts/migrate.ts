/**
 * Migration commands: `up` applies pending migrations; `create` writes a new migration from the
 * difference between the entities and the database; `check` fails when the entities and the migrations
 * disagree (used by CI through the schema-drift test as well).
 */
import { loadConfig } from '../src/config/app-config';
import { createOrm, migrateToLatest } from '../src/db/orm';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';

async function main(): Promise<void> {
  const command = process.argv[2];
  const config = loadConfig();
  const embedded = config.database.url ? null : await startEmbeddedPostgres(config.database.embeddedDir);
  const orm = await createOrm({ url: config.database.url ?? embedded!.url, poolMax: 2 });
  try {
    if (command === 'up') {
      const applied = await migrateToLatest(orm);
      console.log(JSON.stringify({ applied }));
    } else if (command === 'create') {
      await migrateToLatest(orm);
      const result = await orm
        .getMigrator()
        .createMigration('migrations', false, process.argv[3] === '--initial');
      console.log(
        result.fileName ? `wrote migrations/${result.fileName}: add it to migrations/index.ts` : 'no changes',
      );
    } else if (command === 'check') {
      await migrateToLatest(orm);
      const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false });
      if (diff.trim()) {
        console.error(`Entities and migrations disagree:\n${diff}`);
        process.exitCode = 1;
      } else console.log('entities and migrations agree');
    } else {
      console.error('usage: migrate.ts up|create|check');
      process.exitCode = 2;
    }
  } finally {
    await orm.close(true);
    await embedded?.stop();
  }
}

void main();
