import type { Config } from '../config';
import { createCassandraClient } from '../clients/cassandra';
import { createMysqlAdminPool } from '../clients/mysql';
import { lakeReplication, migrateCassandra } from './cassandra';
import { migrateMysql } from './mysql';

/**
 * The migration step, separate from the workers: Cassandra as the migration role, MySQL as the admin user,
 * each then granting the app's login rows-only rights on what it migrated.
 */
export async function migrateAll(cfg: Config): Promise<{ lake: string[]; warehouse: string[] }> {
  const cassandra = createCassandraClient(cfg.cassandra, { as: 'admin' });
  const admin = createMysqlAdminPool(cfg.mysql);
  try {
    const replication = lakeReplication(cfg.cassandra);
    const lake = await migrateCassandra(cassandra, cfg.cassandra.keyspace, replication, { appRole: cfg.cassandra.username });
    const warehouse = await migrateMysql(admin, cfg.mysql.database, { appUser: cfg.mysql.user });
    return { lake, warehouse };
  } finally {
    await cassandra.shutdown();
    await admin.end();
  }
}
