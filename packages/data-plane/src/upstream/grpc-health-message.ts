/**
 * The two tiny protobuf messages of grpc.health.v1, encoded and decoded by hand (a whole
 * protobuf runtime for one string and one enum would be the larger risk):
 *   message HealthCheckRequest  { string service = 1; }
 *   message HealthCheckResponse { ServingStatus status = 1; }  // UNKNOWN 0, SERVING 1, NOT_SERVING 2, SERVICE_UNKNOWN 3
 */

/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
export const SERVING = 1

/** HealthCheckRequest{service} as one uncompressed gRPC message frame (5-byte prefix). */
export function encodeHealthCheckFrame(service: string): Buffer {
  const name = Buffer.from(service, 'utf8')
  const fields = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name])
  const prefix = Buffer.alloc(5)
  prefix.writeUInt32BE(fields.length, 1)
  return Buffer.concat([prefix, fields])
}

/**
 * The serving status in a HealthCheckResponse message (frame payload, prefix removed): 0
 * (UNKNOWN) when the field is absent, as proto3 says; unknown fields are skipped. Throws on a
 * malformed message.
 */
export function decodeServingStatus(message: Buffer): number {
  let status = 0
  let at = 0
  while (at < message.length) {
    const [key, afterKey] = readVarint(message, at)
    const field = Math.floor(key / 8)
    const wire = key % 8
    at = afterKey
    if (wire === 0) {
      const [value, next] = readVarint(message, at)
      if (field === 1) status = value
      at = next
    } else if (wire === 2) {
      const [length, next] = readVarint(message, at)
      at = next + length
    } else if (wire === 1) at += 8
    else if (wire === 5) at += 4
    else throw new Error(`unsupported protobuf wire type ${wire}`)
    if (at > message.length) throw new Error('truncated HealthCheckResponse')
  }
  return status
}

function varint(n: number): Buffer {
  const bytes: number[] = []
  let rest = n
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80)
    rest = Math.floor(rest / 128)
  }
  bytes.push(rest)
  return Buffer.from(bytes)
}

/** A varint at `at` (up to 2^53, enough for tags, lengths and enums): [value, offset after it]. */
function readVarint(buf: Buffer, at: number): [number, number] {
  let value = 0
  let scale = 1
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const byte = buf[i] as number
    value += (byte & 0x7f) * scale
    if (byte < 0x80) return [value, i + 1]
    scale *= 128
  }
  throw new Error('truncated protobuf varint')
}
