import { runsUrl, type FleetEnvironmentCell, type FleetStatus } from '../shared/fleet-status.js';
import { duration, escapeHtml, STATE_LABELS, utc } from './format.js';

const age = (iso: string | undefined, at: string) =>
  iso ? `${duration((Date.parse(at) - Date.parse(iso)) / 1000)} ago` : 'never';

export function tooltipHtml(cell: FleetEnvironmentCell, status: FleetStatus): string {
  return (
    `<b>${escapeHtml(cell.id)}</b> · ${STATE_LABELS[cell.state]}` +
    `<br>${cell.openProblems} open problem(s)${cell.hosts !== undefined ? ` · ${cell.hosts} host(s)` : ''}` +
    `<br>data ${age(cell.lastScanAt, status.at)}`
  );
}

/** Everything about one environment, with the way into its runs in the Temporal UI. */
export function renderDetails(panel: HTMLElement, cell: FleetEnvironmentCell | undefined, status: FleetStatus): void {
  if (!cell) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  const link = runsUrl(status.runsUrlTemplate, cell.id);
  const problems = status.problems.filter((p) => p.environmentId === cell.id);
  const versions = Object.entries(cell.agentVersions ?? {})
    .sort((a, b) => b[1] - a[1])
    .map(([v, n]) => `${escapeHtml(v)} × ${n}`)
    .join(', ');
  panel.innerHTML =
    `<h2>${escapeHtml(cell.id)} <button type="button" class="close" data-close-details aria-label="Close">×</button></h2>` +
    `<dl>` +
    `<dt>State</dt><dd>${STATE_LABELS[cell.state]}${cell.stale ? ' (data too old)' : ''}</dd>` +
    `<dt>Where</dt><dd>${cell.cluster ? `cluster ${escapeHtml(cell.cluster)}` : 'SaaS'} · ${cell.kind}${cell.customer ? ` · customer ${escapeHtml(cell.customer)}` : ''}${cell.stage ? ` · stage ${escapeHtml(cell.stage)}` : ''}</dd>` +
    (cell.tags?.length ? `<dt>Tags</dt><dd>${cell.tags.map(escapeHtml).join(', ')}</dd>` : '') +
    `<dt>Hosts</dt><dd>${cell.hosts ?? 'not counted yet'}${versions ? ` (${versions})` : ''}</dd>` +
    `<dt>Tokens expire</dt><dd>${cell.tokensExpireAt ? utc(cell.tokensExpireAt) : '—'}</dd>` +
    `<dt>Last read</dt><dd>${age(cell.lastScanAt, status.at)}</dd>` +
    (cell.scanError ? `<dt>Last scan</dt><dd class="warn">${escapeHtml(cell.scanError)}</dd>` : '') +
    (cell.attention ? `<dt>Needs attention</dt><dd class="warn">${escapeHtml(cell.attention)}</dd>` : '') +
    `</dl>` +
    (problems.length
      ? `<ol class="problems">${problems
          .map(
            (p) =>
              `<li><span class="duration">${duration(p.openSeconds)}</span><span class="title">${escapeHtml(p.title)}</span><span class="where">${escapeHtml(p.displayId)} · ${escapeHtml(p.severity)}</span></li>`,
          )
          .join('')}</ol>`
      : '<p class="empty">No open problem.</p>') +
    (link ? `<p><a href="${escapeHtml(link)}" target="_blank" rel="noopener">Runs in the Temporal UI</a></p>` : '');
}
