export { compileRouter, createRouterBuilder, type RouterBuilder } from './compile-router.ts'
export type { Route, RouteRequest, Router } from './types.ts'
