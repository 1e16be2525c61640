import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type FlagSpec, parseFlags } from '../src/args.ts'

const specs: Record<string, FlagSpec> = {
  token: { type: 'string', help: 'API token' },
  file: { type: 'string', short: 'f', help: 'file' },
  json: { type: 'boolean', help: 'JSON output' },
}

const cases: Array<[string, string[], Record<string, unknown>, string[]]> = [
  ['a value starting with "-" after a string flag', ['--token', '-Abc_123', 'get'], { token: '-Abc_123' }, ['get']],
  ['a value starting with "-" after a short flag', ['-f', '-x.toml'], { file: '-x.toml' }, []],
  ['"-" as a value (stdin)', ['-f', '-'], { file: '-' }, []],
  ['the --flag=VALUE form', ['--token=-Abc'], { token: '-Abc' }, []],
  ['a flag after "--" as a positional', ['--', '--token', '-x'], {}, ['--token', '-x']],
]

for (const [what, argv, flags, positionals] of cases) {
  test(`parseFlags takes ${what}`, () => {
    const parsed = parseFlags(argv, specs, {})
    assert.deepEqual({ ...parsed.flags }, flags)
    assert.deepEqual(parsed.positionals, positionals)
  })
}

test('parseFlags still refuses a string flag whose value is missing (the next word is a flag)', () => {
  assert.throws(() => parseFlags(['--token', '--json'], specs, {}), /ambiguous|argument missing/)
})
