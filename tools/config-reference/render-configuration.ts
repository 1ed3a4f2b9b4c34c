/**
 * docs/reference/configuration.md: the settings of each process, then the resource kinds with a
 * link each to its fields in resources.md.
 */
import { code, heading, link, table, text } from './markdown';
import type { ResourceModel } from './resource-model';
import type { ProcessSettings, SettingRow } from './settings-model';

export const CONFIGURATION_FILE = 'docs/reference/configuration.md';

const defaultCell = (r: SettingRow): string => (r.default === undefined ? '**required**' : r.default === '' ? '(empty)' : code(r.default));

function renderProcess(p: ProcessSettings): string {
  return [
    heading(3, p.id, p.title),
    `Run as ${p.commands.map(code).join(' or ')} (\`--help\` lists the same settings). Declared in ${code(p.source)}; ` +
      `more in [${p.doc}](../${p.doc}).`,
    table(
      ['flag', 'environment variable', 'default', 'accepts', 'description'],
      p.rows.map((r) => [code(r.flag), code(r.env), defaultCell(r), r.accepts === undefined ? 'not checked' : text(r.accepts), text(r.help) + (r.shared ? ' (shared)' : '')]),
    ),
  ].join('\n\n');
}

export function renderConfiguration(processes: readonly ProcessSettings[], model: ResourceModel, notice: string, resourcesLink: string): string {
  const out: string[] = [
    notice,
    '# Configuration reference',
    'Ambit is configured in two places: each process (node agent, waypoint, control plane) has settings, ' +
      'given as flags or environment variables; and the mesh itself is described by Kubernetes resources ' +
      '(Pods, Services, Istio policies, Gateway API routes) that the control plane reads and pushes to the ' +
      'data plane.',
    heading(2, 'process-settings', 'Process settings'),
    'A flag overrides its environment variable, which overrides the default; an environment variable set ' +
      'to the empty string counts as unset. Every value is checked at start: a missing or bad one stops the ' +
      'process with exit status 2 and a message naming the setting, the value and what to use ' +
      '(`AMBIT_ERR_AGENT_OPTION`, `AMBIT_ERR_WAYPOINT_OPTION`, `AMBIT_ERR_INVALID_OPTION`). ' +
      '**accepts** is what the setting\'s own check asks for; *not checked* means any value is taken as ' +
      'written. Settings marked *(shared)* are declared once for the agent and the waypoint ' +
      '(`common/settings/data-plane-settings.ts`).',
    ...processes.map(renderProcess),
    heading(2, 'resource-kinds', 'Resource kinds'),
    `Every kind the control plane accepts; each links to its fields in [resources.md](${resourcesLink}).`,
    table(
      ['kind', 'apiVersion', 'what it is'],
      model.kinds.map((k) => [link(k.kind, model.kindSection(k.kind).id, resourcesLink), k.apiVersions.map(code).join(', '), model.kindSection(k.kind).description]),
    ),
  ];
  return `${out.join('\n\n')}\n`;
}
