import { register } from './registry';

// One line per command; each module exports `command`.
register('stack', 'Provision and run the local Cassandra, Kafka, MariaDB and Temporal servers', async () => (await import('./stack')).command);
