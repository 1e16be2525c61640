import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { describe, test } from 'node:test'
import { GatewayError } from '../../src/errors.ts'
import { Base64DecodeStream, Base64Encoder, encodeTrailerFrame, FrameTracker, grpcWebMode } from '../../src/proxy/grpc-web-codec.ts'

/** Pushes `chunks` through a decoder; the decoded bytes, or the error it failed with. */
async function decode(chunks: string[]): Promise<Buffer | Error> {
  try {
    const out: Buffer[] = []
    for await (const part of Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))).pipe(new Base64DecodeStream())) out.push(part)
    return Buffer.concat(out)
  } catch (err) {
    return err as Error
  }
}

describe('grpcWebMode', () => {
  const cases: Array<[string | undefined, ReturnType<typeof grpcWebMode>]> = [
    ['application/grpc-web', { text: false, webType: 'application/grpc-web', grpcType: 'application/grpc' }],
    ['application/grpc-web+proto', { text: false, webType: 'application/grpc-web+proto', grpcType: 'application/grpc+proto' }],
    ['application/grpc-web-text', { text: true, webType: 'application/grpc-web-text', grpcType: 'application/grpc' }],
    [
      'Application/GRPC-Web-Text+proto; charset=utf-8',
      { text: true, webType: 'application/grpc-web-text+proto', grpcType: 'application/grpc+proto' },
    ],
    ['application/grpc', undefined],
    ['application/grpc+proto', undefined],
    ['application/grpc-webby', undefined],
    ['application/json', undefined],
    [undefined, undefined],
  ]
  for (const [input, expected] of cases) {
    test(`maps ${JSON.stringify(input)}`, () => assert.deepEqual(grpcWebMode(input), expected))
  }
})

describe('encodeTrailerFrame', () => {
  test('writes flag 0x80, a big-endian length and lower-case "name: value" lines', () => {
    const frame = encodeTrailerFrame([
      ['Grpc-Status', '3'],
      ['grpc-message', 'bad%20thing'],
    ])
    const block = 'grpc-status: 3\r\ngrpc-message: bad%20thing\r\n'
    assert.equal(frame[0], 0x80)
    assert.equal(frame.readUInt32BE(1), block.length)
    assert.equal(frame.subarray(5).toString('latin1'), block)
  })

  test('an empty trailer block is a 5-byte frame of length 0', () => {
    assert.deepEqual(encodeTrailerFrame([]), Buffer.from([0x80, 0, 0, 0, 0]))
  })
})

describe('Base64Encoder', () => {
  test('without flush, streams whole 3-byte groups and pads only at the end, whatever the chunking', () => {
    const data = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 37) & 0xff))
    for (const size of [1, 2, 3, 4, 5, 7, 64, 100]) {
      const encoder = new Base64Encoder()
      let out = ''
      for (let i = 0; i < 90; i += size) {
        const piece = encoder.encode(data.subarray(i, Math.min(i + size, 90)), false).toString('latin1')
        assert.equal(piece.length % 4, 0, 'every piece decodes on its own')
        assert.ok(!piece.includes('='), 'no padding mid-stream')
        out += piece
      }
      out += encoder.finish(data.subarray(90)).toString('latin1')
      assert.equal(out, data.toString('base64'), `chunks of ${size}`)
    }
  })

  test('a flush sends everything held, padded', () => {
    const encoder = new Base64Encoder()
    assert.equal(encoder.encode(Buffer.from([1]), false).length, 0, 'less than a group waits')
    assert.equal(encoder.encode(Buffer.from([2]), true).toString('latin1'), Buffer.from([1, 2]).toString('base64'))
    assert.equal(encoder.finish(Buffer.from([3])).toString('latin1'), Buffer.from([3]).toString('base64'))
  })
})

describe('FrameTracker', () => {
  const body = Buffer.concat([
    Buffer.from([0, 0, 0, 0, 3]),
    Buffer.from('abc'),
    Buffer.from([0, 0, 0, 0, 0]),
    Buffer.from([0x80, 0, 0, 0, 1, 0x41]),
  ])
  const ends = new Set([8, 13, 19])

  test('reports a boundary exactly where a frame ends, for every split of the body', () => {
    for (let cut = 1; cut < body.length; cut++) {
      const tracker = new FrameTracker()
      assert.equal(tracker.advance(body.subarray(0, cut)), ends.has(cut), `cut at ${cut}`)
      assert.equal(tracker.advance(body.subarray(cut)), true)
    }
  })

  test('byte by byte', () => {
    const tracker = new FrameTracker()
    for (let i = 0; i < body.length; i++) assert.equal(tracker.advance(body.subarray(i, i + 1)), ends.has(i + 1), `after byte ${i + 1}`)
  })
})

describe('Base64DecodeStream', () => {
  const message = Buffer.from([0, 0, 0, 0, 4, 10, 2, 104, 105])

  test('decodes a body split at every possible point', async () => {
    const b64 = message.toString('base64')
    for (let cut = 0; cut <= b64.length; cut++) {
      assert.deepEqual(await decode([b64.slice(0, cut), b64.slice(cut)]), message, `cut at ${cut}`)
    }
  })

  test('decodes runs padded on their own, one after another (padding mid-body)', async () => {
    const runs = [Buffer.from('a'), Buffer.from('bc'), Buffer.from('def'), Buffer.from('g')]
    const body = runs.map((r) => r.toString('base64')).join('')
    assert.match(body, /=.+=/, 'the fixture has padding in the middle')
    assert.deepEqual(await decode([body]), Buffer.from('abcdefg'))
    assert.deepEqual(await decode(body.split('')), Buffer.from('abcdefg'), 'one character per chunk')
  })

  test('ignores whitespace and line breaks', async () => {
    const b64 = message.toString('base64')
    assert.deepEqual(await decode([`${b64.slice(0, 5)}\r\n ${b64.slice(5)}\n`]), message)
  })

  const bad: Array<[string, string[]]> = [
    ['a character outside the alphabet', ['AAAA*AAA']],
    ['URL-safe characters', ['AA-_']],
    ['padding in the middle of a quad', ['A=AA']],
    ['three padding characters', ['A===']],
    ['a truncated last quad', ['AAAAAA']],
  ]
  for (const [what, chunks] of bad) {
    test(`refuses ${what} with BAD_REQUEST`, async () => {
      const err = await decode(chunks)
      assert.ok(err instanceof GatewayError, `got ${err}`)
      assert.equal(err.code, 'BAD_REQUEST')
    })
  }

  test('an empty body decodes to nothing', async () => {
    assert.deepEqual(await decode([]), Buffer.alloc(0))
    assert.equal(await text(Readable.from([]).pipe(new Base64DecodeStream())), '')
  })
})
