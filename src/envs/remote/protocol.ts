/**
 * The remote-env protocol (docs/remote-env.md): HTTP/1.1 + JSON, version prefix /v1. Shared by the server
 * and the client so both sides agree on field names.
 */
import type { EnvObservation, EnvStepResult } from '../types.ts';

export const API = '/v1';
/** largest accepted request body, bytes */
export const MAX_BODY_BYTES = 256 * 1024;
/** most envs one server holds at once */
export const MAX_ENVS = 1024;

/** An observation on the wire: the PNG as base64. */
export interface WireObservation {
  text: string;
  image: string | null;
  legalActions: string[];
  fields: Record<string, string>;
}

/** A step result on the wire: `observation` (a WireObservation) in place of `obs`. */
export type WireStep = Omit<EnvStepResult, 'obs'> & { observation: WireObservation };

export interface WireError { error: { status: number; code: string; message: string } }

export function toWireObservation(o: EnvObservation): WireObservation {
  return { text: o.text, image: o.image ? Buffer.from(o.image).toString('base64') : null, legalActions: o.legalActions, fields: o.fields };
}

export function fromWireObservation(o: WireObservation): EnvObservation {
  return { text: o.text, image: o.image === null ? null : new Uint8Array(Buffer.from(o.image, 'base64')), legalActions: o.legalActions, fields: o.fields };
}

export function toWireStep(r: EnvStepResult): WireStep {
  const { obs, ...rest } = r;
  return { observation: toWireObservation(obs), ...rest };
}

export function fromWireStep(w: WireStep): EnvStepResult {
  const { observation, ...rest } = w;
  return { obs: fromWireObservation(observation), ...rest };
}
