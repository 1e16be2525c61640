// The subset of `kustomize build` the manifests in deploy/k8s use, so CI can check the built
// output offline without kubectl: resources (files and folders), namespace, images, and patches
// given by path (strategic merge: maps merge, lists of named items merge by name).
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'

/** One Kubernetes object as parsed from YAML. */
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>

type Kustomization = {
  resources?: string[]
  namespace?: string
  images?: { name: string; newName?: string; newTag?: string }[]
  patches?: { path: string }[]
} & Record<string, unknown>

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches'])
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass'])

/** Parses every document of a YAML file (aliases resolved); throws on a YAML error. */
export function readManifests(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`)
    const value = doc.toJS({ maxAliasCount: 1000 }) as Manifest | null
    return value === null ? [] : [value]
  })
}

/** Builds the kustomization in `dir`; throws on a field this subset does not handle. */
export function kustomizeBuild(dir: string): Manifest[] {
  const [k] = readManifests(join(dir, 'kustomization.yaml')) as unknown as Kustomization[]
  if (k === undefined) throw new Error(`${dir}: empty kustomization.yaml`)
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key))
  if (unsupported.length > 0) throw new Error(`${dir}: kustomization fields not handled here: ${unsupported.join(', ')}`)
  let out = (k.resources ?? []).flatMap((r) => {
    const path = join(dir, r)
    return statSync(path).isDirectory() ? kustomizeBuild(path) : readManifests(path)
  })
  for (const patch of k.patches ?? []) for (const p of readManifests(join(dir, patch.path))) out = applyPatch(out, p, patch.path)
  for (const m of out) {
    if (k.namespace !== undefined && !CLUSTER_SCOPED.has(m.kind)) m.metadata.namespace = k.namespace
    for (const image of k.images ?? []) setImages(m, image)
  }
  return out
}

function applyPatch(all: Manifest[], patch: Manifest, from: string): Manifest[] {
  const i = all.findIndex((m) => m.kind === patch.kind && m.metadata.name === patch.metadata.name)
  if (i < 0) throw new Error(`${from}: no ${patch.kind} "${patch.metadata.name}" to patch`)
  return all.map((m, j) => (j === i ? (merge(m, patch) as Manifest) : m))
}

/** Strategic merge as kustomize does it for the built-in kinds' common cases. */
function merge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch) && patch.every((p) => typeof p?.name === 'string')) {
    const result = base.map((b) => {
      const p = patch.find((x) => x.name === b?.name)
      return p === undefined ? b : merge(b, p)
    })
    return [...result, ...patch.filter((p) => !base.some((b) => b?.name === p.name))]
  }
  if (isMap(base) && isMap(patch)) {
    const result: Record<string, unknown> = { ...base }
    for (const [key, value] of Object.entries(patch)) result[key] = key in base ? merge(base[key], value) : value
    return result
  }
  return patch
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Rewrites `image: NAME[:tag]` of every container as kustomize's images transformer does. */
function setImages(m: Manifest, image: { name: string; newName?: string; newTag?: string }): void {
  const spec = (m.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec
  for (const list of ['containers', 'initContainers']) {
    for (const c of (spec?.[list] as { image?: string }[] | undefined) ?? []) {
      const [name, tag] = (c.image ?? '').split(':')
      if (name !== image.name) continue
      c.image = `${image.newName ?? name}${(image.newTag ?? tag) ? `:${image.newTag ?? tag}` : ''}`
    }
  }
}
