import { type TProperties, Type } from '@sinclair/typebox'

/**
 * The schema of one plugin type: `type` fixed to its name plus its own keys, closed so an
 * unknown key is an error with a "did you mean".
 */
export function pluginObject<T extends TProperties>(type: string, properties: T, description: string) {
  return Type.Object({ type: Type.Literal(type), ...properties }, { additionalProperties: false, description })
}

/** A list of "Name:value" header strings, as in a location's headers_add. */
export const HeaderValueList = (description: string) => Type.Array(Type.String(), { default: [], description })
