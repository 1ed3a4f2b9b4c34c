// A MeshModel fed `objects` through a synced source, with every resource delta recorded: how the
// model tests start from a known cluster and watch what a change pushes.
import type { KubeObject } from '../../control-plane/kube/objects';
import { MeshModel } from '../../control-plane/model/mesh-model';
import type { ResourceDelta } from '../../control-plane/model/resource-store';
import type { SourceSink } from '../../control-plane/sources/source';

export function modelWith(objects: KubeObject[] = []): { model: MeshModel; sink: SourceSink; deltas: ResourceDelta[] } {
  const model = new MeshModel();
  const sink = model.sinkFor('test');
  const deltas: ResourceDelta[] = [];
  model.resources.subscribe((d) => deltas.push(d));
  sink.apply({ upsert: objects, remove: [] });
  sink.synced();
  return { model, sink, deltas };
}
