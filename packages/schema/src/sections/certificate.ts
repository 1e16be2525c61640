import { type Static, Type } from '@sinclair/typebox'

/** `[certificates.NAME]`: a certificate picked by SNI. */
export const CertificateSchema = Type.Object(
  {
    domains: Type.Array(Type.String(), { default: [] }),
    tls_cert: Type.Optional(Type.String({ description: 'PEM inline or a path' })),
    tls_key: Type.Optional(Type.String({ description: 'PEM inline or a path' })),
    is_default: Type.Boolean({ default: false }),
    acme: Type.Optional(Type.String({ description: '"lets_encrypt" or an RFC 8555 directory URL' })),
    acme_email: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)

export type CertificateConfig = Static<typeof CertificateSchema>
