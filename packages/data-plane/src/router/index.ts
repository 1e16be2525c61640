export { compileRouter } from './compile-router.ts'
export type { Route, RouteRequest, Router } from './types.ts'
