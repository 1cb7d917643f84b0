"""SCIM 2.0 (RFC 7643/7644) at /scim/v2: an identity provider (Entra ID, Okta) keeps the host directory (issue 12)."""
