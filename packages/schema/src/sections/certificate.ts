import { type Static, Type } from '@sinclair/typebox'

/** `[certificates.NAME]`: a certificate picked by SNI. */
export const CertificateSchema = Type.Object(
  {
    domains: Type.Array(Type.String(), { default: [] }),
    tls_cert: Type.Optional(Type.String({ description: 'PEM inline or a path' })),
    tls_key: Type.Optional(Type.String({ description: 'PEM inline or a path' })),
    tls_chain: Type.Optional(
      Type.String({ description: 'intermediate certificates sent after the leaf, PEM inline or a path (or append them to tls_cert)' }),
    ),
    is_default: Type.Boolean({ default: false }),
    acme: Type.Optional(
      Type.String({
        pattern: '^(lets_encrypt|https?://\\S+)$',
        description: '"lets_encrypt" or an RFC 8555 directory URL: issue and renew this certificate over ACME (HTTP-01)',
      }),
    ),
    acme_email: Type.Optional(
      Type.String({ pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', description: 'ACME account contact (an e-mail address; sent as mailto:)' }),
    ),
    acme_renew_before: Type.Optional(
      Type.String({
        format: 'duration',
        description: 'ACME: renew when the certificate expires within this time (default "720h", 30 days)',
      }),
    ),
  },
  { additionalProperties: false },
)

export type CertificateConfig = Static<typeof CertificateSchema>
