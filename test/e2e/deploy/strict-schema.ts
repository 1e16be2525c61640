// Offline validation of Kubernetes objects against their OpenAPI schemas (kubernetes-models),
// made strict: the package's validators ignore keys the schema does not define, so a typo such
// as `imagePullPolicyy` would pass. Each object is validated through a Proxy that records every
// key the validator reads; a key it never read is not in the schema and is reported as unknown.
import type { Manifest } from './kustomize-build.ts'

type Validatable = { prototype: { validate(this: unknown): void } }

/** `kubernetes-models` module path of a kind: core v1 is "v1/Kind", others "group/version/Kind". */
function modelPath(apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion}/${kind}`
}

/** Loads the model class of `apiVersion`/`kind`; throws for a kind the package does not know. */
async function modelOf(apiVersion: string, kind: string): Promise<Validatable> {
  const mod = (await import(modelPath(apiVersion, kind)).catch(() => ({}))) as Record<string, Validatable>
  const model = mod[kind]
  if (model === undefined) throw new Error(`unknown kind ${apiVersion} ${kind}`)
  return model
}

function tracked(value: unknown, path: string, read: Set<string>): unknown {
  if (value === null || typeof value !== 'object') return value
  return new Proxy(value, {
    get(target, key, receiver) {
      const child = `${path}/${String(key)}`
      if (typeof key === 'string' && Object.hasOwn(target, key)) read.add(child)
      return tracked(Reflect.get(target, key, receiver), child, read)
    },
  })
}

function allKeys(value: unknown, path: string, out: string[] = []): string[] {
  if (value === null || typeof value !== 'object') return out
  for (const [key, child] of Object.entries(value)) {
    out.push(`${path}/${key}`)
    allKeys(child, `${path}/${key}`, out)
  }
  return out
}

/**
 * Validates `manifest` against the schema of its kind; resolves with every problem found
 * ("<kind>/<name>: <message>"), schema errors and unknown keys alike (empty when valid).
 */
export async function schemaProblems(manifest: Manifest): Promise<string[]> {
  const where = `${manifest.kind}/${manifest.metadata?.name}`
  let model: Validatable
  try {
    model = await modelOf(manifest.apiVersion, manifest.kind)
  } catch (err) {
    return [`${where}: ${(err as Error).message}`]
  }
  const read = new Set<string>()
  const problems: string[] = []
  try {
    model.prototype.validate.call(tracked(manifest, '', read))
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`)
  }
  for (const key of allKeys(manifest, '')) if (!read.has(key)) problems.push(`${where}: unknown field ${key}`)
  return problems
}
