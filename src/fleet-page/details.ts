import { runsUrl, type FleetEnvironmentCell, type FleetStatus } from '../shared/fleet-status.js';
import { duration, escapeHtml, SEVERITY_COLOURS, severityLabel, STATE_LABELS, utc } from './format.js';

/** How old at the moment shown: now while live (the status itself ages), else the moment chosen. */
const age = (iso: string | undefined, status: FleetStatus) =>
  iso ? `${duration(((status.live ? Date.now() : Date.parse(status.at)) - Date.parse(iso)) / 1000)} ago` : 'never';

export function tooltipHtml(cell: FleetEnvironmentCell, status: FleetStatus): string {
  return (
    `<b>${escapeHtml(cell.id)}</b> · ${STATE_LABELS[cell.state]}${cell.stale ? ' (data too old)' : ''}` +
    `<br><span class="muted">${cell.cluster ? escapeHtml(cell.cluster) : 'SaaS'} · ${cell.customer ? escapeHtml(cell.customer) : 'no customer'}</span>` +
    `<br>${cell.openProblems} open problem(s)${cell.severity ? ` (worst: ${escapeHtml(severityLabel(cell.severity))})` : ''}${cell.hosts !== undefined ? ` · ${cell.hosts} host(s)` : ''}` +
    (cell.drifted ? `<br>${cell.drifted} field(s) differ from the standards` : '') +
    `<br>data ${age(cell.lastScanAt, status)}`
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
    `<dt>Last scan</dt><dd>${cell.lastScanAt ? `${utc(cell.lastScanAt)} (${age(cell.lastScanAt, status)})` : 'never'}</dd>` +
    (cell.scanError ? `<dt>Scan error</dt><dd class="warn">${escapeHtml(cell.scanError)}</dd>` : '') +
    (cell.attention ? `<dt>Needs attention</dt><dd class="warn">${escapeHtml(cell.attention)}</dd>` : '') +
    (cell.drifted
      ? `<dt>Drift</dt><dd>${cell.drifted} field(s) differ from the standards — <code class="command">autopilot standards drift --environments ${escapeHtml(cell.id)}</code></dd>`
      : '') +
    `</dl>` +
    (problems.length
      ? `<ol class="problems">${problems
          .map(
            (p) =>
              `<li><span class="dot" style="background:${SEVERITY_COLOURS[p.severity] ?? '#8b8d98'}"></span><span class="duration">${duration(p.openSeconds)}</span><span class="title">${escapeHtml(p.title)}</span><span class="where">${escapeHtml(p.displayId)} · ${escapeHtml(severityLabel(p.severity))}</span></li>`,
          )
          .join('')}</ol>`
      : '<p class="empty">No open problem.</p>') +
    (link ? `<p><a href="${escapeHtml(link)}" target="_blank" rel="noopener">Runs in the Temporal UI</a></p>` : '');
}
