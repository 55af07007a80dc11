import path from 'node:path';

/** The environment variable that moves the store root. */
export const ROOT_ENV = 'O2O_DATASETS';

/** The store root: an explicit `--root` wins, then $O2O_DATASETS, then `datasets` (relative to cwd). */
export function storeRoot(explicit?: string): string {
  const chosen = explicit ?? process.env[ROOT_ENV] ?? 'datasets';
  return path.resolve(chosen);
}
