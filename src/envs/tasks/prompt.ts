/**
 * RL4VLM-style prompts: the task description, the legal actions, and the required answer, a JSON object
 * with the task's read-out fields, then "thoughts", then "action" (../shared/spec/algorithms.md §1).
 */
export function answerFormat(readout: Record<string, string>, thoughts: string, actions: readonly string[]): string {
  const lines = Object.entries(readout).map(([k, v]) => `  "${k}": ${v},`);
  lines.push(`  "thoughts": "{${thoughts}}",`);
  lines.push(`  "action": ${actions.map((a) => `"${a}"`).join(' or ')}`);
  return `Your response should be a valid json object in the following format:\n{\n${lines.join('\n')}\n}`;
}

/** The legal actions as the prompt lists them: ['1', '2', '+']. */
export function actionList(actions: readonly string[]): string {
  return `[${actions.map((a) => `'${a}'`).join(', ')}]`;
}

/**
 * The utterance a scripted policy writes: read-out fields, thoughts, action, as one JSON object.
 * `"action":` appears exactly once, last, so the parser and the thought/action split find it.
 */
export function utterance(readout: Record<string, string>, thoughts: string, action: string): string {
  return JSON.stringify({ ...readout, thoughts, action }, null, 1).replace(/\n\s*/g, ' ').replace('{ ', '{').replace(' }', '}');
}

/**
 * The prompt's last line restates the formula: the state then sits in the prompt's tail, the part a small
 * model with a short prompt window (VlmConfig.maxPromptTokens) reads.
 */
export function formulaLine(formula: string): string {
  return `\nCurrent formula: '${formula}'`;
}
