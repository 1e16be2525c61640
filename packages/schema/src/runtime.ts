/**
 * The light part of the schema package, for the proxy's main thread: parsers of config
 * values, hashing and the store layout, without the validator (Ajv) or the schemas (TypeBox).
 * Types come from the main entry with `import type`.
 */
export * from './addr.ts'
export * from './algorithm.ts'
export * from './cache-purge.ts'
export * from './canonical.ts'
export * from './cidr.ts'
export * from './did-you-mean.ts'
export * from './errors.ts'
export * from './health-check.ts'
export * from './kinds.ts'
export * from './matchers.ts'
export * from './steps.ts'
export * from './store-layout.ts'
export * from './stored-records.ts'
export * from './tls.ts'
export * from './toml.ts'
export * from './units.ts'
