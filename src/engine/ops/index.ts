/** Every op record, for the gradient-check table (a new op must add a check there). */
import type { OpDef } from '../graph.ts';
import * as at from './attention.ts';
import * as el from './elementwise.ts';
import * as mm from './matmul.ts';
import * as rd from './reduce.ts';
import * as sh from './shape.ts';

export const ALL_OPS: OpDef[] = [...new Set([at, el, mm, rd, sh].flatMap((m) => Object.values(m).filter(isOp)))];

function isOp(v: unknown): v is OpDef {
  return typeof v === 'object' && v !== null && 'emit' in v && 'grad' in v && 'infer' in v;
}
