import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'mysql2/promise';
import { REPO_ROOT, assertIdentifier } from '../config';
import { migrationStatements } from './statements';

export const MYSQL_MIGRATIONS_DIR = path.join(REPO_ROOT, 'migrations', 'mysql');

/**
 * Applies migrations/mysql/NNN_name.sql in order with the admin pool. The database itself must exist
 * (the stack creates it; tests create theirs). SQL is kept to what MySQL 8 and MariaDB 10.11 share.
 */
export async function migrateMysql(admin: Pool, database: string, opts: { appUser?: string } = {}): Promise<string[]> {
  assertIdentifier('database', database);
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
  if (opts.appUser) await grantMysqlApp(admin, database, opts.appUser);
  const conn = await admin.getConnection();
  try {
    await conn.query(`USE \`${database}\``);
    await conn.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(128) PRIMARY KEY, applied_at DATETIME(3) NOT NULL)`,
    );
    const [rows] = await conn.query(`SELECT version FROM schema_migrations`);
    const applied = new Set((rows as Array<{ version: string }>).map((r) => r.version));
    const files = fs.readdirSync(MYSQL_MIGRATIONS_DIR).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
    const done: string[] = [];
    for (const file of files) {
      const version = file.replace(/\.sql$/, '');
      if (applied.has(version)) continue;
      for (const statement of migrationStatements(fs.readFileSync(path.join(MYSQL_MIGRATIONS_DIR, file), 'utf8'))) {
        await conn.query(statement);
      }
      await conn.execute(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, UTC_TIMESTAMP(3))`, [version]);
      done.push(version);
    }
    return done;
  } finally {
    conn.release();
  }
}

/** Where the app user connects from: the stack creates it at '127.0.0.1' only. */
export const MYSQL_APP_HOST = '127.0.0.1';

/**
 * A database name as GRANT reads it: `_` and `%` are wildcards there, so `trackflow_t1` unescaped would also
 * cover `trackflowXt1`. Escaped, the grant names exactly one database.
 */
export function grantDatabase(database: string): string {
  return `\`${assertIdentifier('database', database).replace(/[_%]/g, '\\$&')}\``;
}

/** The app user reads and writes rows of exactly this database (no DDL, no other database). */
export async function grantMysqlApp(admin: Pool, database: string, appUser: string): Promise<void> {
  await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${grantDatabase(database)}.* TO ?@?`, [appUser, MYSQL_APP_HOST]);
}

/** Takes the app user's rights on a database away again (test databases are dropped after use). */
export async function revokeMysqlApp(admin: Pool, database: string, appUser: string): Promise<void> {
  await admin.query(`REVOKE SELECT, INSERT, UPDATE, DELETE ON ${grantDatabase(database)}.* FROM ?@?`, [appUser, MYSQL_APP_HOST]);
}
