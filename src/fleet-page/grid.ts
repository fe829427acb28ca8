import { CELL_STATES, type FleetEnvironmentCell } from '../shared/fleet-status.js';
import { escapeHtml, SEVERITY_COLOURS, severityLabel, STATE_LABELS } from './format.js';

/** Below this many environments every customer gets a visible label; above, only on hover. */
const LABELLED_UP_TO = 1500;

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Cluster, then customer: how operators think of the fleet. SaaS comes last. */
function groups(cells: FleetEnvironmentCell[]): Map<string, Map<string, FleetEnvironmentCell[]>> {
  const byCluster = new Map<string, Map<string, FleetEnvironmentCell[]>>();
  // Plain comparisons: localeCompare is measurably slow over thousands of cells.
  const sorted = [...cells].sort(
    (a, b) =>
      (a.cluster === null ? 1 : 0) - (b.cluster === null ? 1 : 0) ||
      compare(a.cluster ?? '', b.cluster ?? '') ||
      (a.customer === null ? 1 : 0) - (b.customer === null ? 1 : 0) ||
      compare(a.customer ?? '', b.customer ?? '') ||
      compare(a.id, b.id),
  );
  for (const cell of sorted) {
    const cluster = cell.cluster ?? 'SaaS';
    let customers = byCluster.get(cluster);
    if (!customers) byCluster.set(cluster, (customers = new Map<string, FleetEnvironmentCell[]>()));
    const customer = cell.customer ?? 'no customer';
    let list = customers.get(customer);
    if (!list) customers.set(customer, (list = []));
    list.push(cell);
  }
  return byCluster;
}

/**
 * Problem cells take the colour of their worst severity from one constructed stylesheet rather than
 * a style attribute per cell: fewer attributes to parse, and one list of colours (format.ts).
 */
export function installSeverityColours(): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(
    Object.entries(SEVERITY_COLOURS)
      .map(([severity, colour]) => `.cell.s-problems[data-severity="${severity}"]{background-color:${colour}}`)
      .join('\n'),
  );
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}

function cellHtml(cell: FleetEnvironmentCell, selected: string | undefined): string {
  return (
    `<span class="cell s-${cell.state}${cell.stale ? ' stale' : ''}${cell.drifted ? ' drifted' : ''}${cell.id === selected ? ' selected' : ''}"` +
    ` data-environment-id="${escapeHtml(cell.id)}" data-state="${cell.state}"` +
    (cell.severity ? ` data-severity="${escapeHtml(cell.severity)}"` : '') +
    `></span>`
  );
}

/**
 * The whole grid as one string: one assignment of innerHTML is what keeps the first render of
 * thousands of cells well under a second; events are delegated from the grid.
 */
export function renderGrid(container: HTMLElement, cells: FleetEnvironmentCell[], selected: string | undefined): void {
  const parts: string[] = [];
  for (const [cluster, customers] of groups(cells)) {
    let count = 0;
    for (const list of customers.values()) count += list.length;
    parts.push(
      `<section class="cluster"><h3>${escapeHtml(cluster)} <span class="count">${count} environments · ${customers.size} customers</span></h3><div class="customers">`,
    );
    for (const [customer, list] of customers) {
      const name = escapeHtml(customer);
      parts.push(`<div class="customer" data-customer="${name}"><span class="customer-name">${name}</span>`);
      for (const cell of list) parts.push(cellHtml(cell, selected));
      parts.push('</div>');
    }
    parts.push('</div></section>');
  }
  container.classList.toggle('labelled', cells.length <= LABELLED_UP_TO);
  container.innerHTML = parts.join('') || '<p class="empty">No environment in the registry yet.</p>';
}

export function renderLegend(container: HTMLElement, cells: FleetEnvironmentCell[]): void {
  const counts = new Map<string, number>();
  const severities = new Map<string, number>();
  let drifted = 0;
  for (const cell of cells) {
    counts.set(cell.state, (counts.get(cell.state) ?? 0) + 1);
    if (cell.drifted) drifted++;
    if (cell.state === 'problems' && cell.severity)
      severities.set(cell.severity, (severities.get(cell.severity) ?? 0) + 1);
  }
  const bySeverity = Object.keys(SEVERITY_COLOURS)
    .filter((s) => severities.has(s))
    .map(
      (s) =>
        `<span class="legend-item" title="${escapeHtml(s)}"><span class="cell s-problems" data-severity="${s}"></span>${severityLabel(s)} <b>${severities.get(s)}</b></span>`,
    )
    .join('');
  container.innerHTML =
    CELL_STATES.map(
      (state) =>
        `<span class="legend-item"><span class="cell s-${state}"></span>${STATE_LABELS[state]} <b>${counts.get(state) ?? 0}</b></span>`,
    ).join('') +
    // Drift is a marker over any state's colour, so it is listed apart from the states.
    `<span class="legend-item" title="Fields differ from the standards applied last"><span class="cell s-healthy drifted"></span>Drifted from standards <b>${drifted}</b></span>` +
    (bySeverity ? `<span class="legend-sub">worst severity:</span>${bySeverity}` : '');
}
