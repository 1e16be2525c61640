import basicAuth from './basic-auth.ts'
import cache from './cache.ts'
import compression from './compression.ts'
import cors from './cors.ts'
import csrf from './csrf.ts'
import ipRestriction from './ip-restriction.ts'
import jwt from './jwt.ts'
import keyAuth from './key-auth.ts'
import limit from './limit.ts'
import mock from './mock.ts'
import ping from './ping.ts'
import redirect from './redirect.ts'
import refererRestriction from './referer-restriction.ts'
import { createPluginRegistry, type PluginRegistry } from './registry.ts'
import requestId from './request-id.ts'
import requestSizeLimit from './request-size-limit.ts'
import responseHeaders from './response-headers.ts'
import rewrite from './rewrite.ts'
import securityHeaders from './security-headers.ts'
import type { PluginDefinition } from './types.ts'
import uaRestriction from './ua-restriction.ts'

/** Every built-in plugin type, one line each. */
export const BUILTIN_PLUGINS: readonly PluginDefinition[] = [
  requestId,
  ping,
  redirect,
  requestSizeLimit,
  securityHeaders,
  cors,
  csrf,
  ipRestriction,
  refererRestriction,
  uaRestriction,
  basicAuth,
  jwt,
  keyAuth,
  limit,
  responseHeaders,
  cache,
  compression,
  rewrite,
  mock,
] as PluginDefinition[]

let builtin: PluginRegistry | undefined

/** The registry of built-in plugins, checked (unique names and priorities) on first use at start-up. */
export function builtinRegistry(): PluginRegistry {
  builtin ??= createPluginRegistry(BUILTIN_PLUGINS)
  return builtin
}
