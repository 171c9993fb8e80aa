/** The clients every activity receives; defined beside the clients so stage modules can name them too. */
export type { ActivityDeps } from '../lib/clients/deps';
