// Entry of a store worker thread: registers the TypeScript loader (workers do not inherit it), then runs worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
