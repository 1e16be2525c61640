// deploy/k8s checked offline: the kustomize base, the example overlay and the etcd auth Job are
// built, every object is validated strictly against its Kubernetes schema, and the properties
// the deployment relies on (probes, drain, node id, cache, security) are asserted.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { parseAllDocuments } from 'yaml'
import { kustomizeBuild, type Manifest } from './kustomize-build.ts'
import { schemaProblems } from './strict-schema.ts'

const root = new URL('../../../', import.meta.url).pathname
const k8s = join(root, 'deploy/k8s')
const builds = { base: 'base', example: 'overlays/example', 'etcd-auth': 'etcd-auth' }

// biome-ignore lint/suspicious/noExplicitAny: manifests are read as arbitrary JSON
type Any = any

function find(all: Manifest[], kind: string, name: string): Any {
  const found = all.find((m) => m.kind === kind && m.metadata.name === name)
  assert.ok(found, `${kind}/${name} missing`)
  return found
}

function container(all: Manifest[], deployment: string): Any {
  return find(all, 'Deployment', deployment).spec.template.spec.containers[0]
}

describe('kubernetes manifests', () => {
  for (const [label, dir] of Object.entries(builds)) {
    test(`every object of the ${label} build is valid against its schema`, async () => {
      const all = kustomizeBuild(join(k8s, dir))
      assert.ok(all.length > 0)
      const problems = (await Promise.all(all.map((m) => schemaProblems(m)))).flat()
      assert.deepEqual(problems, [])
    })
  }

  test('a typo in a field name is reported as an unknown field', async () => {
    const all = kustomizeBuild(join(k8s, 'base'))
    const deployment = structuredClone(find(all, 'Deployment', 'fleetgate-data-plane'))
    deployment.spec.template.spec.containers[0].readinessProbe.httpGett = { path: '/readyz', port: 'status' }
    const problems = await schemaProblems(deployment)
    assert.ok(
      problems.some((p) => p.includes('unknown field /spec/template/spec/containers/0/readinessProbe/httpGett')),
      problems.join('\n'),
    )
  })

  test('a value of the wrong type is reported', async () => {
    const all = kustomizeBuild(join(k8s, 'base'))
    const hpa = structuredClone(find(all, 'HorizontalPodAutoscaler', 'fleetgate-data-plane'))
    hpa.spec.minReplicas = 'two'
    assert.notDeepEqual(await schemaProblems(hpa), [])
  })

  test('data planes probe /livez and /readyz, drain in preStop and take their node id from the pod name', () => {
    const proxy = container(kustomizeBuild(join(k8s, 'base')), 'fleetgate-data-plane')
    assert.equal(proxy.livenessProbe.httpGet.path, '/livez')
    assert.equal(proxy.readinessProbe.httpGet.path, '/readyz')
    assert.ok(proxy.lifecycle.preStop, 'preStop hook')
    const nodeId = proxy.env.find((e: Any) => e.name === 'FLEETGATE_NODE_ID')
    assert.equal(nodeId.valueFrom.fieldRef.fieldPath, 'metadata.name')
    const cache = proxy.env.find((e: Any) => e.name === 'FLEETGATE_CACHE_FILE').value as string
    const mount = proxy.volumeMounts.find((v: Any) => cache.startsWith(`${v.mountPath}/`))
    assert.ok(mount, 'cache file on a mounted volume')
    const pod = find(kustomizeBuild(join(k8s, 'base')), 'Deployment', 'fleetgate-data-plane').spec.template.spec
    assert.ok(pod.volumes.find((v: Any) => v.name === mount.name).emptyDir, 'cache volume is an emptyDir')
  })

  test('every fleetgate and etcd container runs non-root, read-only, with requests and limits', () => {
    const all = kustomizeBuild(join(k8s, 'base'))
    const pods = all.filter((m) => ['Deployment', 'StatefulSet'].includes(m.kind)).map((m: Any) => m.spec.template.spec)
    assert.equal(pods.length, 3)
    for (const pod of pods) {
      assert.equal(pod.securityContext.runAsNonRoot, true)
      for (const c of pod.containers) {
        assert.equal(c.securityContext.readOnlyRootFilesystem, true, c.name)
        assert.equal(c.securityContext.allowPrivilegeEscalation, false, c.name)
        assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, c.name)
      }
    }
  })

  test('the base has etcd with 3 members, PDBs, an HPA and the control plane with its token Secret', () => {
    const all = kustomizeBuild(join(k8s, 'base'))
    assert.equal(find(all, 'StatefulSet', 'fleetgate-etcd').spec.replicas, 3)
    assert.equal(find(all, 'Service', 'fleetgate-etcd').spec.clusterIP, 'None')
    find(all, 'PodDisruptionBudget', 'fleetgate-etcd')
    find(all, 'PodDisruptionBudget', 'fleetgate-data-plane')
    assert.equal(find(all, 'HorizontalPodAutoscaler', 'fleetgate-data-plane').spec.scaleTargetRef.name, 'fleetgate-data-plane')
    assert.equal(find(all, 'Service', 'fleetgate-control-plane').spec.type, 'ClusterIP')
    const cp = container(all, 'fleetgate-control-plane')
    assert.equal(cp.readinessProbe.httpGet.path, '/readyz')
    assert.equal(cp.livenessProbe.httpGet.path, '/livez')
    const secret = find(all, 'Secret', 'fleetgate-admin-token')
    const volume = find(all, 'Deployment', 'fleetgate-control-plane').spec.template.spec.volumes.find((v: Any) => v.secret)
    assert.equal(volume.secret.secretName, secret.metadata.name)
  })

  test('the example overlay sets the namespace, the image and its patches', () => {
    const all = kustomizeBuild(join(k8s, 'overlays/example'))
    for (const m of all.filter((x) => x.kind !== 'Namespace'))
      assert.equal(m.metadata.namespace, 'fleetgate', `${m.kind}/${m.metadata.name}`)
    assert.equal(container(all, 'fleetgate-data-plane').image, 'registry.example.com/fleetgate:0.1.0')
    assert.equal(find(all, 'Deployment', 'fleetgate-data-plane').spec.replicas, 3)
    assert.equal(find(all, 'Service', 'fleetgate-data-plane').spec.type, 'LoadBalancer')
    assert.equal(find(all, 'ConfigMap', 'fleetgate').data.FLEETGATE_CLUSTER, 'edge-eu')
    assert.ok(container(all, 'fleetgate-data-plane').livenessProbe, 'patch keeps the base container fields')
  })

  const kubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim()
  test('kubectl kustomize, where installed, builds the same objects', { skip: kubectl === '' && 'kubectl is not installed' }, () => {
    for (const dir of Object.values(builds)) {
      const run = spawnSync(kubectl, ['kustomize', join(k8s, dir)], { encoding: 'utf8', timeout: 30_000 })
      assert.equal(run.status, 0, run.stderr)
      const theirs = parseAllDocuments(run.stdout).map((d) => d.toJS() as Manifest)
      const ours = kustomizeBuild(join(k8s, dir))
      const ids = (all: Manifest[]) => all.map((m) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`).sort()
      assert.deepEqual(ids(ours), ids(theirs))
      assert.deepEqual(JSON.parse(JSON.stringify(sortKeys(ours))), JSON.parse(JSON.stringify(sortKeys(theirs))))
    }
  })
})

/** Objects sorted by identity with keys in order, so two builds compare equal whatever their order. */
function sortKeys(all: Manifest[]): unknown {
  const norm = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(norm)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort()
              .map(([k, x]) => [k, norm(x)]),
          )
        : v
  return [...all].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`)).map(norm)
}
