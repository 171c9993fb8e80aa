import mysql from 'mysql2/promise';
import type { Pool } from 'mysql2/promise';
import type { MysqlConfig } from '../config';
import { tlsOptions } from './tls';

/** The application's pool: the least-privileged user (rows only, no DDL). */
export function createMysqlPool(cfg: MysqlConfig, opts: { database?: string; connectionLimit?: number } = {}): Pool {
  return mysql.createPool({
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    database: opts.database ?? cfg.database,
    ssl: tlsOptions(cfg.tls) as never,
    connectionLimit: opts.connectionLimit ?? 8,
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    decimalNumbers: true,
  });
}

/** The admin connection, used only to run migrations and create test databases. */
export function createMysqlAdminPool(cfg: MysqlConfig, opts: { database?: string } = {}): Pool {
  return mysql.createPool({
    host: cfg.host,
    port: cfg.port,
    user: cfg.adminUser,
    password: cfg.adminPassword,
    database: opts.database,
    ssl: tlsOptions(cfg.tls) as never,
    connectionLimit: 2,
    timezone: 'Z',
    multipleStatements: false,
  });
}
