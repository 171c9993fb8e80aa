import { config } from '../lib/config';
import { createCassandraClient } from '../lib/clients/cassandra';
import { createMysqlAdminPool } from '../lib/clients/mysql';
import { migrateCassandra } from '../lib/migrate/cassandra';
import { migrateMysql } from '../lib/migrate/mysql';

/** Applies pending Cassandra and MySQL migrations (MySQL with the admin credential). */
async function main(): Promise<void> {
  const cfg = config();
  const cassandra = createCassandraClient(cfg.cassandra);
  const admin = createMysqlAdminPool(cfg.mysql);
  try {
    const replication = `{'class': 'SimpleStrategy', 'replication_factor': ${cfg.cassandra.replicationFactor}}`;
    const lake = await migrateCassandra(cassandra, cfg.cassandra.keyspace, replication);
    const warehouse = await migrateMysql(admin, cfg.mysql.database);
    process.stdout.write(
      `migrations: cassandra ${cfg.cassandra.keyspace} [${lake.join(', ') || 'up to date'}], ` +
        `mysql ${cfg.mysql.database} [${warehouse.join(', ') || 'up to date'}]\n`,
    );
  } finally {
    await cassandra.shutdown();
    await admin.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
