import { BlockList, isIP } from 'node:net'

/** Builds a BlockList from IPs and CIDRs ("10.0.0.0/8", "::1"); throws naming the bad entry. */
export function parseCidrList(entries: readonly string[]): BlockList {
  const list = new BlockList()
  for (const entry of entries) {
    const [ip = '', bits] = entry.trim().split('/')
    const family = isIP(ip)
    if (family === 0) throw new Error(`invalid IP or CIDR "${entry}"`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) {
      list.addAddress(ip, type)
      continue
    }
    const prefix = Number(bits)
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
      throw new Error(`invalid prefix length in "${entry}"`)
    }
    list.addSubnet(ip, prefix, type)
  }
  return list
}
