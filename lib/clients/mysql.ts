import mysql from 'mysql2/promise';
import type { Pool } from 'mysql2/promise';
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
