export * from './ports.ts'
export * from './process.ts'
export * from './wait.ts'
