import { CELL_STATES, type FleetEnvironmentCell } from '../shared/fleet-status.js';
import { escapeHtml, SEVERITY_COLOURS, STATE_LABELS } from './format.js';

/** Cluster, then customer: how operators think of the fleet. */
function groups(cells: FleetEnvironmentCell[]): Map<string, Map<string, FleetEnvironmentCell[]>> {
  const byCluster = new Map<string, Map<string, FleetEnvironmentCell[]>>();
  const sorted = [...cells].sort(
    (a, b) =>
      (a.cluster ?? '\uffff').localeCompare(b.cluster ?? '\uffff') ||
      (a.customer ?? '').localeCompare(b.customer ?? '') ||
      a.id.localeCompare(b.id),
  );
  for (const cell of sorted) {
    const cluster = cell.cluster ?? 'SaaS';
    const customers = byCluster.get(cluster) ?? new Map<string, FleetEnvironmentCell[]>();
    const customer = cell.customer ?? '—';
    const list = customers.get(customer) ?? [];
    list.push(cell);
    customers.set(customer, list);
    byCluster.set(cluster, customers);
  }
  return byCluster;
}

function cellHtml(cell: FleetEnvironmentCell, selected: string | undefined): string {
  const colour =
    cell.state === 'problems' && cell.severity ? ` style="--c:${SEVERITY_COLOURS[cell.severity] ?? '#f5a524'}"` : '';
  return (
    `<span class="cell s-${cell.state}${cell.stale ? ' stale' : ''}${cell.id === selected ? ' selected' : ''}"` +
    ` data-environment-id="${escapeHtml(cell.id)}" data-state="${cell.state}"` +
    (cell.severity ? ` data-severity="${escapeHtml(cell.severity)}"` : '') +
    `${colour}></span>`
  );
}

/**
 * The whole grid as one string: one assignment of innerHTML is what keeps the first render of
 * thousands of cells well under a second; events are delegated from the grid.
 */
export function renderGrid(container: HTMLElement, cells: FleetEnvironmentCell[], selected: string | undefined): void {
  const parts: string[] = [];
  for (const [cluster, customers] of groups(cells)) {
    const count = [...customers.values()].reduce((n, l) => n + l.length, 0);
    parts.push(
      `<div class="cluster"><h3>${escapeHtml(cluster)} <span class="count">${count}</span></h3><div class="customers">`,
    );
    for (const [customer, list] of customers) {
      parts.push(
        `<div class="customer" title="${escapeHtml(customer)}"><span class="customer-name">${escapeHtml(customer)}</span>`,
      );
      for (const cell of list) parts.push(cellHtml(cell, selected));
      parts.push('</div>');
    }
    parts.push('</div></div>');
  }
  container.innerHTML = parts.join('') || '<p class="empty">No environment in the registry yet.</p>';
}

export function renderLegend(container: HTMLElement, cells: FleetEnvironmentCell[]): void {
  const counts = new Map<string, number>();
  for (const cell of cells) counts.set(cell.state, (counts.get(cell.state) ?? 0) + 1);
  container.innerHTML = CELL_STATES.map(
    (state) =>
      `<span class="legend-item"><span class="cell s-${state}"></span>${STATE_LABELS[state]} <b>${counts.get(state) ?? 0}</b></span>`,
  ).join('');
}
