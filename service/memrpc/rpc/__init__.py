"""RPC plumbing shared by the servicers (`api/`) and the interceptors
(`auth/`), and free of either: statuses with details and the decorator that
translates failures into them (`errors`), rebuilding method handlers for
interceptors (`handlers`), the interceptor that answers undecodable request
bytes (`decoding`), the interceptor that gives unary calls without a
deadline the server's default (`deadline`), the correlation id of each call
(`correlation`), the checks of request fields (`validate`), the namespace
rule among them, who is calling (`caller`), and the interceptor that keeps
one tenant from starving the others (`fairness`, on `tenant_quotas`)."""
