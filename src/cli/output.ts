import type { WorkflowProgress } from '../shared/progress.js';

export type Print = (line: string) => void;

const ICON: Record<string, string> = { pending: ' ', running: '…', done: '✓', skipped: '↷', 'needs-attention': '✗' };

export function stepLine(step: WorkflowProgress['steps'][number]): string {
  return `  ${ICON[step.status] ?? ' '} ${step.title}${step.detail ? ` — ${step.detail}` : step.status === 'pending' ? '' : ` (${step.status})`}`;
}

export function attentionLines(workflowId: string, progress: WorkflowProgress): string[] {
  if (!progress.attention) return [];
  const a = progress.attention;
  return [
    `Needs attention at "${progress.steps.find((s) => s.name === a.step)?.title ?? a.step}": ${a.reason}`,
    `Fix the cause, then run: ${a.allowed.map((action) => `autopilot ${action} ${workflowId}`).join('  |  ')}`,
  ];
}

/** Left-aligned columns for `runs`. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}
