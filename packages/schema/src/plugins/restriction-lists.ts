import { Type } from '@sinclair/typebox'

/** `allow` and `deny` lists shared by the restriction plugins. */
export const restrictionLists = (what: string) => ({
  allow: Type.Array(Type.String(), { default: [], description: `${what} allowed; when not empty, everything else is refused` }),
  deny: Type.Array(Type.String(), { default: [], description: `${what} refused (checked first)` }),
  message: Type.String({ default: 'forbidden', description: 'message of the 403 answer' }),
})
