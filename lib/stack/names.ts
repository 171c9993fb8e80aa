import type { ServiceName } from './services';

/** The stack's services, apart from the code that runs them so a command line can be checked without loading it. */
export const SERVICE_NAMES: ServiceName[] = ['cassandra', 'kafka', 'mariadb', 'temporal'];
