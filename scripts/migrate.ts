import { config } from '../lib/config';
import { migrateAll } from '../lib/migrate/run';

/** Applies pending Cassandra and MySQL migrations with the migration credentials (never the workers'). */
async function main(): Promise<void> {
  const cfg = config();
  const { lake, warehouse } = await migrateAll(cfg);
  process.stdout.write(
    `migrations: cassandra ${cfg.cassandra.keyspace} [${lake.join(', ') || 'up to date'}], ` +
      `mysql ${cfg.mysql.database} [${warehouse.join(', ') || 'up to date'}]\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
