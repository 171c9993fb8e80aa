import mysql from 'mysql2/promise';
import type { Pool, PoolConnection } from 'mysql2/promise';
import type { MysqlConfig } from '../config';
import { tlsOptions } from './tls';

/** mysql2 checks the certificate's host name only when asked to (verifyIdentity). */
function mysqlSsl(cfg: MysqlConfig): object | undefined {
  const opts = tlsOptions(cfg.tls, 'mysql', cfg.host);
  return opts ? { ...opts, verifyIdentity: cfg.tls.rejectUnauthorized } : undefined;
}

/** The application's pool: the least-privileged user (rows only, no DDL). */
export function createMysqlPool(cfg: MysqlConfig, opts: { database?: string; connectionLimit?: number } = {}): Pool {
  return mysql.createPool({
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    database: opts.database ?? cfg.database,
    ssl: mysqlSsl(cfg) as never,
    connectionLimit: opts.connectionLimit ?? 8,
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    decimalNumbers: true,
  });
}

/** The admin connection, used only to run migrations and create test databases. */
export function createMysqlAdminPool(cfg: MysqlConfig, opts: { database?: string } = {}): Pool {
  if (!cfg.adminPassword) throw new Error('TRACKFLOW_MYSQL_ADMIN_PASSWORD is not set: only migrations and the stack use the admin user');
  return mysql.createPool({
    host: cfg.host,
    port: cfg.port,
    user: cfg.adminUser,
    password: cfg.adminPassword,
    database: opts.database,
    ssl: mysqlSsl(cfg) as never,
    connectionLimit: 2,
    timezone: 'Z',
    multipleStatements: false,
  });
}

/**
 * Runs `work` in one transaction on a connection of its own and commits when it says so (`beforeCommit` and
 * `afterCommit` run around the COMMIT; the fault suite crashes there); otherwise, and on any
 * error, rolls back. A connection whose state is unknown after an error (a fatal error or a failed rollback) is
 * destroyed rather than handed back to the pool.
 */
export async function inTransaction<T>(
  pool: Pool,
  work: (conn: PoolConnection) => Promise<{ value: T; commit: boolean }>,
  opts: { isolation?: 'REPEATABLE READ' | 'READ COMMITTED'; beforeCommit?: () => void; afterCommit?: () => void } = {},
): Promise<T> {
  const conn = await pool.getConnection();
  let broken = false;
  try {
    if (opts.isolation) await conn.query(`SET SESSION TRANSACTION ISOLATION LEVEL ${opts.isolation}`);
    await conn.beginTransaction();
    try {
      const { value, commit } = await work(conn);
      if (commit) {
        opts.beforeCommit?.();
        await conn.commit();
        opts.afterCommit?.();
      } else await conn.rollback();
      return value;
    } catch (err) {
      if ((err as { fatal?: boolean }).fatal) broken = true;
      else await conn.rollback().catch(() => (broken = true));
      throw err;
    }
  } finally {
    if (broken) conn.destroy();
    else conn.release();
  }
}
