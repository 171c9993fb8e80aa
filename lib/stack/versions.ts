/** Versions of the servers the local stack provisions (docker-compose.yml pins the same majors). */
export const VERSIONS = {
  cassandra: '5.0.6',
  kafka: '4.1.1',
  temporalCli: '1.9.1',
} as const;
