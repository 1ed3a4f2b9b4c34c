/**
 * docs/reference/resources.md: every kind the control plane accepts, field by field, then the
 * shared object types and the value types fields link to.
 */
import { code, heading, link, table } from './markdown';
import type { ObjectSection, ResourceModel } from './resource-model';

export const RESOURCES_FILE = 'docs/reference/resources.md';

function renderSection(section: ObjectSection, level: number, facts?: string): string {
  const out = [heading(level, section.id, section.title)];
  if (section.description !== '') out.push(section.description);
  if (facts !== undefined) out.push(facts);
  if (section.rows.length === 0) {
    out.push('No fields.');
  } else {
    out.push(
      table(
        ['field', 'type', 'required', 'description'],
        section.rows.map((r) => [code(r.name), r.type, r.required ? 'yes' : '', r.description]),
      ),
    );
  }
  if (!section.closed) out.push('Fields not listed here are accepted.');
  return out.join('\n\n');
}

export function renderResources(model: ResourceModel, notice: string, schemaDir: string): string {
  const out: string[] = [
    notice,
    '# Resource reference',
    `Every kind the control plane accepts, with every field of its JSON schema (\`${schemaDir}/\`). ` +
      'A document is checked against its schema before it is used: a field that is not listed is refused ' +
      '(unless the object says otherwise), and the problem names the file, line and field ' +
      '([control-plane.md](../control-plane.md#validation-and-bad-input)). **required** marks fields the ' +
      'schema requires; defaults that the API defines are in the descriptions. Types link to the object ' +
      'or value type they name.',
    heading(2, 'kinds', 'Kinds'),
    table(
      ['kind', 'apiVersion', 'scope'],
      model.kinds.map((k) => [link(k.kind, model.kindSection(k.kind).id), k.apiVersions.map(code).join(', '), k.clusterScoped ? 'cluster' : 'namespaced']),
    ),
  ];
  for (const k of model.kinds) {
    const [own, ...nested] = model.sectionsOf(k.kind);
    const facts = `apiVersion ${k.apiVersions.map(code).join(', ')} · ${k.clusterScoped ? 'cluster-scoped' : 'namespaced'} · schema ${code(`${schemaDir}/${k.file}`)}`;
    out.push(renderSection(own, 2, facts));
    for (const s of nested) out.push(renderSection(s, 3));
  }
  out.push(heading(2, 'shared-object-types', 'Shared object types'));
  out.push('Objects defined once and used by several kinds.');
  for (const s of model.sectionsOf(undefined)) out.push(renderSection(s, 3));
  out.push(heading(2, 'value-types', 'Value types'));
  out.push('Named value types fields refer to, with the rule the schema checks.');
  out.push(
    table(
      ['type', 'base type', 'rule', 'description'],
      [...model.valueTypes.values()]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((v) => [`<a id="${v.id}"></a>${code(v.name)}`, v.type, v.constraints, v.description]),
    ),
  );
  return `${out.join('\n\n')}\n`;
}
