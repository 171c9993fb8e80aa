/**
 * The layers of docs/architecture.md, for eslint-plugin-boundaries. Each file belongs to the first element whose
 * folder pattern matches its path from the repository root; a layer may import itself and the layers listed for it.
 */

export const layerElements = [
  { type: 'test', pattern: 'test', partialMatch: false },
  { type: 'bench', pattern: 'bench', partialMatch: false },
  { type: 'scripts', pattern: 'scripts', partialMatch: false },
  // The CLI is still under lib/cli until it moves to scripts/cli/; it is the scripts layer wherever it lives.
  { type: 'scripts', pattern: 'lib/cli', partialMatch: false },
  { type: 'client', pattern: 'client', partialMatch: false },
  { type: 'workers', pattern: 'workers', partialMatch: false },
  { type: 'workflows', pattern: 'workflows', partialMatch: false },
  { type: 'activities', pattern: 'activities', partialMatch: false },
  { type: 'clients', pattern: 'lib/clients', partialMatch: false },
  { type: 'domain', pattern: 'lib/domain', partialMatch: false },
  { type: 'stage', pattern: 'lib/*', partialMatch: false },
  // What is left in lib/ is its top-level files: configuration, metrics, task queues, used by clients and stages.
  { type: 'base', pattern: 'lib', partialMatch: false },
];

const below = {
  scripts: ['client', 'workers', 'workflows', 'activities', 'stage', 'clients', 'base', 'domain'],
  client: ['workflows', 'activities', 'stage', 'clients', 'base', 'domain'],
  workers: ['client', 'workflows', 'activities', 'stage', 'clients', 'base', 'domain'],
  workflows: ['activities', 'base', 'domain'],
  activities: ['stage', 'clients', 'base', 'domain'],
  stage: ['stage', 'clients', 'base', 'domain'],
  clients: ['clients', 'base', 'domain'],
  base: ['base', 'domain'],
  domain: ['domain'],
  // bench is a tool tier beside scripts that checks its results against the reference aggregator in test/support.
  bench: ['bench', 'test', 'scripts', 'client', 'workers', 'workflows', 'activities', 'stage', 'clients', 'base', 'domain'],
  test: ['test', 'bench', 'scripts', 'client', 'workers', 'workflows', 'activities', 'stage', 'clients', 'base', 'domain'],
};

export const layerPolicies = Object.entries(below).map(([from, to]) => ({
  from: { element: { type: from } },
  allow: { to: { element: { types: { anyOf: [from, ...to] } } } },
}));
