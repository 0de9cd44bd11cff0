import type { CompiledPolicy, CompiledResource } from '@phiguard/core';
import { disclosureMatrix, type ResourceMatrix } from '@phiguard/core/policy';

/** Options of {@link policyReportHtml}. */
export interface PolicyReportOptions {
  /** Page title. Default `phiguard policy report`. */
  readonly title?: string;
  /** When the report was made (shown on the page). Default now. */
  readonly generatedAt?: Date;
}

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** What each operator means, in the words a privacy officer reads. */
const OPERATORS: Readonly<Record<string, { readonly label: string; readonly kind: 'sent' | 'masked' | 'withheld' }>> = {
  send: { label: 'sent', kind: 'sent' },
  deny: { label: 'not sent', kind: 'withheld' },
  redact: { label: 'withheld (recorded)', kind: 'withheld' },
  null: { label: 'sent as null', kind: 'masked' },
  replace: { label: 'replaced by a marker', kind: 'masked' },
  partial: { label: 'last characters only', kind: 'masked' },
  initials: { label: 'initials', kind: 'masked' },
  year: { label: 'year only', kind: 'masked' },
  zip3: { label: 'ZIP3', kind: 'masked' },
  age90: { label: 'ages over 89 as 90+', kind: 'masked' },
  token: { label: 'keyed token', kind: 'masked' },
  scrub: { label: 'identifiers redacted (DLP)', kind: 'masked' },
};

const describe = (op: string) => OPERATORS[op] ?? { label: `custom: ${op}`, kind: 'masked' as const };

/** The routes a resource claims in the policy: where its data leaves, for a reviewer to check against the API. */
function routesOf(routes: CompiledResource['routes']): string {
  if (routes.length === 0) {
    return '<p class="routes">Routes: none listed in the policy (claimed in code with <code>phiResource()</code> or <code>@PhiResource()</code>, or not served over HTTP).</p>';
  }
  return `<p class="routes">Routes: ${routes.map((r) => `<code>${esc(`${r.method} ${r.path}`)}</code>`).join(', ')}</p>`;
}

function matrixTable(m: ResourceMatrix, index: number, routes: CompiledResource['routes']): string {
  const head = m.columns
    .map(
      (c) =>
        `<th scope="col" data-role="${esc(c.role)}" data-purpose="${c.purpose}"><span class="role">${esc(c.role)}</span><span class="purpose">${c.purpose}</span>${
          c.relationship ? `<span class="needs">needs ${esc(c.relationship)}</span>` : ''
        }</th>`,
    )
    .join('');
  const rows = m.fields
    .map((f, i) => {
      const cells = m.cells[i]!.map((op, j) => {
        const c = m.columns[j]!;
        const d = describe(op);
        return `<td data-role="${esc(c.role)}" data-purpose="${c.purpose}" class="${d.kind}" title="${esc(`${c.role} / ${c.purpose}: ${f.path} ${d.label}`)}">${esc(d.label)}</td>`;
      }).join('');
      const badges = [f.encrypt ? '<span class="badge">encrypted at rest</span>' : '', f.category ? `<span class="badge">${esc(f.category)}</span>` : ''].join('');
      return `<tr><th scope="row"><code>${esc(f.path)}</code><span class="class">${esc(f.class)}</span>${badges}</th>${cells}</tr>`;
    })
    .join('\n');
  return `<section aria-labelledby="r${index}">
<h2 id="r${index}">${esc(m.resource)}</h2>
${routesOf(routes)}
<div class="scroll"><table>
<caption>What each role receives of ${esc(m.resource)}, per purpose of use. Fields a rule does not name are not sent.</caption>
<thead><tr><th scope="col">Field (class)</th>${head}</tr></thead>
<tbody>
${rows}
</tbody></table></div>
</section>`;
}

function sensitiveSection(policy: CompiledPolicy): string {
  const rows: string[] = [];
  for (const r of policy.resources.values()) {
    for (const s of r.sensitive) {
      for (const c of s.categories) {
        const reveal = [...c.reveal].map(([role, purposes]) => `${esc(role)} (${[...purposes].join(', ')})`).join('; ') || 'nobody';
        const match = [...[...c.codes].map((x) => `code ${esc(x)}`), ...[...c.tags].map((x) => `tag ${esc(x)}`)].join(', ');
        rows.push(
          `<tr><th scope="row">${esc(c.name)}</th><td>${esc(r.name)}: <code>${esc(s.elements)}</code></td><td>${match}</td><td>${[...s.mask]
            .map((m) => `<code>${esc(m)}</code>`)
            .join(' ')}</td><td>${reveal}</td><td>${c.stepUp ? 'yes' : 'no'}</td><td>${c.relationship ? esc(c.relationship) : '—'}</td></tr>`,
        );
      }
    }
  }
  if (rows.length === 0) return '<section aria-labelledby="sens"><h2 id="sens">Sensitive categories</h2><p>The policy declares none.</p></section>';
  return `<section aria-labelledby="sens"><h2 id="sens">Sensitive categories</h2>
<table><caption>Results tagged by code or security label keep these fields withheld from everyone the category does not reveal to.</caption>
<thead><tr><th scope="col">Category</th><th scope="col">Where</th><th scope="col">Recognised by</th><th scope="col">Withheld fields</th><th scope="col">Revealed to (purposes)</th><th scope="col">Second factor</th><th scope="col">Relationship</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></section>`;
}

/** The step-up rules the policy declares (sensitive categories with `stepUp`), and nothing it does not. */
function stepUpSection(policy: CompiledPolicy): string {
  const rules: string[] = [];
  for (const r of policy.resources.values()) {
    for (const s of r.sensitive) {
      for (const c of s.categories) if (c.stepUp) rules.push(`<li>${esc(r.name)}: <strong>${esc(c.name)}</strong> (<code>${esc(s.elements)}</code>)</li>`);
    }
  }
  if (rules.length === 0) return '<p>No rule requires a second factor.</p>';
  const { methods, maxAgeSeconds } = policy.access.stepUp;
  return `<p>Revealed callers need a second factor (${[...methods].map(esc).join(', ')}) within ${maxAgeSeconds} seconds for:</p><ul>${rules.join('')}</ul>`;
}

function accessSection(policy: CompiledPolicy): string {
  const bg = policy.access.breakGlass;
  const relationships: string[] = [];
  for (const r of policy.resources.values()) {
    for (const [role, byPurpose] of r.relationships) {
      for (const [purpose, rel] of byPurpose) relationships.push(`<li>${esc(r.name)}: <strong>${esc(role)}</strong> for ${purpose} needs a <strong>${esc(rel)}</strong> relationship</li>`);
    }
  }
  const sod = policy.access.separationOfDuties.map((set) => `<li>${set.map(esc).join(' + ')}</li>`).join('');
  return `<section aria-labelledby="access"><h2 id="access">Access rules</h2>
<h3>Break-glass</h3>
${
  bg === null
    ? '<p>Not enabled.</p>'
    : `<ul><li>Who may invoke it: ${[...bg.roles].map(esc).join(', ')}</li><li>Who reviews it: ${[...bg.reviewers].map(esc).join(', ')}</li>
<li>Reason codes: ${bg.reasons.map(esc).join(', ')}; a justification of at least ${bg.minJustification} characters</li>
<li>One patient, purpose ETREAT, at most ${bg.maxMinutes} minutes; every access audited with the grant</li></ul>`
}
<h3>Relationships</h3>${relationships.length === 0 ? '<p>None required.</p>' : `<ul>${relationships.join('')}</ul>`}
<h3>Separation of duties</h3>${sod === '' ? '<p>None declared.</p>' : `<p>No one may hold together:</p><ul>${sod}</ul>`}
<h3>Step-up</h3>${stepUpSection(policy)}
</section>`;
}

const FLOW = [
  ['Resolve the context', 'who is asking (principal, roles), why (purpose of use), relationship, second factor, break-glass grant'],
  ['Decide access', 'allow with a precompiled plan, or deny with a reason (403), or ask for a second factor (401)'],
  ['Inbound DLP', 'request bodies of resources that declare it: block (422), redact or report'],
  ['Handler', 'the application returns its whole document'],
  ['Decrypt', 'only the encrypted fields the plan reads'],
  ['Minimum necessary', 'the plan keeps, masks or withholds each field; unclassified fields are not sent'],
  ['Audit', 'one event per response or refusal: references and field paths, never values'],
  ['Send', 'no-store, identifiers removed from headers and file names'],
];

const STYLE = `
:root{--fg:#1b1b1b;--muted:#4a4a4a;--sent:#0b6b2f;--sent-bg:#e3f4e8;--mask:#6b4a00;--mask-bg:#fdf1d3;--deny:#5c5c5c;--deny-bg:#eeeeee;--line:#c8c8c8}
*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);margin:0 auto;padding:1.5rem;max-width:1600px}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2rem;border-bottom:2px solid var(--line)}h3{font-size:1.05rem}
.meta{color:var(--muted)}.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:13px}caption{text-align:left;color:var(--muted);padding:.25rem 0}
th,td{border:1px solid var(--line);padding:.3rem .45rem;vertical-align:top;text-align:left}
thead th{background:#f5f5f5;position:sticky;top:0}
thead th span{display:block}.role{font-weight:600}.purpose{font-family:ui-monospace,monospace}.needs{font-size:11px;color:var(--muted)}
tbody th{background:#fafafa;font-weight:normal;min-width:16rem}tbody th code{font-weight:600}
.class{display:block;font-size:11px;color:var(--muted)}.badge{display:inline-block;font-size:11px;border:1px solid var(--muted);border-radius:3px;padding:0 .3rem;margin:.15rem .2rem 0 0}
td.sent{background:var(--sent-bg);color:var(--sent)}td.masked{background:var(--mask-bg);color:var(--mask)}td.withheld{background:var(--deny-bg);color:var(--deny)}
td.sent::before{content:"✓ "}td.masked::before{content:"◐ "}td.withheld::before{content:"✕ "}
.filters{display:flex;gap:1rem;flex-wrap:wrap;align-items:end;margin:1rem 0;padding:.75rem;border:1px solid var(--line);background:#fafafa}
.filters label{display:flex;flex-direction:column;font-weight:600}select{font:inherit;padding:.2rem}
.legend span{margin-right:1rem}[hidden]{display:none!important}
ol.flow li{margin:.3rem 0}
@media print{.filters{display:none}thead th{position:static}body{max-width:none;padding:0}a{color:inherit}}
`;

const SCRIPT = `
(function(){
  var role=document.getElementById('role'), purpose=document.getElementById('purpose'), count=document.getElementById('shown');
  function apply(){
    var r=role.value, p=purpose.value, shown=0;
    document.querySelectorAll('[data-role]').forEach(function(el){
      var hide=(r&&el.getAttribute('data-role')!==r)||(p&&el.getAttribute('data-purpose')!==p);
      el.hidden=hide;
      if(!hide&&el.tagName==='TH') shown++;
    });
    count.textContent=shown+' column'+(shown===1?'':'s')+' shown';
  }
  role.addEventListener('change',apply); purpose.addEventListener('change',apply); apply();
})();
`;

/**
 * A self-contained HTML page (no network fetches) showing a compiled policy for people who do
 * not read code: the disclosure matrix of every resource (roles × purposes × fields, each cell
 * the operator), the sensitive categories and who may unmask them, break-glass, relationship
 * and separation-of-duties rules, and the data flow of a request. Tables use header cells and
 * captions; operators are shown as text and symbol, not colour alone; filters by role and
 * purpose; printable.
 */
export function policyReportHtml(policy: CompiledPolicy, options: PolicyReportOptions = {}): string {
  const title = options.title ?? 'phiguard policy report';
  const matrices = disclosureMatrix(policy);
  const roles = [...policy.roles];
  const purposes = [...new Set(matrices.flatMap((m) => m.columns.map((c) => c.purpose)))];
  const generated = (options.generatedAt ?? new Date()).toISOString();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<header><h1>${esc(title)}</h1><p class="meta">Generated ${esc(generated)} from the compiled policy: ${matrices.length} resource${matrices.length === 1 ? '' : 's'}, ${roles.length} roles.</p></header>
<main>
<form class="filters" aria-label="Filter the matrices" onsubmit="return false">
<label for="role">Role<select id="role"><option value="">all roles</option>${roles.map((r) => `<option>${esc(r)}</option>`).join('')}</select></label>
<label for="purpose">Purpose of use<select id="purpose"><option value="">all purposes</option>${purposes.map((p) => `<option>${p}</option>`).join('')}</select></label>
<output id="shown" aria-live="polite"></output>
</form>
<p class="legend"><span>✓ sent as is</span><span>◐ sent transformed</span><span>✕ not sent</span></p>
${matrices.map((m, i) => matrixTable(m, i, policy.resources.get(m.resource)!.routes)).join('\n')}
${sensitiveSection(policy)}
${accessSection(policy)}
<section aria-labelledby="flow"><h2 id="flow">How a request flows</h2><ol class="flow">${FLOW.map(([a, b]) => `<li><strong>${a}</strong>: ${b}</li>`).join('')}</ol></section>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
