/**
 * Long config work (validating or compiling thousands of locations) is written as a generator
 * that yields at safe points. The same steps run straight through (CLI, tests) or
 * cooperatively in a proxy, giving the event loop back whenever a time budget is spent so
 * requests are served between the steps.
 */
export type Steps<T> = Generator<void, T, void>

/** Runs every step at once and returns the result. */
export function runSteps<T>(steps: Steps<T>): T {
  let next = steps.next()
  while (!next.done) next = steps.next()
  return next.value
}

/** Runs the steps, yielding to the event loop each time `budgetMs` of work has been done. */
export async function runStepsCooperatively<T>(steps: Steps<T>, budgetMs = 5): Promise<T> {
  let sliceStart = performance.now()
  let next = steps.next()
  while (!next.done) {
    if (performance.now() - sliceStart >= budgetMs) {
      await new Promise((resolve) => setImmediate(resolve))
      sliceStart = performance.now()
    }
    next = steps.next()
  }
  return next.value
}
